// timely against hand-computed traces. Most tests use alpha = beta = 1/2 and minrtt 10 us so
// the arithmetic is exact; tlow 30, thigh 150 (slow start ends above 90), step 10000, init
// 10000, minrate 10000. Unless a test is about the 1.2x clamp, each step acks 100000 bytes in
// 100 us: act = 8,000,000 kbps, far above every rate here.
#include "components/cc/algorithms/timely.h"

#include <gtest/gtest.h>

#include "components/cc/algorithms/tests/flow_trace.h"

namespace vtas::cc {
namespace {

using testing::acked;
using testing::FlowTrace;

constexpr uint64_t kHalf = uint64_t{1} << 31;

Params exact_params() {
  Params p;
  p.timely_alpha_q32 = kHalf;
  p.timely_beta_q32 = kHalf;
  p.timely_min_rtt_us = 10;
  return p;
}

// One step with plenty of acked bytes at `rtt_us`.
StepResult at_rtt(FlowTrace& f, uint32_t rtt_us) {
  return f.after(100, acked(50, 100000), rtt_us);
}

TEST(Timely, SlowStartDoublesUntilTheRttPassesTheMidpoint) {
  FlowTrace f(exact_params(), Algorithm::kTimely);
  EXPECT_EQ(f.rate(), 10000u);
  EXPECT_TRUE(f.slow_start());
  at_rtt(f, 60);
  EXPECT_EQ(f.rate(), 20000u);
  at_rtt(f, 80);  // rtt_diff = 1/2 * 0 + 1/2 * 20000 ns = 10000 ns
  EXPECT_EQ(f.rate(), 40000u);
  EXPECT_TRUE(f.slow_start());
  // rtt 91 > (30 + 150) / 2 = 90: slow start ends. rtt_diff = 1/2 * 10000 + 1/2 * 11000 =
  // 10500 ns, g = 10500 / 10000 = 1.05 > 0: rate * (1 - 1/2 * 1.05) = 40000 * 0.475 = 19000,
  // below half of 40000: the half-rate bound gives 20000.
  at_rtt(f, 91);
  EXPECT_FALSE(f.slow_start());
  EXPECT_EQ(f.state().algo.timely.rtt_diff_ns, 10500);
  EXPECT_EQ(f.rate(), 20000u);
}

TEST(Timely, SteadyRttAddsTheStepThenHyperActiveIncrease) {
  FlowTrace f(exact_params(), Algorithm::kTimely);
  f.in_congestion_avoidance_at(100000);
  // rtt 60 between tlow and thigh, unchanged: gradient 0 (the first step has no previous
  // sample), so + 10000 for steps 1..4, + 5 * 10000 from the 5th on.
  const uint32_t expected[] = {110000, 120000, 130000, 140000, 190000, 240000};
  for (uint32_t rate : expected) {
    at_rtt(f, 60);
    EXPECT_EQ(f.rate(), rate);
  }
  EXPECT_EQ(f.state().algo.timely.rtt_diff_ns, 0);
}

TEST(Timely, RttBelowTlowAddsTheStepAndResetsHai) {
  FlowTrace f(exact_params(), Algorithm::kTimely);
  f.in_congestion_avoidance_at(100000);
  f.state().algo.timely.hai_count = 4;
  at_rtt(f, 20);  // 20 < 30
  EXPECT_EQ(f.rate(), 110000u);
  EXPECT_EQ(f.state().algo.timely.hai_count, 0u);
}

TEST(Timely, RttAboveThighCutsByBetaTimesTheExcess) {
  FlowTrace f(exact_params(), Algorithm::kTimely);
  f.in_congestion_avoidance_at(100000);
  f.state().algo.timely.hai_count = 3;
  // rate * (1 - 1/2 * (1 - 150/300)) = 100000 * 0.75.
  at_rtt(f, 300);
  EXPECT_EQ(f.rate(), 75000u);
  EXPECT_EQ(f.state().algo.timely.hai_count, 0u);

  FlowTrace d(Params{}, Algorithm::kTimely);  // TAS defaults, beta 0.8
  d.in_congestion_avoidance_at(100000);
  at_rtt(d, 200);  // 100000 * (1 - 0.8 * (1 - 150/200)) = 100000 * 0.8
  EXPECT_EQ(d.rate(), 80000u);
}

TEST(Timely, NeverBelowHalfTheRateInOneStep) {
  Params p = exact_params();
  p.timely_beta_q32 = kQ32One;  // beta 1
  FlowTrace f(p, Algorithm::kTimely);
  f.in_congestion_avoidance_at(100000);
  // 100000 * (1 - (1 - 150/3000)) = 5000, bounded to 100000 / 2.
  at_rtt(f, 3000);
  EXPECT_EQ(f.rate(), 50000u);
  at_rtt(f, 3000);
  EXPECT_EQ(f.rate(), 25000u);
}

TEST(Timely, PositiveGradientCutsAndNegativeRecovers) {
  FlowTrace f(exact_params(), Algorithm::kTimely);
  f.in_congestion_avoidance_at(200000);
  at_rtt(f, 100);  // no previous sample: g = 0, + 10000
  EXPECT_EQ(f.rate(), 210000u);
  // +4 us: rtt_diff = 1/2 * 4000 = 2000 ns, g = 2000 / 10000 = 0.2:
  // 210000 * (1 - 1/2 * 0.2) = 189000.
  at_rtt(f, 104);
  EXPECT_EQ(f.state().algo.timely.rtt_diff_ns, 2000);
  EXPECT_EQ(f.rate(), 189000u);
  // Same RTT: rtt_diff = 1/2 * 2000 = 1000 ns, g = 0.1: 189000 * 0.95 = 179550.
  at_rtt(f, 104);
  EXPECT_EQ(f.rate(), 179550u);
  // Back to 100: rtt_diff = 1/2 * 1000 + 1/2 * (-4000) = -1500 ns, g < 0: + 10000.
  at_rtt(f, 100);
  EXPECT_EQ(f.state().algo.timely.rtt_diff_ns, -1500);
  EXPECT_EQ(f.rate(), 189550u);
}

TEST(Timely, SmallRttChangesCountWithTheDefaultAlpha) {
  FlowTrace f(Params{}, Algorithm::kTimely);  // alpha 0.02, beta 0.8, minrtt 11
  f.in_congestion_avoidance_at(100000);
  f.state().algo.timely.rtt_prev_us = 100;
  // +10 us: rtt_diff = 0.02 * 10000 ns = 200 ns (TAS kept whole us: 0.2 -> 0, a + step);
  // g = 200 / 11000 = 0.01818; rate = 100000 * (1 - 0.8 * 0.01818) = 98545.45 -> 98545.
  at_rtt(f, 110);
  EXPECT_EQ(f.state().algo.timely.rtt_diff_ns, 200);
  EXPECT_EQ(f.rate(), 98545u);
}

TEST(Timely, RateStaysWithinOnePointTwoTimesTheUsedRateOutsideSlowStart) {
  FlowTrace f(exact_params(), Algorithm::kTimely);
  f.in_congestion_avoidance_at(1000000);
  // 5000 bytes in 100 us: act 400,000, act_avg 50,000: clamp to 480,000; then + 10000.
  // The half-rate bound counts from the clamped rate (as TAS): 490,000 < 1,000,000 / 2.
  f.after(100, acked(5, 5000), 60);
  EXPECT_EQ(f.rate(), 490000u);

  FlowTrace s(exact_params(), Algorithm::kTimely);  // in slow start the clamp does not apply
  s.after(100, acked(1, 100), 60);                  // act = 8000 kbps, 1.2x = 9600
  EXPECT_EQ(s.rate(), 20000u);
}

TEST(Timely, NoRttSampleDecidesNothing) {
  FlowTrace f(exact_params(), Algorithm::kTimely);
  auto r = f.after(100, acked(5, 10000), 0);
  EXPECT_EQ(r.outcome, StepOutcome::kNoRttSample);
  EXPECT_FALSE(r.decided());
  EXPECT_EQ(f.rate(), 10000u);
  EXPECT_TRUE(f.slow_start());
  EXPECT_EQ(f.state().act_avg_kbps, 0u);
  // The next step measures across both: 20000 bytes * 8000 / 200 us = 800,000, avg 100,000.
  r = f.after(100, acked(5, 10000), 50);
  EXPECT_EQ(r.outcome, StepOutcome::kRateSet);
  EXPECT_EQ(f.state().act_avg_kbps, 100000u);
  EXPECT_EQ(f.rate(), 20000u);
}

TEST(Timely, FloorIsMinRate) {
  FlowTrace f(exact_params(), Algorithm::kTimely);
  f.in_congestion_avoidance_at(12000);
  at_rtt(f, 300);  // 12000 * 0.75 = 9000 < 10000
  EXPECT_EQ(f.rate(), 10000u);
}

}  // namespace
}  // namespace vtas::cc
