// SynReceivedTable: passive opens in SYN-RECEIVED, i.e. SYNs conn answered with a SYN-ACK
// whose third ACK has not come yet. Nothing of such a connection exists outside conn: no
// flow in the fast path, no app buffers, no notification to the app; the entry only lets the
// third ACK find the ISN we chose and the SYN's options, and drives SYN-ACK retransmission.
//
// Bounded per listener (the listener's backlog) and in total (ConnConfig::syn_queue_limit):
// a SYN that finds its listener's share full is answered with a SYN cookie instead
// (syn_cookie.h), so a SYN flood costs at most `limit` entries. The conn actor writes each
// entry through to its registry (HandshakeRecord), so a restarted conn still completes the
// handshake. Pure data structure, used by the conn actor.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "components/slowpath/four_tuple.h"
#include "components/slowpath/listener_table.h"

namespace vtas::conn {

struct HalfOpen {
  BacklogSyn syn;            // the peer's SYN (syn.local_isn = our ISN)
  uint32_t listener_id = 0;  // the listener it was counted against
  uint32_t retransmits = 0;  // SYN-ACKs sent again so far
  Nanos rto{};               // wait before the next retransmission
  uint64_t generation = 0;   // identifies the entry's current timer
  TimePoint deadline{};      // when that timer fires
};

class SynReceivedTable {
 public:
  explicit SynReceivedTable(uint32_t total_limit) : total_limit_(total_limit) {}

  enum class Add { kAdded, kListenerFull, kTableFull };
  // Adds `entry` (its tuple must not be in the table) unless its listener already holds
  // `listener_limit` entries or the table holds total_limit.
  Add add(const HalfOpen& entry, uint32_t listener_limit);
  HalfOpen* find(const FourTuple& tuple);
  // Removes the entry of `tuple`; false if there was none.
  bool remove(const FourTuple& tuple);
  // Removes every entry of `listener_id` (the listener closed) and returns them.
  std::vector<HalfOpen> remove_listener(uint32_t listener_id);
  void for_each(const std::function<void(const HalfOpen&)>& fn) const;

  size_t count_of(uint32_t listener_id) const;
  size_t size() const { return entries_.size(); }

 private:
  uint32_t total_limit_;
  std::unordered_map<FourTuple, HalfOpen, FourTupleHash> entries_;
  std::unordered_map<uint32_t, size_t> per_listener_;
};

}  // namespace vtas::conn
