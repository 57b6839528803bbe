#include "components/cc/algorithms/dctcp_rate.h"

#include <algorithm>

#include "components/cc/algorithms/control_laws.h"

namespace vtas::cc {
namespace {

uint32_t floor_rate(const Params& p, uint64_t rate) {
  return saturate_u32(std::max<uint64_t>({rate, p.dctcp_min_kbps, 1}));
}

class DctcpRate final : public CcAlgorithm {
 public:
  Algorithm id() const override { return Algorithm::kDctcpRate; }

  void start(const Params& p, uint32_t /*mss*/, CcFlowState& s) const override {
    s.algo.dctcp_rate = DctcpRateState{};
    s.rate_kbps = floor_rate(p, p.dctcp_init_kbps);
    set_slow_start(s, true);
  }

  void take_over(const Params& p, const Handover& h, CcFlowState& s) const override {
    s.algo.dctcp_rate = DctcpRateState{};
    s.algo.dctcp_rate.alpha_q32 = h.has_alpha ? h.alpha_q32 : 0;
    if (h.rate_kbps != 0) {
      s.rate_kbps = floor_rate(p, h.rate_kbps);
    } else if (s.act_avg_kbps != 0) {
      s.rate_kbps = floor_rate(p, std::max(s.act_avg_kbps, p.dctcp_init_kbps));
    } else {
      s.rate_kbps = 0;  // unlimited until the first step's 1.2x clamp measures the flow
    }
    set_slow_start(s, !h.congestion_seen);
  }

  StepOutcome step(const Params& p, const ControlSignals& in, CcFlowState& s) const override {
    DctcpRateState& d = s.algo.dctcp_rate;
    s.rtt_us = in.rtt_us != 0 ? in.rtt_us : p.rtt_init_us;

    d.pending_acks = add_sat(d.pending_acks, in.delta.acks);
    d.pending_ack_bytes = add_sat(d.pending_ack_bytes, uint64_t{in.delta.ack_bytes});
    d.pending_ecn_bytes = add_sat(d.pending_ecn_bytes, uint64_t{in.delta.ecn_bytes});
    d.pending_us = add_sat(d.pending_us, in.elapsed_us);
    const uint32_t losses = in.delta.loss_events();

    if (d.pending_acks < p.dctcp_minpkts) {
      if (losses == 0) return StepOutcome::kAccumulating;
      // A loss does not wait for minpkts ACKs: the fast path already halved the rate on its
      // go-back-N, and a flow stalled by the loss may not see 50 ACKs for a long time.
      set_slow_start(s, false);
      s.rate_kbps = floor_rate(p, halve_per_loss(limit_of(s.rate_kbps), losses));
      return StepOutcome::kRateSet;
    }

    const uint64_t acked = d.pending_ack_bytes;
    const uint64_t ecn = d.pending_ecn_bytes;
    const uint64_t span_us = d.pending_us;
    d.pending_acks = 0;
    d.pending_ack_bytes = 0;
    d.pending_ecn_bytes = 0;
    d.pending_us = 0;

    uint64_t rate = limit_of(s.rate_kbps);
    if (span_us > 0) rate = clamp_to_used(rate, measure_used_rate(s, acked, span_us));

    if (in_slow_start(s)) {
      if (losses == 0 && ecn == 0) {
        rate = std::min<uint64_t>(rate * 2, kMaxRateKbps);
      } else {
        set_slow_start(s, false);
      }
    }
    if (!in_slow_start(s)) {
      if (losses > 0) {
        rate = halve_per_loss(rate, losses);
      } else {
        if (acked > 0) d.alpha_q32 = dctcp_alpha(d.alpha_q32, acked, ecn, p.dctcp_weight_q32);
        if (ecn > 0) {
          rate = dctcp_reduce(rate, d.alpha_q32);
        } else if (p.dctcp_mimd_q32 == 0) {
          rate += p.dctcp_step_kbps;
        } else {
          rate = q32_mul(rate, p.dctcp_mimd_q32);
        }
      }
    }
    s.rate_kbps = floor_rate(p, rate);
    return StepOutcome::kRateSet;
  }

  void retune(const Params& p, CcFlowState& s) const override {
    if (s.rate_kbps != 0) s.rate_kbps = floor_rate(p, s.rate_kbps);
  }

  Handover handover(const CcFlowState& s) const override {
    return Handover{.rate_kbps = s.rate_kbps,
                    .congestion_seen = !in_slow_start(s),
                    .has_alpha = true,
                    .alpha_q32 = s.algo.dctcp_rate.alpha_q32};
  }
};

}  // namespace

const CcAlgorithm& dctcp_rate_algorithm() {
  static const DctcpRate algorithm;
  return algorithm;
}

}  // namespace vtas::cc
