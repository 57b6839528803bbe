// ConnRegistry: the file-backed shared-memory region (registry_layout.h) where the conn actor
// keeps everything a restarted conn needs. The actor writes through on every change (one
// record copy and a checksum, no system call) and reads it all back once in on_start().
// Only the conn actor uses it; tests use it directly.
//
// Robustness: a registry that does not check out (wrong magic, kind, version, sizes) is
// replaced by a fresh one and the reason is reported; a slot whose copies both fail their
// checksum is dropped and counted, never trusted; the actor validates the meaning of each
// record it loads (registry_validation.h) before using it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "components/slowpath/registry_layout.h"
#include "runtime/result.h"
#include "runtime/shm/region.h"

namespace vtas::conn {

using SlotId = uint32_t;
inline constexpr SlotId kNoSlot = UINT32_MAX;

struct RegistryCapacity {
  uint32_t apps = 1024;
  uint32_t listeners = 4096;
  uint32_t accepts = 16384;
  uint32_t conns = 131072;      // as many as the fast path's flow table (FastPathConfig::max_flows)
  uint32_t time_wait = 131072;
  uint32_t request_log = 4096;
  // Passive handshakes: SYN-RECEIVED entries plus completed ones waiting for an accept, each
  // bounded by ConnConfig::syn_queue_limit (16384). Beyond it an entry lives in memory only.
  uint32_t handshakes = 32768;
};

// Every capacity within 1..kMaxRegistry*; the message names the first bad one.
Status check_capacity(const RegistryCapacity& capacity);

// What loading one table found.
struct TableLoadStats {
  uint32_t loaded = 0;           // records in use, taken from a valid copy
  uint32_t recovered_older = 0;  // of those, the newer copy was torn: the older one was used
  uint32_t dropped_corrupt = 0;  // slots written before whose copies all fail the checksum
};

template <class Record>
using LoadedRecords = std::vector<std::pair<SlotId, Record>>;

// Everything a resumed registry held, table by table, with what loading found.
struct RegistryContents {
  bool has_meta = false;
  MetaRecord meta{};
  LoadedRecords<AppRecord> apps;
  LoadedRecords<ListenerRecord> listeners;
  LoadedRecords<AcceptRecord> accepts;
  LoadedRecords<ConnRecord> conns;
  LoadedRecords<TimeWaitRecord> time_wait;
  LoadedRecords<RequestLogRecord> request_log;
  LoadedRecords<HandshakeRecord> handshakes;
  // "apps", "listeners", ... with their load statistics.
  std::vector<std::pair<std::string, TableLoadStats>> stats;
  uint32_t dropped_corrupt() const {
    uint32_t n = 0;
    for (const auto& [name, s] : stats) n += s.dropped_corrupt;
    return n;
  }
};

// One table of fixed-size slots inside the registry.
template <class Record>
class RegistryTable {
 public:
  RegistryTable() = default;
  RegistryTable(Slot<Record>* slots, uint32_t capacity, uint32_t tag);

  uint32_t capacity() const { return capacity_; }
  uint32_t used() const { return capacity_ - static_cast<uint32_t>(free_.size()); }
  bool full() const { return free_.empty(); }

  // Scans every slot: the current copy of each, the records in use (appended to `out` with
  // their slot), the free list. Called once, before any write.
  TableLoadStats load(std::vector<std::pair<SlotId, Record>>* out);

  // Stores `record` in a free slot (the lowest-numbered one first, so a lightly used registry
  // touches few pages). Fails when the table is full.
  Result<SlotId> insert(const Record& record);
  // Replaces the record in `slot` (which insert() returned and erase() did not free).
  void update(SlotId slot, const Record& record);
  // Frees `slot`. No-op for kNoSlot or a free slot.
  void erase(SlotId slot);

  // Test hook: the raw slot, to simulate torn writes and corruption.
  Slot<Record>* raw_slot(SlotId slot) const { return slot < capacity_ ? &slots_[slot] : nullptr; }

 private:
  void write(SlotId slot, const Record* record);
  uint32_t checksum(SlotId slot, const SlotCopy<Record>& copy) const;
  bool valid(SlotId slot, const SlotCopy<Record>& copy) const;

  Slot<Record>* slots_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t tag_ = 0;
  std::vector<uint8_t> current_;  // per slot: the copy holding its current version; 2 = none
  std::vector<uint8_t> in_use_;
  std::vector<SlotId> free_;  // a stack with the lowest slot on top
};

class ConnRegistry {
 public:
  enum class Mode {
    kFresh,   // start empty (a new instance: anything on file is from an earlier run)
    kResume,  // keep what is on file if it checks out, else start empty
  };

  // Maps the registry at `path`. With kResume a valid file is kept as it is (its capacities
  // win over `capacity`); otherwise, or if it is invalid, a new zeroed file replaces it.
  static Result<ConnRegistry> open(const std::string& path, const RegistryCapacity& capacity,
                                   Mode mode);

  ConnRegistry(ConnRegistry&&) noexcept = default;
  ConnRegistry& operator=(ConnRegistry&&) noexcept = default;

  // True when the content came from the file (kResume and it checked out).
  bool resumed() const { return resumed_; }
  // Why an existing file was not resumed ("" if it was, or there was none).
  const std::string& fresh_reason() const { return fresh_reason_; }
  const std::string& path() const { return region_->name(); }
  const RegistryCapacity& capacity() const { return capacity_; }

  // What open() loaded (empty on a fresh registry). Moves it out: call once.
  RegistryContents take_contents() { return std::move(contents_); }

  void store_meta(const MetaRecord& meta);

  RegistryTable<AppRecord>& apps() { return apps_; }
  RegistryTable<ListenerRecord>& listeners() { return listeners_; }
  RegistryTable<AcceptRecord>& accepts() { return accepts_; }
  RegistryTable<ConnRecord>& conns() { return conns_; }
  RegistryTable<TimeWaitRecord>& time_wait() { return time_wait_; }
  RegistryTable<RequestLogRecord>& request_log() { return request_log_; }
  RegistryTable<HandshakeRecord>& handshakes() { return handshakes_; }

 private:
  ConnRegistry() = default;
  Status attach_tables();
  void load_tables();

  std::optional<shm::Region> region_;  // always set once open() returns
  RegistryCapacity capacity_;
  bool resumed_ = false;
  std::string fresh_reason_;
  RegistryContents contents_;
  RegistryTable<MetaRecord> meta_;
  SlotId meta_slot_ = kNoSlot;
  RegistryTable<AppRecord> apps_;
  RegistryTable<ListenerRecord> listeners_;
  RegistryTable<AcceptRecord> accepts_;
  RegistryTable<ConnRecord> conns_;
  RegistryTable<TimeWaitRecord> time_wait_;
  RegistryTable<RequestLogRecord> request_log_;
  RegistryTable<HandshakeRecord> handshakes_;
};

}  // namespace vtas::conn
