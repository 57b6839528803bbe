#include "components/cc/algorithms/const_rate.h"

#include "components/cc/algorithms/control_laws.h"

namespace vtas::cc {
namespace {

class ConstRate final : public CcAlgorithm {
 public:
  Algorithm id() const override { return Algorithm::kConstRate; }

  void start(const Params& p, uint32_t /*mss*/, CcFlowState& s) const override {
    s.algo.const_rate = ConstRateState{};
    s.rate_kbps = p.const_rate_kbps;
    set_slow_start(s, false);
  }

  void take_over(const Params& p, const Handover& /*handover*/, CcFlowState& s) const override {
    start(p, 0, s);
  }

  StepOutcome step(const Params& p, const ControlSignals& in, CcFlowState& s) const override {
    s.rtt_us = in.rtt_us != 0 ? in.rtt_us : p.rtt_init_us;
    if (in.elapsed_us > 0) measure_used_rate(s, in.delta.ack_bytes, in.elapsed_us);
    s.rate_kbps = p.const_rate_kbps;
    return StepOutcome::kRateSet;
  }

  void retune(const Params& p, CcFlowState& s) const override { s.rate_kbps = p.const_rate_kbps; }

  // A fixed rate is no congestion feedback: the next algorithm may probe in slow start.
  Handover handover(const CcFlowState& s) const override {
    return Handover{.rate_kbps = s.rate_kbps, .congestion_seen = false};
  }
};

}  // namespace

const CcAlgorithm& const_rate_algorithm() {
  static const ConstRate algorithm;
  return algorithm;
}

}  // namespace vtas::cc
