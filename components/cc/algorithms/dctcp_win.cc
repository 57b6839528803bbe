#include "components/cc/algorithms/dctcp_win.h"

#include <algorithm>
#include <limits>

#include "components/cc/algorithms/control_laws.h"

namespace vtas::cc {

uint32_t window_to_rate_kbps(uint32_t window_bytes, uint32_t rtt_us, uint32_t link_gbps) {
  const uint64_t per_rtt = mul_div(window_bytes, 8000, std::max<uint32_t>(rtt_us, 1));
  const uint64_t link = uint64_t{link_gbps} * 1000000;
  return saturate_u32(std::max<uint64_t>(std::min(per_rtt, link), 1));
}

uint32_t rate_to_window_bytes(uint32_t rate_kbps, uint32_t rtt_us) {
  return saturate_u32(mul_div(rate_kbps, rtt_us, 8000));
}

namespace {

constexpr uint32_t kUnboundedWindow = std::numeric_limits<uint32_t>::max();

uint32_t schedule_rtt(const Params& p, uint32_t rtt_us) {
  return rtt_us != 0 ? rtt_us : p.rtt_init_us;
}

class DctcpWin final : public CcAlgorithm {
 public:
  Algorithm id() const override { return Algorithm::kDctcpWin; }

  void start(const Params& p, uint32_t mss, CcFlowState& s) const override {
    s.algo.dctcp_win = DctcpWinState{};
    const uint32_t segment = mss != 0 ? mss : kDefaultMss;
    s.algo.dctcp_win.window_bytes = saturate_u32(uint64_t{2} * segment);
    s.rate_kbps = window_to_rate_kbps(s.algo.dctcp_win.window_bytes, p.rtt_init_us, p.link_bw_gbps);
    set_slow_start(s, true);
  }

  void take_over(const Params& p, const Handover& h, CcFlowState& s) const override {
    s.algo.dctcp_win = DctcpWinState{};
    s.algo.dctcp_win.alpha_q32 = h.has_alpha ? h.alpha_q32 : 0;
    const uint32_t rtt = schedule_rtt(p, s.rtt_us);
    // Unlimited and unmeasured: the first step caps the window at the send buffer, the most
    // the flow can have in flight anyway.
    uint32_t window = kUnboundedWindow;
    if (h.rate_kbps != 0) {
      window = rate_to_window_bytes(h.rate_kbps, rtt);
    } else if (s.act_avg_kbps != 0) {
      window = rate_to_window_bytes(s.act_avg_kbps, rtt);
    }
    // The flow's MSS is not known here; the next step applies it.
    s.algo.dctcp_win.window_bytes = std::max(window, kDefaultMss);
    s.rate_kbps = window_to_rate_kbps(s.algo.dctcp_win.window_bytes, rtt, p.link_bw_gbps);
    set_slow_start(s, !h.congestion_seen && window != kUnboundedWindow);
  }

  StepOutcome step(const Params& p, const ControlSignals& in, CcFlowState& s) const override {
    DctcpWinState& d = s.algo.dctcp_win;
    const uint32_t mss = in.mss != 0 ? in.mss : kDefaultMss;
    const uint32_t rtt = schedule_rtt(p, in.rtt_us);
    const uint32_t losses = in.delta.loss_events();
    const uint64_t acked = in.delta.ack_bytes;
    const uint64_t ecn = in.delta.ecn_bytes;
    uint64_t window = std::max(d.window_bytes, mss);  // also repairs a record from a crash

    if (in_slow_start(s)) {
      if (losses == 0 && ecn == 0) {
        window += acked;
      } else {
        set_slow_start(s, false);
      }
    }
    if (!in_slow_start(s)) {
      if (losses > 0) {
        window = halve_per_loss(window, losses);
      } else {
        if (acked > 0) d.alpha_q32 = dctcp_alpha(d.alpha_q32, acked, ecn, p.dctcp_weight_q32);
        if (ecn > 0) {
          window = dctcp_reduce(window, d.alpha_q32);
        } else {
          window += acked * mss / window;
        }
      }
    }
    if (in.tx_buffer_bytes != 0) window = std::min<uint64_t>(window, in.tx_buffer_bytes);
    window = std::max<uint64_t>(window, mss);

    d.window_bytes = saturate_u32(window);
    s.rtt_us = rtt;
    s.rate_kbps = window_to_rate_kbps(d.window_bytes, rtt, p.link_bw_gbps);
    return StepOutcome::kRateSet;
  }

  void retune(const Params& p, CcFlowState& s) const override {
    const uint32_t window = std::max(s.algo.dctcp_win.window_bytes, uint32_t{1});
    s.rate_kbps = window_to_rate_kbps(window, schedule_rtt(p, s.rtt_us), p.link_bw_gbps);
  }

  Handover handover(const CcFlowState& s) const override {
    return Handover{.rate_kbps = s.rate_kbps,
                    .congestion_seen = !in_slow_start(s),
                    .has_alpha = true,
                    .alpha_q32 = s.algo.dctcp_win.alpha_q32};
  }
};

}  // namespace

const CcAlgorithm& dctcp_win_algorithm() {
  static const DctcpWin algorithm;
  return algorithm;
}

}  // namespace vtas::cc
