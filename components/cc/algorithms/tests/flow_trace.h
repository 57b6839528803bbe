// FlowTrace: drives one flow's congestion control through a hand-written trace on a fake
// clock, for the tests in this folder. Each after() advances the clock and runs one step.
#pragma once

#include <chrono>
#include <cstdint>

#include "components/cc/algorithms/congestion_control.h"
#include "runtime/clock.h"

namespace vtas::cc::testing {

inline constexpr uint64_t kFlowKey = 0x0a000001'0a000002ull;

// A delta with `acks` ACKs for `ack_bytes`, `ecn_bytes` of them ECE-marked, `drops` losses.
inline CounterDelta acked(uint32_t acks, uint32_t ack_bytes, uint32_t ecn_bytes = 0,
                          uint32_t drops = 0) {
  return CounterDelta{.acks = acks,
                      .ack_bytes = ack_bytes,
                      .ecn_bytes = ecn_bytes,
                      .drops = drops,
                      .rexmit_timeouts = 0};
}

class FlowTrace {
 public:
  FlowTrace(const Params& params, Algorithm algorithm, FlowSample first = {}) : params_(params) {
    state_ = start_flow(params_, algorithm, kFlowKey, first, now_us());
  }

  uint64_t now_us() const { return to_ns(clock_.now()) / 1000; }

  // Advances the fake clock by `us` and runs one step with this interval's counters.
  StepResult after(uint64_t us, CounterDelta delta, uint32_t rtt_us, uint32_t mss = 0,
                   uint32_t tx_buffer_bytes = 0) {
    clock_.advance(std::chrono::microseconds(us));
    const StepResult r = step(params_, state_,
                              StepInput{.delta = delta,
                                        .rtt_us = rtt_us,
                                        .now_us = now_us(),
                                        .mss = mss,
                                        .tx_buffer_bytes = tx_buffer_bytes});
    state_ = r.state;
    return r;
  }

  // Puts the flow in congestion avoidance at `rate_kbps` (as if slow start had ended there).
  void in_congestion_avoidance_at(uint32_t rate_kbps) {
    state_.rate_kbps = rate_kbps;
    set_slow_start(state_, false);
  }

  CcFlowState& state() { return state_; }
  Params& params() { return params_; }
  uint32_t rate() const { return state_.rate_kbps; }
  bool slow_start() const { return in_slow_start(state_); }

 private:
  Params params_;
  FakeClock clock_;
  CcFlowState state_{};
};

}  // namespace vtas::cc::testing
