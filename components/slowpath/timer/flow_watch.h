// FlowWatch: the timer actor's retransmission-timeout and persist (zero-window probe) logic for
// one flow, as a pure function of what the flow table says now, what the timer remembered at
// its last look, and the time. The actor reads a FlowSnapshot from shared memory, calls
// check_flow() and carries out the verdict (send Retransmit / WindowProbe, store the backoff
// in FlowState::rto_backoff, check again at `recheck_at_us`).
//
// A flow is in one of three modes, decided from the snapshot alone:
//   retransmit  data (or our FIN) in flight: time out when no ACK progress for the RTO;
//   persist     nothing in flight, data queued, peer window 0: probe every RTO (backed off);
//   idle        anything else: nothing to time, the actor stops watching it.
// Progress (bytes newly acknowledged, or a change of mode) resets the backoff. Time is the
// timer actor's clock in us; FlowState::last_ack_us is the fast path's clock (CLOCK_MONOTONIC us
// mod 2^32), the same clock, and is trusted only when it lies between the last look and now.
//
// Everything in the snapshot is untrusted (an app cannot write the flow table, but a stale or
// torn read can show anything): no value can make check_flow misbehave, only time out early or
// late once.
#pragma once

#include <cstdint>
#include <optional>

#include "components/fastpath/abi/flow_state.h"
#include "components/slowpath/timer/rto_policy.h"

namespace vtas::timer {

// The fields of one FlowState the timer looks at, read with relaxed atomic loads.
struct FlowSnapshot {
  uint32_t flags = 0;
  uint32_t identity = 0;  // hash of the 4-tuple: tells a new flow in a reused slot
  uint32_t tx_sent = 0;
  uint32_t tx_avail = 0;
  uint32_t tx_next_seq = 0;
  uint32_t rx_remote_avail = 0;
  uint32_t cnt_rx_ack_bytes = 0;
  uint32_t last_ack_us = 0;
  uint32_t rtt_us = 0;
  uint32_t rtt_var_us = 0;
  uint32_t rto_backoff = 0;
};

FlowSnapshot read_snapshot(const abi::FlowState& fs);
// Only the flags word: enough for the sweep to skip free slots (one cache line).
uint32_t read_flags(const abi::FlowState& fs);
void store_backoff(abi::FlowState& fs, uint32_t backoff);

enum class WatchMode : uint8_t { kIdle, kRetransmit, kPersist };

// What WatchMode the snapshot calls for; kIdle also for inactive, reset and slow-path flows.
WatchMode mode_of(const FlowSnapshot& s);
// The same from the flow itself, reading only the flags and the hot-line fields it needs (the
// sweep's cheap look at a flow it does not watch).
WatchMode mode_of(const abi::FlowState& fs);

// The timer's memory of one flow between looks.
struct FlowWatch {
  WatchMode mode = WatchMode::kIdle;
  uint8_t backoff = 0;  // consecutive timeouts or probes without progress
  uint32_t identity = 0;
  uint32_t ack_bytes = 0;      // cnt_rx_ack_bytes at the last look
  uint32_t snd_nxt = 0;        // tx_next_seq at the last look
  uint64_t wait_start_us = 0;  // the current wait for progress began here
  uint64_t last_look_us = 0;
};

struct Verdict {
  enum class Action : uint8_t { kNone, kRetransmit, kWindowProbe };
  Action action = Action::kNone;
  // Look again then; nullopt: the flow is idle, stop watching it.
  std::optional<uint64_t> recheck_at_us;
  // FlowState::rto_backoff must be set to the watch's backoff.
  bool store_backoff = false;
};

// Updates `watch` from `snapshot` at `now_us` and says what to do. A watch in kIdle mode starts
// a new episode; the episode resumes the backoff stored in the flow (a restarted timer actor
// continues where the previous one stopped) and times from now (never earlier: when exactly
// the data went out is unknown, so a first timeout may be late by one look, never early).
Verdict check_flow(FlowWatch& watch, const FlowSnapshot& snapshot, uint64_t now_us,
                   const RtoPolicy& policy);

}  // namespace vtas::timer
