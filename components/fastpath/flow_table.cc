#include "components/fastpath/flow_table.h"

#include <atomic>
#include <cstring>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include "runtime/shm/abi.h"

namespace vtas::fastpath {
namespace {

uint32_t load_id(const abi::HashEntry& e) {
  return std::atomic_ref<const uint32_t>(e.flow_id_plus_one).load(std::memory_order_acquire);
}

void store_id(abi::HashEntry& e, uint32_t value) {
  std::atomic_ref<uint32_t>(e.flow_id_plus_one).store(value, std::memory_order_release);
}

}  // namespace

uint32_t flow_hash(const FlowKey& key) {
  uint64_t ips = uint64_t{key.local_ip} | uint64_t{key.remote_ip} << 32;
  uint32_t ports = uint32_t{key.local_port} | uint32_t{key.remote_port} << 16;
#if defined(__SSE4_2__)
  uint32_t h = static_cast<uint32_t>(_mm_crc32_u64(0, ips));
  return _mm_crc32_u32(h, ports);
#else
  uint64_t x = ips ^ (uint64_t{ports} * 0x9E3779B97F4A7C15ull);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
#endif
}

uint64_t FlowTable::region_bytes(uint32_t max_flows) {
  return abi::flow_table_sizes(max_flows, abi::hash_buckets_for(max_flows)).total;
}

Result<FlowTable> FlowTable::create(shm::Region& region, uint32_t max_flows) {
  if (max_flows == 0 || max_flows > (1u << 24)) {
    return make_error("flow table: max_flows " + std::to_string(max_flows) +
                      " out of range (1 .. 16777216)");
  }
  uint32_t buckets = abi::hash_buckets_for(max_flows);
  auto sizes = abi::flow_table_sizes(max_flows, buckets);
  if (region.size() < sizes.total) {
    return make_error("flow table: region " + region.name() + " has " +
                      std::to_string(region.size()) + " bytes, needs " + std::to_string(sizes.total));
  }
  auto* h = region.at<abi::FlowTableHeader>(sizeof(shm::RegionHeader));
  if (!h) return make_error("flow table: region " + region.name() + " is too small for its header");
  h->max_flows = max_flows;
  h->hash_buckets = buckets;
  h->flow_groups = abi::kFlowGroups;
  h->max_cores = abi::kMaxFastPathCores;
  h->flows_offset = sizes.flows_offset;
  h->hash_offset = sizes.hash_offset;
  h->steering_offset = sizes.steering_offset;
  h->core_counters_offset = sizes.core_counters_offset;
  h->cores_active = 1;
  if (Status s = shm::init_region_header(region.base(), sizes.total, shm::RegionKind::kFlowTable,
                                         abi::kFlowTableLayoutVersion);
      !s) {
    return s.error();
  }
  return attach(region);
}

Result<FlowTable> FlowTable::attach(shm::Region& region) {
  if (Status s = shm::check_region_header(region.base(), region.size(), shm::RegionKind::kFlowTable,
                                          abi::kFlowTableLayoutVersion);
      !s) {
    return s.error();
  }
  auto* h = region.at<abi::FlowTableHeader>(sizeof(shm::RegionHeader));
  if (!h) return make_error("flow table: region too small for its header");
  // Recompute the layout from the counts and require the stored offsets to match it: a
  // header that disagrees with itself is never followed.
  uint32_t max_flows = h->max_flows;
  uint32_t buckets = h->hash_buckets;
  if (max_flows == 0 || max_flows > (1u << 24) || buckets != abi::hash_buckets_for(max_flows)) {
    return make_error("flow table: implausible header (max_flows " + std::to_string(max_flows) +
                      ", buckets " + std::to_string(buckets) + ")");
  }
  auto sizes = abi::flow_table_sizes(max_flows, buckets);
  if (h->flows_offset != sizes.flows_offset || h->hash_offset != sizes.hash_offset ||
      h->steering_offset != sizes.steering_offset ||
      h->core_counters_offset != sizes.core_counters_offset || !region.contains(0, sizes.total)) {
    return make_error("flow table: header offsets do not match its sizes or the mapping");
  }
  FlowTable t;
  t.header_ = h;
  t.max_flows_ = max_flows;
  t.bucket_mask_ = buckets - 1;
  t.flows_ = region.at<abi::FlowState>(sizes.flows_offset);
  t.buckets_ = region.at<abi::HashBucket>(sizes.hash_offset);
  t.steering_ = region.at<uint8_t>(sizes.steering_offset);
  t.counters_ = region.at<abi::CoreCounters>(sizes.core_counters_offset);
  t.init_free_list();
  return t;
}

void FlowTable::init_free_list() {
  free_ids_.clear();
  in_use_ = 0;
  // Id 0 is never handed out: messages use 0 for "no flow".
  for (uint32_t id = max_flows_; id-- > 1;) {
    if (flows_[id].flags & abi::kFlowActive) {
      ++in_use_;
    } else {
      free_ids_.push_back(id);
    }
  }
}

int64_t FlowTable::lookup(const FlowKey& key, uint32_t hash) const {
  uint32_t home = hash & bucket_mask_;
  for (uint32_t probe = 0; probe < abi::kHashMaxProbeBuckets; ++probe) {
    const abi::HashBucket& bucket = buckets_[(home + probe) & bucket_mask_];
    for (const auto& entry : bucket.entries) {
      uint32_t id_plus_one = load_id(entry);
      if (id_plus_one == 0 || entry.signature != hash) continue;
      uint32_t id = id_plus_one - 1;
      if (id >= max_flows_) continue;
      if (key_of(flows_[id]) == key) return id;
    }
  }
  return -1;
}

std::optional<uint32_t> FlowTable::allocate_id() {
  if (free_ids_.empty()) return std::nullopt;
  uint32_t id = free_ids_.back();
  free_ids_.pop_back();
  ++in_use_;
  return id;
}

void FlowTable::release_id(uint32_t id) {
  if (id >= max_flows_) return;
  free_ids_.push_back(id);
  --in_use_;
}

bool FlowTable::publish(uint32_t id, uint32_t hash) {
  uint32_t home = hash & bucket_mask_;
  for (uint32_t probe = 0; probe < abi::kHashMaxProbeBuckets; ++probe) {
    abi::HashBucket& bucket = buckets_[(home + probe) & bucket_mask_];
    for (auto& entry : bucket.entries) {
      if (load_id(entry) != 0) continue;
      entry.signature = hash;
      store_id(entry, id + 1);
      return true;
    }
  }
  return false;
}

void FlowTable::unpublish(uint32_t id, uint32_t hash) {
  uint32_t home = hash & bucket_mask_;
  for (uint32_t probe = 0; probe < abi::kHashMaxProbeBuckets; ++probe) {
    abi::HashBucket& bucket = buckets_[(home + probe) & bucket_mask_];
    for (auto& entry : bucket.entries) {
      if (load_id(entry) == id + 1) {
        store_id(entry, 0);
        return;
      }
    }
  }
}

}  // namespace vtas::fastpath
