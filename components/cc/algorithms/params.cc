#include "components/cc/algorithms/params.h"

#include <string>

#include "proto/manifest.pb.h"

namespace vtas::cc {
namespace {

constexpr uint32_t kMaxTimeUs = 60000000;  // the 60 s every TAS time flag is limited to

std::string fraction_text(uint64_t q32) {
  return std::to_string(static_cast<double>(q32) / static_cast<double>(kQ32One));
}

Status check_range(std::string_view field, uint64_t value, uint64_t low, uint64_t high,
                   std::string_view unit) {
  if (value >= low && value <= high) return Status();
  return make_error("cc: tas." + std::string(field) + " = " + std::to_string(value) +
                    std::string(unit) + " is out of range (allowed: " + std::to_string(low) + ".." +
                    std::to_string(high) + ")");
}

Status check_fraction(std::string_view field, uint64_t q32) {
  if (q32 <= kQ32One) return Status();
  return make_error("cc: tas." + std::string(field) + " = " + fraction_text(q32) +
                    " is out of range (allowed: 0..1)");
}

// A double from the manifest as Q32, or an error naming it (NaN and infinities included).
Result<uint64_t> fraction_from_proto(std::string_view field, double value, double high) {
  if (!(value >= 0.0 && value <= high)) {
    return make_error("cc: tas." + std::string(field) + " = " + std::to_string(value) +
                      " is out of range (allowed: 0.." + std::to_string(high) + ")");
  }
  return to_q32(value);
}

Result<Algorithm> algorithm_from_proto(manifest::CongestionControl cc) {
  const int value = static_cast<int>(cc);
  if (value >= 0 && value <= 255) {
    if (auto a = algorithm_from_byte(static_cast<uint8_t>(value))) return *a;
  }
  return make_error("cc: tas.cc = " + std::to_string(value) +
                    " is not an algorithm (allowed: CONGESTION_CONTROL_DCTCP_RATE, _DCTCP_WIN, "
                    "_TIMELY, _CONST_RATE)");
}

}  // namespace

std::string_view algorithm_name(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kDctcpRate:
      return "dctcp-rate";
    case Algorithm::kDctcpWin:
      return "dctcp-win";
    case Algorithm::kTimely:
      return "timely";
    case Algorithm::kConstRate:
      return "const-rate";
  }
  return "unknown";
}

std::optional<Algorithm> algorithm_from_byte(uint8_t value) {
  if (value >= static_cast<uint8_t>(Algorithm::kDctcpRate) &&
      value <= static_cast<uint8_t>(Algorithm::kConstRate)) {
    return static_cast<Algorithm>(value);
  }
  return std::nullopt;
}

Status validate(const Params& p) {
  if (!algorithm_from_byte(static_cast<uint8_t>(p.algorithm))) {
    return make_error("cc: tas.cc = " + std::to_string(static_cast<int>(p.algorithm)) +
                      " is not an algorithm (allowed: dctcp-rate, dctcp-win, timely, const-rate)");
  }
  const Status checks[] = {
      check_range("cc_control_granularity", p.control_granularity_us, 1, kMaxTimeUs, " us"),
      check_range("cc_control_interval", p.control_interval_rtts, 1, 1000, " RTTs"),
      check_range("tcp_rtt_init", p.rtt_init_us, 1, kMaxTimeUs, " us"),
      check_range("tcp_link_bw", p.link_bw_gbps, 1, 1000, " Gbit/s"),
      check_fraction("cc_dctcp_weight", p.dctcp_weight_q32),
      check_range("cc_dctcp_minpkts", p.dctcp_minpkts, 0, 1000000, " packets"),
      check_range("cc_timely_tlow", p.timely_tlow_us, 1, kMaxTimeUs, " us"),
      check_range("cc_timely_thigh", p.timely_thigh_us, 1, kMaxTimeUs, " us"),
      check_fraction("cc_timely_alpha", p.timely_alpha_q32),
      check_fraction("cc_timely_beta", p.timely_beta_q32),
      check_range("cc_timely_minrtt", p.timely_min_rtt_us, 1, kMaxTimeUs, " us"),
  };
  for (const Status& s : checks) {
    if (!s) return s;
  }
  if (p.dctcp_mimd_q32 != 0 && (p.dctcp_mimd_q32 < kQ32One || p.dctcp_mimd_q32 > 2 * kQ32One)) {
    return make_error("cc: tas.cc_dctcp_mimd = " + fraction_text(p.dctcp_mimd_q32) +
                      " is out of range (allowed: 0 for off, or a factor in 1..2)");
  }
  if (p.timely_tlow_us >= p.timely_thigh_us) {
    return make_error("cc: tas.cc_timely_tlow (" + std::to_string(p.timely_tlow_us) +
                      " us) must be below tas.cc_timely_thigh (" +
                      std::to_string(p.timely_thigh_us) + " us)");
  }
  return Status();
}

Result<Params> params_from_proto(const manifest::TasParameters& tas) {
  Params p;
  auto algorithm = algorithm_from_proto(tas.cc());
  if (!algorithm) return algorithm.error();
  p.algorithm = *algorithm;
  p.control_granularity_us = tas.cc_control_granularity();
  p.control_interval_rtts = tas.cc_control_interval();
  p.rtt_init_us = tas.tcp_rtt_init();
  p.link_bw_gbps = tas.tcp_link_bw();
  auto weight = fraction_from_proto("cc_dctcp_weight", tas.cc_dctcp_weight(), 1.0);
  if (!weight) return weight.error();
  p.dctcp_weight_q32 = *weight;
  p.dctcp_init_kbps = tas.cc_dctcp_init();
  p.dctcp_step_kbps = tas.cc_dctcp_step();
  auto mimd = fraction_from_proto("cc_dctcp_mimd", tas.cc_dctcp_mimd(), 2.0);
  if (!mimd) return mimd.error();
  p.dctcp_mimd_q32 = *mimd;
  p.dctcp_min_kbps = tas.cc_dctcp_min();
  p.dctcp_minpkts = tas.cc_dctcp_minpkts();
  p.const_rate_kbps = tas.cc_const_rate();
  p.timely_tlow_us = tas.cc_timely_tlow();
  p.timely_thigh_us = tas.cc_timely_thigh();
  p.timely_step_kbps = tas.cc_timely_step();
  p.timely_init_kbps = tas.cc_timely_init();
  auto alpha = fraction_from_proto("cc_timely_alpha", tas.cc_timely_alpha(), 1.0);
  if (!alpha) return alpha.error();
  p.timely_alpha_q32 = *alpha;
  auto beta = fraction_from_proto("cc_timely_beta", tas.cc_timely_beta(), 1.0);
  if (!beta) return beta.error();
  p.timely_beta_q32 = *beta;
  p.timely_min_rtt_us = tas.cc_timely_minrtt();
  p.timely_min_rate_kbps = tas.cc_timely_minrate();
  if (Status s = validate(p); !s) return s.error();
  return p;
}

}  // namespace vtas::cc
