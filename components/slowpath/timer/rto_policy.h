// RtoPolicy: how long a flow may have data in flight without ACK progress before the timer
// actor asks the fast path to go back N, and how long a zero window may stay closed before it
// asks for a window probe. Pure arithmetic over a flow's RTT estimate; used by FlowWatch.
//
// TAS semantics (tas/slow/cc.c: issue_retransmits): a timeout after --cc-rexmit-ints control
// intervals of --cc-control-interval RTTs each, and never before 2 RTTs; the RTT is the flow's
// estimate, or --tcp-rtt-init while it has none. vtas adds, as TAS did not:
//   - the RFC 6298 bound srtt + 4 * rttvar (only ever raises the timeout: a jittery path);
//   - a floor of 2 ms. On a veth to a Linux peer the RTT is 30-100 us, so TAS's 8 RTTs are
//     0.25-0.8 ms: shorter than the scheduling jitter of a slow-path process on a loaded 2-core
//     host and than a Linux peer's delayed ACK (up to 40 ms for a lone small segment), and every
//     spurious go-back-N resends the whole window and halves the flow's rate. 2 ms stays 20x
//     above the veth RTT and well above our own lateness, yet 100x below Linux's 200 ms
//     RTO_min, so a path dropping 2% (nftables) recovers a lost tail in milliseconds;
//   - exponential backoff: each timeout without progress doubles the next one, so a dead or
//     stalled peer (or a delayed-ACK storm) costs log2(ceiling / floor) retransmissions per
//     episode instead of one every RTO;
//   - a ceiling of 1 s. RFC 6298 asks for >= 60 s on the Internet, where timeouts signal
//     congestion collapse; on a LAN the ceiling bounds how long a flow stays silent after an
//     outage ends (at most 1 s), at a cost of one retransmission per second per dead flow.
#pragma once

#include <cstdint>

namespace vtas::timer {

struct RtoPolicy {
  uint32_t rexmit_intervals = 4;       // --cc-rexmit-ints (TAS default 4)
  uint32_t control_interval_rtts = 2;  // --cc-control-interval (TAS default 2)
  uint32_t rtt_init_us = 50;           // --tcp-rtt-init (TAS default 50)
  uint64_t floor_us = 2000;
  uint64_t ceiling_us = 1000000;
  // Doublings stop here (the ceiling is reached long before: 2 ms << 9 > 1 s).
  uint32_t max_backoff = 16;

  // The timeout before backoff, floor and ceiling applied. `rtt_us` and `rtt_var_us` come from
  // shared memory: any value is accepted (they are clamped before any arithmetic).
  uint64_t base_us(uint32_t rtt_us, uint32_t rtt_var_us) const;
  // base << backoff, within [floor, ceiling].
  uint64_t timeout_us(uint32_t rtt_us, uint32_t rtt_var_us, uint32_t backoff) const;
};

}  // namespace vtas::timer
