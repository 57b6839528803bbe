// FlowTable: the fast path's view of its flow-table region (abi/flow_table_layout.h): the
// FlowState array, the 4-tuple hash index, steering and per-core counters.
//
// One writer (the fast path's control thread) installs and removes flows; the cores look
// flows up without locks and confirm a match under the flow's lock. Slow-path actors attach
// read-mostly (timer, cc) and only iterate flows by id.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "components/fastpath/abi/flow_table_layout.h"
#include "runtime/result.h"
#include "runtime/shm/region.h"

namespace vtas::fastpath {

// A connection's 4-tuple as it appears on the wire (network byte order), from our side.
struct FlowKey {
  uint32_t local_ip;
  uint32_t remote_ip;
  uint16_t local_port;
  uint16_t remote_port;
  bool operator==(const FlowKey&) const = default;
};

// CRC32C of the key (SSE4.2 when the build allows, a portable mix otherwise). Stable: the
// same in every process of one build.
uint32_t flow_hash(const FlowKey& key);

class FlowTable {
 public:
  // Bytes a region needs for `max_flows` flows.
  static uint64_t region_bytes(uint32_t max_flows);
  // Lays out an empty table in `region` (the creator; region freshly created and zeroed).
  static Result<FlowTable> create(shm::Region& region, uint32_t max_flows);
  // Attaches to a table created by someone else; validates the headers against the mapping.
  static Result<FlowTable> attach(shm::Region& region);

  uint32_t max_flows() const { return max_flows_; }
  // The flow with this id, or nullptr when the id is out of range.
  abi::FlowState* flow(uint32_t id) const { return id < max_flows_ ? &flows_[id] : nullptr; }
  abi::FlowTableHeader* header() const { return header_; }
  uint8_t* steering() const { return steering_; }
  abi::CoreCounters* core_counters(uint32_t core) const {
    return core < abi::kMaxFastPathCores ? &counters_[core] : nullptr;
  }

  // ---- reader side (any thread) ----
  // Flow id whose published key matches, or -1. The caller confirms under the flow lock.
  int64_t lookup(const FlowKey& key, uint32_t hash) const;

  // ---- writer side (the control thread only) ----
  // Ids start at 1: 0 means "no flow" in messages and entries.
  std::optional<uint32_t> allocate_id();
  void release_id(uint32_t id);
  // Adds / removes the id to / from the hash index. publish fails when the probe window of
  // the key's home bucket is full (practically never: 4x more slots than flows).
  bool publish(uint32_t id, uint32_t hash);
  void unpublish(uint32_t id, uint32_t hash);
  uint32_t flows_in_use() const { return in_use_; }

 private:
  FlowTable() = default;
  void init_free_list();

  abi::FlowTableHeader* header_ = nullptr;
  abi::FlowState* flows_ = nullptr;
  abi::HashBucket* buckets_ = nullptr;
  uint8_t* steering_ = nullptr;
  abi::CoreCounters* counters_ = nullptr;
  uint32_t max_flows_ = 0;
  uint32_t bucket_mask_ = 0;
  std::vector<uint32_t> free_ids_;  // writer's private free list
  uint32_t in_use_ = 0;
};

// Reads a flow's key from its FlowState identity fields.
inline FlowKey key_of(const abi::FlowState& fs) {
  return FlowKey{fs.local_ip, fs.remote_ip, fs.local_port, fs.remote_port};
}

}  // namespace vtas::fastpath
