#include "components/slowpath/timer/rto_policy.h"

#include <algorithm>

namespace vtas::timer {

uint64_t RtoPolicy::base_us(uint32_t rtt_us, uint32_t rtt_var_us) const {
  // Clamp first: a garbage RTT from shared memory must not overflow the products (the result
  // is capped at the ceiling anyway).
  const uint64_t cap = std::max<uint64_t>(ceiling_us, 1);
  const uint64_t rtt = std::min<uint64_t>(rtt_us != 0 ? rtt_us : rtt_init_us, cap);
  const uint64_t var = std::min<uint64_t>(rtt_var_us, cap);
  const uint64_t intervals =
      uint64_t{std::min(rexmit_intervals, 1u << 16)} * std::min(control_interval_rtts, 1u << 16);
  return std::max({intervals * rtt, 2 * rtt, rtt + 4 * var});
}

uint64_t RtoPolicy::timeout_us(uint32_t rtt_us, uint32_t rtt_var_us, uint32_t backoff) const {
  const uint64_t ceiling = std::max(ceiling_us, floor_us);
  uint64_t t = std::clamp(base_us(rtt_us, rtt_var_us), floor_us, ceiling);
  for (uint32_t i = 0; i < std::min(backoff, max_backoff) && t < ceiling; ++i) t *= 2;
  return std::min(t, ceiling);
}

}  // namespace vtas::timer
