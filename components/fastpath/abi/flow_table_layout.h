// FlowTableLayout: the fast path's shared region (RegionKind::kFlowTable): every flow's
// FlowState, the 4-tuple hash index, the RSS steering table and per-core counters. The fast
// path creates and writes it; `timer`, `cc` and `scale` map it (cc writes only flows'
// tx_rate_kbps, scale nothing) and tools may map it read-only. Offsets from the region base.
//
//   RegionHeader (64 B) | FlowTableHeader (64 B) | FlowState[max_flows] (256 B each)
//   | HashBucket[hash_buckets] (64 B each) | uint8 steering[flow_groups] | CoreCounters[max_cores]
#pragma once

#include <cstddef>
#include <cstdint>

#include "components/fastpath/abi/flow_state.h"

namespace vtas::abi {

inline constexpr uint32_t kFlowTableLayoutVersion = 3;  // 2: FlowState grew a fourth line (rx_stream_end)
                                                        // 3: several out-of-order intervals, reordering state
inline constexpr uint32_t kMaxFastPathCores = 16;
inline constexpr uint32_t kFlowGroups = 512;           // RSS buckets (power of two)
inline constexpr uint32_t kHashBucketEntries = 8;
inline constexpr uint32_t kHashMaxProbeBuckets = 8;    // a key lives within 8 buckets of home

struct FlowTableHeader {
  uint32_t max_flows;         // FlowState slots; flow ids are 0 .. max_flows-1
  uint32_t hash_buckets;      // power of two, >= max_flows / 4
  uint32_t flow_groups;       // kFlowGroups
  uint32_t max_cores;         // CoreCounters slots
  uint64_t flows_offset;
  uint64_t hash_offset;
  uint64_t steering_offset;
  uint64_t core_counters_offset;
  uint32_t cores_active;      // fast-path cores currently serving (scale changes it)
  uint32_t clock_hz_unused;
  uint8_t reserved[8];
};
static_assert(sizeof(FlowTableHeader) == 64);
static_assert(offsetof(FlowTableHeader, max_flows) == 0);
static_assert(offsetof(FlowTableHeader, hash_buckets) == 4);
static_assert(offsetof(FlowTableHeader, flow_groups) == 8);
static_assert(offsetof(FlowTableHeader, max_cores) == 12);
static_assert(offsetof(FlowTableHeader, flows_offset) == 16);
static_assert(offsetof(FlowTableHeader, hash_offset) == 24);
static_assert(offsetof(FlowTableHeader, steering_offset) == 32);
static_assert(offsetof(FlowTableHeader, core_counters_offset) == 40);
static_assert(offsetof(FlowTableHeader, cores_active) == 48);

// One hash entry: a 32-bit signature of the 4-tuple and the flow id + 1 (0 = empty). The one
// writer (the fast path's control thread) stores the signature, then the id with release;
// readers load the id with acquire, then the signature, and always confirm the 4-tuple in the
// FlowState (under the flow lock) before trusting a match.
struct HashEntry {
  uint32_t signature;
  uint32_t flow_id_plus_one;
};
struct alignas(64) HashBucket {
  HashEntry entries[kHashBucketEntries];
};
static_assert(sizeof(HashBucket) == 64);

// Per fast-path core counters (monotonic). Written by that core only.
struct alignas(64) CoreCounters {
  uint64_t rx_packets;
  uint64_t rx_bytes;
  uint64_t tx_packets;
  uint64_t tx_bytes;
  uint64_t exceptions;        // frames handed to the slow path
  uint64_t exception_drops;   // exception ring full
  uint64_t rx_bad;            // malformed or bad checksum, dropped
  uint64_t busy_cycles;       // TSC cycles spent in loop iterations that did work
  uint64_t loop_cycles;       // TSC cycles in all iterations (busy + idle)
  uint64_t app_events_dropped;  // never expected: an app's event ring overflowed (counted, retried)
  uint64_t acks_sent;
  uint64_t retransmits;       // go-back-N events
  uint64_t sleeps;            // times the core blocked waiting for work
  uint64_t app_bad_bumps;     // rejected entries from apps (garbage in their queues)
  uint64_t steered;           // frames handed to the core that owns their flow
  uint64_t steer_drops;       // never expected: that core's steering ring was full
  uint64_t bumps_parked;      // app bumps that overtook an older one on another core's ring
  uint64_t challenge_acks;    // RFC 5961 challenge ACKs answering a SYN or an in-window RST
  uint64_t spare[6];
};
static_assert(sizeof(CoreCounters) == 192);

struct FlowTableSizes {
  uint64_t flows_offset, hash_offset, steering_offset, core_counters_offset, total;
};

constexpr uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// Offsets of every part for a table of `max_flows` flows (the region header and
// FlowTableHeader come first, 128 bytes).
constexpr FlowTableSizes flow_table_sizes(uint32_t max_flows, uint32_t hash_buckets) {
  FlowTableSizes s{};
  s.flows_offset = 128;
  s.hash_offset = align_up(s.flows_offset + uint64_t{max_flows} * sizeof(FlowState), 64);
  s.steering_offset = s.hash_offset + uint64_t{hash_buckets} * sizeof(HashBucket);
  s.core_counters_offset = align_up(s.steering_offset + kFlowGroups, 64);
  s.total = s.core_counters_offset + uint64_t{kMaxFastPathCores} * sizeof(CoreCounters);
  return s;
}

// Buckets for `max_flows`: a power of two with room for four times the flows.
constexpr uint32_t hash_buckets_for(uint32_t max_flows) {
  uint32_t buckets = 1;
  while (uint64_t{buckets} * kHashBucketEntries < uint64_t{max_flows} * 4) buckets <<= 1;
  return buckets;
}

}  // namespace vtas::abi
