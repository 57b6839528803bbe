// What the cc actor reports about the flows it controls: one flow as a cc.FlowInfo (answer to
// cc_flow_query), the flows with the highest rates, and a rate histogram for `vtasctl stats`.
// Pure formatting over copies of the records; used by the cc actor only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "components/cc/actor/flow_roster.h"
#include "components/cc/algorithms/cc_flow_state.h"
#include "components/fastpath/abi/flow_state.h"
#include "proto/cc.pb.h"

namespace vtas::cc {

// One flow as cc sees it now.
FlowInfo describe_flow(uint32_t id, const CcFlowState& record, const abi::FlowState& fs,
                       const TrackedFlow& tracked, uint64_t now_us);

// Orders rates for "highest first": 0 (unlimited) above every limit.
uint64_t rate_rank(uint32_t rate_kbps);

// The `limit` entries of (rate_kbps, flow id) with the highest rates, highest first.
std::vector<std::pair<uint32_t, uint32_t>> top_by_rate(
    std::vector<std::pair<uint32_t, uint32_t>> all, size_t limit);

// Rate histogram buckets: unlimited, < 1 Mbit/s, < 10, < 100, < 1000, < 10000, >= 10 Gbit/s.
inline constexpr size_t kRateBuckets = 7;
size_t rate_bucket(uint32_t rate_kbps);
const char* rate_bucket_name(size_t bucket);

}  // namespace vtas::cc
