// timely (--cc=timely): the TIMELY rate law on the RTT and its gradient. Reached through
// algorithm_impl(Algorithm::kTimely); see cc_algorithm.h.
//
// Start: rate = --cc-timely-init, slow start. A step:
//  1. No RTT sample (0): nothing is decided (kNoRttSample); the acked bytes and the time are
//     kept for the next measured rate.
//  2. used = max(act, act_avg) as in dctcp-rate. Slow start ends when rtt > (tlow + thigh)/2;
//     outside slow start rate <= 1.2 * used.
//  3. rtt_diff <- (1 - alpha) rtt_diff + alpha (rtt - rtt_prev) once a previous sample
//     exists; gradient g = rtt_diff / --cc-timely-minrtt.
//  4. From the rate after step 2:
//       slow start       -> rate * 2
//       rtt < tlow       -> rate + step, HAI count reset
//       rtt > thigh      -> rate * (1 - beta (1 - thigh/rtt)), HAI count reset
//       g <= 0           -> rate + step, from the 5th such step in a row rate + 5 step (HAI)
//       otherwise        -> rate * (1 - beta g), HAI count reset
//  5. Never below half the rate of step 4's start, never below max(--cc-timely-minrate, 1).
// Losses are not a TIMELY signal (as in TAS); the fast path halves the rate on each
// go-back-N and the next step recomputes it from the RTT.
// Deviations from TAS's code: rtt_diff is kept in nanoseconds (TAS kept whole microseconds,
// so with alpha = 0.02 any RTT change below 50 us vanished in the truncation); the measured
// rate covers steps without an RTT sample too (TAS dropped their bytes but not their time).
#pragma once

#include "components/cc/algorithms/cc_algorithm.h"

namespace vtas::cc {

const CcAlgorithm& timely_algorithm();

// TIMELY keeps additive steps until this many in a row saw no positive gradient.
inline constexpr uint32_t kTimelyHaiSteps = 5;

}  // namespace vtas::cc
