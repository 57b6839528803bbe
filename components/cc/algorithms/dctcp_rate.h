// dctcp-rate (TAS's default --cc): DCTCP adapted to act on the rate instead of a window.
// Reached through algorithm_impl(Algorithm::kDctcpRate); see cc_algorithm.h.
//
// Start: rate = --cc-dctcp-init, alpha = 0, slow start. A step:
//  1. rtt = the sample, or --tcp-rtt-init when 0 (kept in state.rtt_us for the schedule).
//  2. ACKs, acked bytes, ECN bytes and the elapsed time add up until --cc-dctcp-minpkts ACKs
//     are there; until then nothing is decided (kAccumulating) -- except for a loss (below).
//  3. used = max(act, act_avg) with act = acked bytes * 8000 / us over the gathered span;
//     rate <= 1.2 * used.
//  4. Slow start: no loss and no ECN -> rate * 2; otherwise leave slow start.
//  5. Congestion avoidance: a loss -> rate / 2 per loss event; else alpha <- g F + (1-g) alpha
//     and with ECN rate * (1 - alpha/2), without rate + --cc-dctcp-step (or rate * mimd).
//  6. rate >= max(--cc-dctcp-min, 1).
// Deviations from TAS's code: halving per loss event, and at once even while ACKs gather
// (TAS halved once per interval, after minpkts ACKs, which a stalled flow may never get);
// the measured rate divides by the whole gathered span (TAS divided the gathered bytes by the
// last interval only); 64-bit arithmetic (TAS's 32-bit `ackb * 8 * 1000` overflows above
// 536 KB); the floor is at least 1 kbps, because 0 would mean unlimited.
#pragma once

#include "components/cc/algorithms/cc_algorithm.h"

namespace vtas::cc {

const CcAlgorithm& dctcp_rate_algorithm();

}  // namespace vtas::cc
