// Pieces of the TAS control laws that several algorithms share: the measured sending rate and
// its 1.2x clamp (dctcp-rate, timely), halving per loss event, DCTCP's alpha and its ECN
// reduction (dctcp-rate, dctcp-win). Only for the algorithm units in this folder.
#pragma once

#include <algorithm>
#include <cstdint>

#include "components/cc/algorithms/cc_flow_state.h"
#include "components/cc/algorithms/fixed_point.h"

namespace vtas::cc {

// Rate 0 means unlimited; arithmetic that lowers a rate must start from "as high as it gets".
inline uint64_t limit_of(uint32_t rate_kbps) {
  return rate_kbps == 0 ? kMaxRateKbps : rate_kbps;
}

// TAS: act = acked bytes over the interval, act_avg = (7 act_avg + act) / 8, and the larger of
// the two is "the rate the flow actually used". Updates state.act_avg_kbps; returns the
// larger. `us` must not be 0.
inline uint32_t measure_used_rate(CcFlowState& state, uint64_t acked_bytes, uint64_t us) {
  const uint32_t act = bytes_per_us_to_kbps(acked_bytes, us);
  state.act_avg_kbps = static_cast<uint32_t>((uint64_t{7} * state.act_avg_kbps + act) / 8);
  return std::max(act, state.act_avg_kbps);
}

// TAS: never more than 1.2 times the rate the flow actually used.
inline uint64_t clamp_to_used(uint64_t rate_kbps, uint32_t used_kbps) {
  return std::min<uint64_t>(rate_kbps, uint64_t{used_kbps} * 12 / 10);
}

// Halve once per loss event (TAS halved once per interval with any loss, and its fast path
// only on the first loss of a connection's life).
inline uint64_t halve_per_loss(uint64_t value, uint32_t loss_events) {
  return loss_events >= 64 ? 0 : value >> loss_events;
}

// DCTCP: F = min(ecn, acked) / acked, alpha <- g F + (1 - g) alpha. Needs acked > 0.
inline uint64_t dctcp_alpha(uint64_t alpha_q32, uint64_t acked_bytes, uint64_t ecn_bytes,
                            uint64_t weight_q32) {
  const uint64_t fraction_q32 = mul_div(std::min(ecn_bytes, acked_bytes), kQ32One, acked_bytes);
  return std::min(ewma_q32(alpha_q32, fraction_q32, weight_q32), kQ32One);
}

// DCTCP: value * (1 - alpha / 2).
inline uint64_t dctcp_reduce(uint64_t value, uint64_t alpha_q32) {
  return q32_mul(value, kQ32One - std::min(alpha_q32, kQ32One) / 2);
}

}  // namespace vtas::cc
