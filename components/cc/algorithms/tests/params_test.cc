// Params from the manifest: proto defaults, TAS documentation over TAS code, fractions as
// Q32, and clear errors for values the algorithms cannot work with.
#include "components/cc/algorithms/params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "proto/manifest.pb.h"

namespace vtas::cc {
namespace {

std::string error_of(const manifest::TasParameters& tas) {
  auto p = params_from_proto(tas);
  return p ? "ok" : p.error().message;
}

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Params, AnEmptyManifestGivesTheDefaults) {
  auto p = params_from_proto(manifest::TasParameters{});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p, Params{});
  EXPECT_EQ(p->algorithm, Algorithm::kDctcpRate);
  EXPECT_EQ(p->dctcp_min_kbps, 10000u);               // TAS's documentation; its code said 0
  EXPECT_EQ(p->const_rate_kbps, 0u);                  // unlimited
  EXPECT_EQ(p->dctcp_weight_q32, uint64_t{1} << 28);  // 1/16 exactly
  EXPECT_EQ(p->dctcp_mimd_q32, 0u);                   // off
  EXPECT_EQ(p->timely_alpha_q32, 85899346u);          // 0.02 * 2^32 = 85899345.92
  EXPECT_EQ(p->timely_beta_q32, 3435973837u);         // 0.8 * 2^32 = 3435973836.8
  EXPECT_TRUE(validate(Params{}));
}

TEST(Params, EveryFieldIsTaken) {
  manifest::TasParameters tas;
  tas.set_cc(manifest::CONGESTION_CONTROL_TIMELY);
  tas.set_cc_control_granularity(20);
  tas.set_cc_control_interval(3);
  tas.set_tcp_rtt_init(40);
  tas.set_tcp_link_bw(25);
  tas.set_cc_dctcp_weight(0.25);
  tas.set_cc_dctcp_init(1);
  tas.set_cc_dctcp_step(2);
  tas.set_cc_dctcp_mimd(1.5);
  tas.set_cc_dctcp_min(3);
  tas.set_cc_dctcp_minpkts(4);
  tas.set_cc_const_rate(5);
  tas.set_cc_timely_tlow(6);
  tas.set_cc_timely_thigh(7);
  tas.set_cc_timely_step(8);
  tas.set_cc_timely_init(9);
  tas.set_cc_timely_alpha(0.5);
  tas.set_cc_timely_beta(1.0);
  tas.set_cc_timely_minrtt(10);
  tas.set_cc_timely_minrate(11);
  auto p = params_from_proto(tas);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->algorithm, Algorithm::kTimely);
  EXPECT_EQ(p->control_granularity_us, 20u);
  EXPECT_EQ(p->control_interval_rtts, 3u);
  EXPECT_EQ(p->rtt_init_us, 40u);
  EXPECT_EQ(p->link_bw_gbps, 25u);
  EXPECT_EQ(p->dctcp_weight_q32, uint64_t{1} << 30);
  EXPECT_EQ(p->dctcp_init_kbps, 1u);
  EXPECT_EQ(p->dctcp_step_kbps, 2u);
  EXPECT_EQ(p->dctcp_mimd_q32, 6442450944u);  // 1.5 * 2^32
  EXPECT_EQ(p->dctcp_min_kbps, 3u);
  EXPECT_EQ(p->dctcp_minpkts, 4u);
  EXPECT_EQ(p->const_rate_kbps, 5u);
  EXPECT_EQ(p->timely_tlow_us, 6u);
  EXPECT_EQ(p->timely_thigh_us, 7u);
  EXPECT_EQ(p->timely_step_kbps, 8u);
  EXPECT_EQ(p->timely_init_kbps, 9u);
  EXPECT_EQ(p->timely_alpha_q32, uint64_t{1} << 31);
  EXPECT_EQ(p->timely_beta_q32, uint64_t{1} << 32);
  EXPECT_EQ(p->timely_min_rtt_us, 10u);
  EXPECT_EQ(p->timely_min_rate_kbps, 11u);
}

TEST(Params, BadValuesAreRefusedWithFieldAndRange) {
  manifest::TasParameters tas;
  tas.set_cc_dctcp_weight(1.5);
  std::string e = error_of(tas);
  EXPECT_TRUE(mentions(e, "cc_dctcp_weight") && mentions(e, "1.5") && mentions(e, "0..1")) << e;

  tas = {};
  tas.set_cc_timely_beta(std::nan(""));
  EXPECT_TRUE(mentions(error_of(tas), "cc_timely_beta")) << error_of(tas);

  tas = {};
  tas.set_cc_dctcp_mimd(0.5);  // 0 is off, factors are 1..2
  EXPECT_TRUE(mentions(error_of(tas), "cc_dctcp_mimd")) << error_of(tas);

  tas = {};
  tas.set_cc_timely_tlow(200);  // above thigh 150
  e = error_of(tas);
  EXPECT_TRUE(mentions(e, "cc_timely_tlow (200 us)") && mentions(e, "150")) << e;

  tas = {};
  tas.set_cc_timely_minrtt(0);  // the gradient divides by it
  EXPECT_TRUE(mentions(error_of(tas), "cc_timely_minrtt = 0")) << error_of(tas);

  tas = {};
  tas.set_cc_control_interval(0);
  EXPECT_TRUE(mentions(error_of(tas), "cc_control_interval")) << error_of(tas);

  tas = {};
  tas.set_tcp_link_bw(0);
  EXPECT_TRUE(mentions(error_of(tas), "tcp_link_bw = 0")) << error_of(tas);

  tas = {};
  tas.set_cc(manifest::CONGESTION_CONTROL_UNSPECIFIED);
  EXPECT_TRUE(mentions(error_of(tas), "tas.cc = 0")) << error_of(tas);
}

TEST(Params, AlgorithmNamesAndBytes) {
  EXPECT_EQ(algorithm_name(Algorithm::kDctcpRate), "dctcp-rate");
  EXPECT_EQ(algorithm_name(Algorithm::kDctcpWin), "dctcp-win");
  EXPECT_EQ(algorithm_name(Algorithm::kTimely), "timely");
  EXPECT_EQ(algorithm_name(Algorithm::kConstRate), "const-rate");
  EXPECT_EQ(algorithm_from_byte(4), Algorithm::kConstRate);
  EXPECT_EQ(algorithm_from_byte(0), std::nullopt);
  EXPECT_EQ(algorithm_from_byte(5), std::nullopt);
  // The bytes are proto CongestionControl's numbers.
  EXPECT_EQ(static_cast<int>(Algorithm::kDctcpWin), manifest::CONGESTION_CONTROL_DCTCP_WIN);
  EXPECT_EQ(static_cast<int>(Algorithm::kConstRate), manifest::CONGESTION_CONTROL_CONST_RATE);
}

}  // namespace
}  // namespace vtas::cc
