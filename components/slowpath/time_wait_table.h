// TimeWaitTable: 4-tuples of connections we closed first, held for 2*MSL after the flow left
// the fast path (RFC 9293 3.6.1), so old duplicates cannot corrupt a new incarnation of the
// tuple, and a peer whose last ACK got lost can still finish (its FIN is answered with an
// ACK). Bounded: when full, a new entry is refused and counted (Linux tcp_max_tw_buckets);
// the tuple then simply is free again, which is what TAS always did.
//
// time_wait_answer() is the pure decision for a segment that hits an entry. The conn actor
// owns the table, sends the answers and persists the records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "components/slowpath/conn_registry.h"
#include "components/slowpath/four_tuple.h"
#include "components/slowpath/registry_layout.h"
#include "components/slowpath/segment.h"

namespace vtas::conn {

struct TimeWaitEntry {
  TimeWaitRecord record{};
  SlotId slot = kNoSlot;
};

FourTuple tuple_of(const TimeWaitRecord& record);

class TimeWaitTable {
 public:
  explicit TimeWaitTable(size_t capacity) : capacity_(capacity) {}

  bool full() const { return by_tuple_.size() >= capacity_; }
  size_t size() const { return by_tuple_.size(); }

  // Adds (or replaces) the entry for the record's tuple. False when the table is full.
  bool add(const TimeWaitRecord& record, SlotId slot);
  TimeWaitEntry* find(const FourTuple& tuple);
  std::optional<TimeWaitEntry> remove(const FourTuple& tuple);
  // Moves an entry's expiry (a retransmitted FIN restarts the 2*MSL wait).
  void set_expiry(const FourTuple& tuple, uint64_t expires_ns);
  // Removes and returns every entry expired at `now_ns`, oldest first.
  std::vector<TimeWaitEntry> expire(uint64_t now_ns);
  std::optional<uint64_t> next_expiry() const;

 private:
  size_t capacity_;
  std::unordered_map<FourTuple, TimeWaitEntry, FourTupleHash> by_tuple_;
  std::multimap<uint64_t, FourTuple> by_expiry_;
};

// What to do with a segment for a tuple in TIME_WAIT (RFC 9293 3.10.7.4, RFC 1337, RFC 6191,
// Linux tcp_timewait_state_process).
enum class TimeWaitAction : uint8_t {
  kIgnore,         // RSTs (RFC 1337: no assassination), segments without ACK
  kAck,            // answer with <SEQ=snd_nxt><ACK=rcv_nxt> (any acceptable-or-not segment)
  kAckAndRestart,  // a retransmitted FIN: ACK it and restart the 2*MSL wait
  kReopen,         // a provably newer SYN: drop the entry and treat the SYN as new
};

struct TimeWaitAnswer {
  TimeWaitAction action = TimeWaitAction::kIgnore;
  uint32_t seq = 0;  // for the ACK
  uint32_t ack = 0;
};

TimeWaitAnswer time_wait_answer(const TimeWaitRecord& entry, const Segment& segment,
                                bool accept_newer_syn);

}  // namespace vtas::conn
