// Congestion control for one flow, as the `cc` actor drives it: start a record for a new
// flow, resume or adopt one after a restart, run a control step, switch a flow's algorithm or
// apply new parameters at run time. Every function is pure: it takes a record and returns the
// next one (sealed, see cc_flow_state.h), which the actor writes back into its shared-memory
// segment as a whole, and whose rate_kbps it writes into the flow's tx_rate_kbps.
//
// Time is an argument (`now_us`, microseconds of one monotonic clock, CLOCK_MONOTONIC in the
// actor, a fake clock in tests); rates in kbps with 0 = unlimited.
#pragma once

#include <cstdint>

#include "components/cc/algorithms/cc_algorithm.h"
#include "components/cc/algorithms/cc_flow_state.h"
#include "components/cc/algorithms/params.h"

namespace vtas::cc {

// What the actor reads of a flow from the fast path's flow table (abi::FlowState).
struct FlowSample {
  FlowCounters counters;         // cnt_rx_acks, cnt_rx_ack_bytes, ... (absolute)
  uint32_t rtt_us = 0;           // rtt_us: the smoothed RTT, 0 until the first sample
  uint32_t mss = 0;              // mss, 0 = unknown (TAS's 1400)
  uint32_t tx_buffer_bytes = 0;  // tx_len, 0 = unknown
};

// One control step's input: the counters' differences since the previous step.
struct StepInput {
  CounterDelta delta;
  uint32_t rtt_us = 0;           // 0 = no sample (timely waits, the others use --tcp-rtt-init)
  uint64_t now_us = 0;           // elapsed time = now_us - state.last_step_us
  uint32_t mss = 0;              // 0 = unknown (TAS's 1400)
  uint32_t tx_buffer_bytes = 0;  // 0 = unknown
};

struct StepResult {
  CcFlowState state;  // the next record, sealed
  uint32_t rate_kbps = 0;
  StepOutcome outcome = StepOutcome::kRateSet;
  // Whether the algorithm decided a rate. When not, the actor should leave the flow's rate
  // alone: the fast path may have halved it on a loss since, and rewriting the old value
  // would undo that.
  bool decided() const { return outcome == StepOutcome::kRateSet; }
};

// A new connection under `algorithm` (TAS's cc_conn_init): its initial rate, slow start, the
// counter snapshot taken from `sample`, its first step due from `now_us`.
CcFlowState start_flow(const Params& params, Algorithm algorithm, uint64_t flow_key,
                       const FlowSample& sample, uint64_t now_us);

// A running flow whose record is missing or unusable (a restarted cc): continue from the rate
// the flow has now (its tx_rate_kbps) as if congestion had been seen -- no slow start, no
// return to the initial rate. The counter snapshot starts at `sample`, so the first step sees
// only what happens from now on.
CcFlowState adopt_flow(const Params& params, Algorithm algorithm, uint64_t flow_key,
                       uint32_t current_rate_kbps, const FlowSample& sample, uint64_t now_us);

// After a restart: the stored record if check_resumable() accepts it for `flow_key`, else a
// record adopted under params.algorithm. `found` says which, and why.
struct Attached {
  CcFlowState state;
  ResumeCheck found = ResumeCheck::kBlank;
  bool resumed() const { return found == ResumeCheck::kResumable; }
};
Attached resume_or_adopt(const Params& params, const CcFlowState& stored, uint64_t flow_key,
                         uint32_t current_rate_kbps, const FlowSample& sample, uint64_t now_us);

// Differences of the monotonic counters, modulo 2^32 (they wrap freely).
CounterDelta counter_delta(const FlowCounters& before, const FlowCounters& after);

// One control step from counter differences. The record's algorithm decides; last_step_us
// becomes now_us whatever the outcome (as TAS's cc_last_ts). A record with an unknown
// algorithm comes back unchanged with kBadState.
StepResult step(const Params& params, const CcFlowState& state, const StepInput& input);

// One control step from what the actor read of the flow: the differences against the
// record's snapshot, which then moves to `sample.counters`.
StepResult control_step(const Params& params, const CcFlowState& state, const FlowSample& sample,
                        uint64_t now_us);

// Moves a flow to another algorithm at run time. The new algorithm starts from the current
// rate (an unlimited flow from what it was measured to use), keeps DCTCP's alpha between
// dctcp-rate and dctcp-win, and starts in slow start only if the old one had not left it.
// The snapshot, RTT, measured rate and step time carry over. Switching to the same algorithm,
// or to a value that is no Algorithm, changes nothing.
CcFlowState switch_algorithm(const Params& params, const CcFlowState& state, Algorithm to);

// New parameters at run time: applies at once what must not wait for the next step (a new
// const rate, a raised floor, a new link bandwidth); everything else takes effect at the
// flow's next step, which reads the new Params. A new params.algorithm is for new flows;
// running flows change only with switch_algorithm.
CcFlowState retune(const Params& params, const CcFlowState& state);

}  // namespace vtas::cc
