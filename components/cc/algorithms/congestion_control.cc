#include "components/cc/algorithms/congestion_control.h"

#include "components/cc/algorithms/const_rate.h"
#include "components/cc/algorithms/dctcp_rate.h"
#include "components/cc/algorithms/dctcp_win.h"
#include "components/cc/algorithms/timely.h"

namespace vtas::cc {

const CcAlgorithm& algorithm_impl(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kDctcpWin:
      return dctcp_win_algorithm();
    case Algorithm::kTimely:
      return timely_algorithm();
    case Algorithm::kConstRate:
      return const_rate_algorithm();
    case Algorithm::kDctcpRate:
      break;
  }
  return dctcp_rate_algorithm();
}

namespace {

// The common part of a fresh record.
CcFlowState blank_record(const Params& params, Algorithm algorithm, uint64_t flow_key,
                         const FlowSample& sample, uint64_t now_us) {
  CcFlowState s{};
  s.algorithm = static_cast<uint8_t>(algorithm);
  s.flow_key = flow_key;
  s.last_step_us = now_us;
  s.rtt_us = sample.rtt_us != 0 ? sample.rtt_us : params.rtt_init_us;
  s.seen = sample.counters;
  return s;
}

}  // namespace

CcFlowState start_flow(const Params& params, Algorithm algorithm, uint64_t flow_key,
                       const FlowSample& sample, uint64_t now_us) {
  CcFlowState s = blank_record(params, algorithm, flow_key, sample, now_us);
  algorithm_impl(algorithm).start(params, sample.mss, s);
  seal(s);
  return s;
}

CcFlowState adopt_flow(const Params& params, Algorithm algorithm, uint64_t flow_key,
                       uint32_t current_rate_kbps, const FlowSample& sample, uint64_t now_us) {
  CcFlowState s = blank_record(params, algorithm, flow_key, sample, now_us);
  const Handover from_flow{.rate_kbps = current_rate_kbps, .congestion_seen = true};
  algorithm_impl(algorithm).take_over(params, from_flow, s);
  seal(s);
  return s;
}

Attached resume_or_adopt(const Params& params, const CcFlowState& stored, uint64_t flow_key,
                         uint32_t current_rate_kbps, const FlowSample& sample, uint64_t now_us) {
  const ResumeCheck found = check_resumable(stored, flow_key);
  if (found == ResumeCheck::kResumable) return Attached{stored, found};
  return Attached{adopt_flow(params, params.algorithm, flow_key, current_rate_kbps, sample, now_us),
                  found};
}

CounterDelta counter_delta(const FlowCounters& before, const FlowCounters& after) {
  return CounterDelta{.acks = after.acks - before.acks,
                      .ack_bytes = after.ack_bytes - before.ack_bytes,
                      .ecn_bytes = after.ecn_bytes - before.ecn_bytes,
                      // a net count that stepped back (an undo, see flow_view.cc) is no loss
                      .drops = static_cast<int32_t>(after.drops - before.drops) > 0
                                   ? after.drops - before.drops
                                   : 0,
                      .rexmit_timeouts =
                          static_cast<int32_t>(after.rexmit_timeouts - before.rexmit_timeouts) > 0
                              ? after.rexmit_timeouts - before.rexmit_timeouts
                              : 0};
}

StepResult step(const Params& params, const CcFlowState& state, const StepInput& input) {
  const auto algorithm = algorithm_from_byte(state.algorithm);
  if (!algorithm) return StepResult{state, state.rate_kbps, StepOutcome::kBadState};

  CcFlowState s = state;
  ControlSignals signals;
  signals.delta = input.delta;
  signals.rtt_us = input.rtt_us;
  // A step time ahead of now (a record from a crash, or a clock mix-up) measures nothing.
  signals.elapsed_us = input.now_us >= s.last_step_us ? input.now_us - s.last_step_us : 0;
  signals.mss = input.mss != 0 ? input.mss : kDefaultMss;
  signals.tx_buffer_bytes = input.tx_buffer_bytes;

  const StepOutcome outcome = algorithm_impl(*algorithm).step(params, signals, s);
  s.last_step_us = input.now_us;
  seal(s);
  return StepResult{s, s.rate_kbps, outcome};
}

StepResult control_step(const Params& params, const CcFlowState& state, const FlowSample& sample,
                        uint64_t now_us) {
  const StepInput input{.delta = counter_delta(state.seen, sample.counters),
                        .rtt_us = sample.rtt_us,
                        .now_us = now_us,
                        .mss = sample.mss,
                        .tx_buffer_bytes = sample.tx_buffer_bytes};
  StepResult r = step(params, state, input);
  if (r.outcome != StepOutcome::kBadState) {
    r.state.seen = sample.counters;
    seal(r.state);
  }
  return r;
}

CcFlowState switch_algorithm(const Params& params, const CcFlowState& state, Algorithm to) {
  const auto from = algorithm_from_byte(state.algorithm);
  if (from == to || !algorithm_from_byte(static_cast<uint8_t>(to))) return state;
  CcFlowState s = state;
  // Without a known algorithm there is nothing to hand over but the rate itself.
  const Handover handover = from ? algorithm_impl(*from).handover(state)
                                 : Handover{.rate_kbps = state.rate_kbps, .congestion_seen = true};
  s.algo = AlgorithmState{};
  s.algorithm = static_cast<uint8_t>(to);
  s.flags = 0;
  algorithm_impl(to).take_over(params, handover, s);
  seal(s);
  return s;
}

CcFlowState retune(const Params& params, const CcFlowState& state) {
  const auto algorithm = algorithm_from_byte(state.algorithm);
  if (!algorithm) return state;
  CcFlowState s = state;
  algorithm_impl(*algorithm).retune(params, s);
  seal(s);
  return s;
}

}  // namespace vtas::cc
