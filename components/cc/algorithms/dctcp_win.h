// dctcp-win (--cc=dctcp-win): DCTCP's congestion window, converted to a rate for the fast
// path's pacing. Reached through algorithm_impl(Algorithm::kDctcpWin); see cc_algorithm.h.
//
// Start: window = 2 MSS, rate = window_to_rate(window, --tcp-rtt-init), slow start. A step:
//  1. rtt = the sample, or --tcp-rtt-init when 0.
//  2. Slow start: no loss and no ECN -> window + acked bytes; otherwise leave slow start.
//  3. Congestion avoidance: a loss -> window / 2 per loss event; else alpha is updated as in
//     dctcp-rate and with ECN window * (1 - alpha/2), without window + acked * MSS / window.
//  4. MSS <= window, and window <= the send buffer when it is known (the MSS bound wins).
//  5. rate = window_to_rate(window, rtt).
// Deviations from TAS's code: halving per loss event; the flow's own MSS instead of the
// constant 1400 (used when the flow's is unknown); window_to_rate computes the same law without
// TAS's intermediate truncation to whole nanoseconds.
#pragma once

#include <cstdint>

#include "components/cc/algorithms/cc_algorithm.h"

namespace vtas::cc {

const CcAlgorithm& dctcp_win_algorithm();

// TAS window_to_rate: a window per RTT, but never faster than the link:
// min(window * 8000 / rtt_us, link_gbps * 10^6) kbps, at least 1 (0 would mean unlimited).
uint32_t window_to_rate_kbps(uint32_t window_bytes, uint32_t rtt_us, uint32_t link_gbps);
// The inverse for a handover: rate * rtt / 8000 bytes (saturating; no MSS bound).
uint32_t rate_to_window_bytes(uint32_t rate_kbps, uint32_t rtt_us);

}  // namespace vtas::cc
