#include "components/cc/algorithms/timely.h"

#include <algorithm>

#include "components/cc/algorithms/control_laws.h"

namespace vtas::cc {
namespace {

// RTT differences beyond +-1000 s are nonsense (a torn record); bounding them keeps every
// product below in 128 bits.
constexpr int64_t kMaxRttDiffNs = int64_t{1} << 50;

int64_t bound_diff(Int128 v) {
  return static_cast<int64_t>(std::clamp<Int128>(v, -kMaxRttDiffNs, kMaxRttDiffNs));
}

uint32_t floor_rate(const Params& p, uint64_t rate) {
  return saturate_u32(std::max<uint64_t>({rate, p.timely_min_rate_kbps, 1}));
}

// rate * (1 - beta * x), x in Q32 (>= 0); 0 when beta * x >= 1.
uint64_t decrease(uint64_t rate, uint64_t beta_q32, Int128 x_q32) {
  const Int128 cut = (static_cast<Int128>(beta_q32) * x_q32) >> 32;
  if (cut >= static_cast<Int128>(kQ32One)) return 0;
  return q32_mul(rate, kQ32One - static_cast<uint64_t>(cut));
}

class Timely final : public CcAlgorithm {
 public:
  Algorithm id() const override { return Algorithm::kTimely; }

  void start(const Params& p, uint32_t /*mss*/, CcFlowState& s) const override {
    s.algo.timely = TimelyState{};
    s.rate_kbps = floor_rate(p, p.timely_init_kbps);
    set_slow_start(s, true);
  }

  void take_over(const Params& p, const Handover& h, CcFlowState& s) const override {
    s.algo.timely = TimelyState{};
    if (h.rate_kbps != 0) {
      s.rate_kbps = floor_rate(p, h.rate_kbps);
    } else if (s.act_avg_kbps != 0) {
      s.rate_kbps = floor_rate(p, std::max(s.act_avg_kbps, p.timely_init_kbps));
    } else {
      s.rate_kbps = 0;  // unlimited until the first step's 1.2x clamp measures the flow
    }
    // Slow start skips the clamp: an unmeasured unlimited flow must meet it at once.
    set_slow_start(s, !h.congestion_seen && s.rate_kbps != 0);
  }

  StepOutcome step(const Params& p, const ControlSignals& in, CcFlowState& s) const override {
    TimelyState& t = s.algo.timely;
    t.pending_ack_bytes = add_sat(t.pending_ack_bytes, uint64_t{in.delta.ack_bytes});
    t.pending_us = add_sat(t.pending_us, in.elapsed_us);
    const uint32_t rtt = in.rtt_us;
    if (rtt == 0) return StepOutcome::kNoRttSample;

    uint64_t rate = limit_of(s.rate_kbps);
    uint32_t used = 0;
    const bool measured = t.pending_us > 0;
    if (measured) used = measure_used_rate(s, t.pending_ack_bytes, t.pending_us);
    t.pending_ack_bytes = 0;
    t.pending_us = 0;

    if (in_slow_start(s) && rtt > (uint64_t{p.timely_tlow_us} + p.timely_thigh_us) / 2) {
      set_slow_start(s, false);
    }
    if (!in_slow_start(s) && measured) rate = clamp_to_used(rate, used);

    Int128 gradient_q32 = 0;  // rtt_diff / min_rtt
    if (t.rtt_prev_us != 0) {
      const Int128 sample_ns = (static_cast<Int128>(rtt) - t.rtt_prev_us) * 1000;
      const Int128 diff = bound_diff(t.rtt_diff_ns);
      const Int128 a = p.timely_alpha_q32;
      t.rtt_diff_ns = bound_diff(((static_cast<Int128>(kQ32One) - a) * diff + a * sample_ns) /
                                 static_cast<Int128>(kQ32One));
      gradient_q32 = (static_cast<Int128>(t.rtt_diff_ns) << 32) /
                     (static_cast<Int128>(p.timely_min_rtt_us) * 1000);
    }
    t.rtt_prev_us = rtt;

    const uint64_t before = rate;
    if (in_slow_start(s)) {
      rate = std::min<uint64_t>(rate * 2, kMaxRateKbps);
    } else if (rtt < p.timely_tlow_us) {
      rate += p.timely_step_kbps;
      t.hai_count = 0;
    } else if (rtt > p.timely_thigh_us) {
      // 1 - thigh/rtt in Q32.
      const uint64_t over = kQ32One - mul_div(p.timely_thigh_us, kQ32One, rtt);
      rate = decrease(rate, p.timely_beta_q32, over);
      t.hai_count = 0;
    } else if (gradient_q32 <= 0) {
      t.hai_count = std::min(t.hai_count, kTimelyHaiSteps - 1) + 1;
      const uint64_t steps = t.hai_count >= kTimelyHaiSteps ? kTimelyHaiSteps : 1;
      rate += steps * p.timely_step_kbps;
    } else {
      rate = decrease(rate, p.timely_beta_q32, gradient_q32);
      t.hai_count = 0;
    }
    rate = std::max(rate, before / 2);

    s.rtt_us = rtt;
    s.rate_kbps = floor_rate(p, rate);
    return StepOutcome::kRateSet;
  }

  void retune(const Params& p, CcFlowState& s) const override {
    if (s.rate_kbps != 0) s.rate_kbps = floor_rate(p, s.rate_kbps);
  }

  Handover handover(const CcFlowState& s) const override {
    return Handover{.rate_kbps = s.rate_kbps, .congestion_seen = !in_slow_start(s)};
  }
};

}  // namespace

const CcAlgorithm& timely_algorithm() {
  static const Timely algorithm;
  return algorithm;
}

}  // namespace vtas::cc
