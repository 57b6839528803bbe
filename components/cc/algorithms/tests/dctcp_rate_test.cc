// dctcp-rate against hand-computed traces. Defaults unless a test says otherwise: init 10000
// kbps, step 10000 kbps, g = 1/16, min 10000 kbps, minpkts 50. Measured rate:
// act = bytes * 8000 / us, act_avg = (7 act_avg + act) / 8, clamp = 1.2 * max(act, act_avg).
#include "components/cc/algorithms/dctcp_rate.h"

#include <gtest/gtest.h>

#include "components/cc/algorithms/tests/flow_trace.h"

namespace vtas::cc {
namespace {

using testing::acked;
using testing::FlowTrace;

constexpr uint64_t kOneThirtySecond = uint64_t{1} << 27;  // 1/32 in Q32

TEST(DctcpRate, StartsAtInitRateInSlowStart) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  EXPECT_EQ(f.rate(), 10000u);
  EXPECT_TRUE(f.slow_start());
  EXPECT_EQ(f.state().algo.dctcp_rate.alpha_q32, 0u);
  EXPECT_EQ(f.state().rtt_us, 50u);  // --tcp-rtt-init until a sample arrives
}

TEST(DctcpRate, SlowStartDoublesThenEcnEndsItAndCongestionAvoidanceRecovers) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  // 50 ACKs for 100000 bytes every 100 us: act = 100000 * 8000 / 100 = 8,000,000 kbps, so
  // the 1.2x clamp (>= 9,600,000) never binds in this trace.
  auto r = f.after(100, acked(50, 100000), 50);
  EXPECT_EQ(r.outcome, StepOutcome::kRateSet);
  EXPECT_EQ(f.state().act_avg_kbps, 1000000u);  // (7 * 0 + 8,000,000) / 8
  EXPECT_EQ(f.rate(), 20000u);                  // slow start: 10000 * 2
  f.after(100, acked(50, 100000), 50);
  EXPECT_EQ(f.state().act_avg_kbps, 1875000u);  // (7 * 1,000,000 + 8,000,000) / 8
  EXPECT_EQ(f.rate(), 40000u);                  // 20000 * 2
  EXPECT_TRUE(f.slow_start());

  // Half of the bytes ECN-marked: slow start ends and congestion avoidance runs in the same
  // step: F = 1/2, alpha = 1/16 * 1/2 + 15/16 * 0 = 1/32, rate = 40000 * (1 - 1/64) = 39375.
  f.after(100, acked(50, 100000, 50000), 50);
  EXPECT_FALSE(f.slow_start());
  EXPECT_EQ(f.state().algo.dctcp_rate.alpha_q32, kOneThirtySecond);
  EXPECT_EQ(f.rate(), 39375u);

  // Recovery: no marks, alpha = 15/16 * 1/32 = 15/512 (15/512 * 2^32 = 125829120), rate + 10000.
  f.after(100, acked(50, 100000), 50);
  EXPECT_EQ(f.state().algo.dctcp_rate.alpha_q32, 125829120u);
  EXPECT_EQ(f.rate(), 49375u);
  EXPECT_FALSE(f.slow_start());  // slow start does not come back
}

TEST(DctcpRate, EcnFractionDrivesAlphaAndTheCut) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.in_congestion_avoidance_at(200000);
  // F = 50000/100000 = 1/2: alpha = 1/32, rate = 200000 * (1 - 1/64) = 196875.
  f.after(100, acked(50, 100000, 50000), 50);
  EXPECT_EQ(f.rate(), 196875u);
  // Again F = 1/2: alpha = 1/16 * 1/2 + 15/16 * 1/32 = 16/512 + 15/512 = 31/512
  // (31 * 2^23 = 260046848); rate = 196875 * (1 - 31/1024) = 196875 * 993 / 1024
  // = 190914.9... -> 190914.
  f.after(100, acked(50, 100000, 50000), 50);
  EXPECT_EQ(f.state().algo.dctcp_rate.alpha_q32, 260046848u);
  EXPECT_EQ(f.rate(), 190914u);
  // More ECN bytes than acked bytes count as F = 1: alpha = 1/16 + 15/16 * 31/512
  // = 32/512 + 29.0625/512 = 61.0625/512 -> Q32: 2^28 + 15/16 * 260046848 = 268435456 +
  // 243793920 = 512229376; rate = 190914 * (1 - 61.0625/1024) = 190914 * 0.9403686...
  // = 179529.5... -> 179529.
  f.after(100, acked(50, 1000000, 2000000), 50);
  EXPECT_EQ(f.state().algo.dctcp_rate.alpha_q32, 512229376u);
  EXPECT_EQ(f.rate(), 179529u);
}

TEST(DctcpRate, RecoveryAddsTheStepWhileAlphaDecays) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.in_congestion_avoidance_at(100000);
  f.state().algo.dctcp_rate.alpha_q32 = kOneThirtySecond;
  // Each clean step: rate + 10000, alpha * 15/16: 2^27 -> 125829120 -> 117964800 -> 110592000.
  f.after(100, acked(50, 100000), 50);
  EXPECT_EQ(f.rate(), 110000u);
  f.after(100, acked(50, 100000), 50);
  EXPECT_EQ(f.rate(), 120000u);
  f.after(100, acked(50, 100000), 50);
  EXPECT_EQ(f.rate(), 130000u);
  EXPECT_EQ(f.state().algo.dctcp_rate.alpha_q32, 110592000u);
}

TEST(DctcpRate, RateStaysWithinOnePointTwoTimesTheUsedRate) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.in_congestion_avoidance_at(1000000);
  // 5000 bytes in 100 us: act = 400,000, act_avg = 50,000, used = 400,000,
  // clamp 1,000,000 -> 480,000, then + 10000 = 490,000.
  f.after(100, acked(50, 5000), 50);
  EXPECT_EQ(f.state().act_avg_kbps, 50000u);
  EXPECT_EQ(f.rate(), 490000u);
  // 1000 bytes: act = 80,000, act_avg = (7 * 50,000 + 80,000) / 8 = 53,750, used = 80,000,
  // clamp to 96,000, + 10000 = 106,000.
  f.after(100, acked(50, 1000), 50);
  EXPECT_EQ(f.state().act_avg_kbps, 53750u);
  EXPECT_EQ(f.rate(), 106000u);
  // Nothing acked (50 duplicate ACKs): act = 0, act_avg = 7 * 53,750 / 8 = 47,031.25 -> 47,031
  // is the larger: clamp to 47,031 * 1.2 = 56,437.2 -> 56,437, + 10000 = 66,437.
  f.after(100, acked(50, 0), 50);
  EXPECT_EQ(f.state().act_avg_kbps, 47031u);
  EXPECT_EQ(f.rate(), 66437u);
}

TEST(DctcpRate, HalvesOncePerLossEvent) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.in_congestion_avoidance_at(400000);
  // Two loss events in one interval: 400000 / 2 / 2 = 100000 (TAS: one halving, 200000).
  f.after(100, acked(50, 100000, 0, 2), 50);
  EXPECT_EQ(f.rate(), 100000u);
  // Two intervals with one loss each: halved twice (TAS's fast path halved only on the first
  // loss of the connection's life).
  f.after(100, acked(50, 100000, 0, 1), 50);
  EXPECT_EQ(f.rate(), 50000u);
  f.after(100, acked(50, 100000, 0, 1), 50);
  EXPECT_EQ(f.rate(), 25000u);
}

TEST(DctcpRate, ATimeoutIsOneLossEventNotTwo) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.in_congestion_avoidance_at(400000);
  // The fast path counts a timeout's go-back-N as a drop and as a timeout: one event.
  CounterDelta timeout = acked(50, 100000, 0, 1);
  timeout.rexmit_timeouts = 1;
  f.after(100, timeout, 50);
  EXPECT_EQ(f.rate(), 200000u);
  // A timeout counted only as a timeout still halves.
  CounterDelta only_timeout = acked(50, 100000);
  only_timeout.rexmit_timeouts = 1;
  f.after(100, only_timeout, 50);
  EXPECT_EQ(f.rate(), 100000u);
}

TEST(DctcpRate, GathersAcksUntilMinpktsAndMeasuresOverTheWholeSpan) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  // 20 ACKs (30000 bytes) per 100 us: 20 and 40 < 50, nothing decided.
  auto r = f.after(100, acked(20, 30000), 50);
  EXPECT_EQ(r.outcome, StepOutcome::kAccumulating);
  EXPECT_FALSE(r.decided());
  EXPECT_EQ(f.rate(), 10000u);
  r = f.after(100, acked(20, 30000), 50);
  EXPECT_EQ(r.outcome, StepOutcome::kAccumulating);
  EXPECT_EQ(f.state().algo.dctcp_rate.pending_acks, 40u);
  EXPECT_EQ(f.rate(), 10000u);
  // 60 >= 50: act = 90000 bytes * 8000 / 300 us = 2,400,000 (TAS would divide by the last
  // 100 us only: 7,200,000); act_avg = 300,000; no clamp; slow start: 20000.
  r = f.after(100, acked(20, 30000), 50);
  EXPECT_EQ(r.outcome, StepOutcome::kRateSet);
  EXPECT_EQ(f.state().act_avg_kbps, 300000u);
  EXPECT_EQ(f.rate(), 20000u);
  EXPECT_EQ(f.state().algo.dctcp_rate.pending_acks, 0u);
  EXPECT_EQ(f.state().algo.dctcp_rate.pending_us, 0u);
}

TEST(DctcpRate, ALossIsActedOnWhileAcksGather) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.after(100, acked(20, 30000), 50);  // slow start, gathering
  // A loss with only 30 ACKs so far: halve now and leave slow start; the ACKs keep gathering.
  auto r = f.after(100, acked(10, 15000, 0, 1), 50);
  EXPECT_EQ(r.outcome, StepOutcome::kRateSet);
  EXPECT_FALSE(f.slow_start());
  EXPECT_EQ(f.rate(), 10000u);  // 10000 / 2 = 5000, floor --cc-dctcp-min 10000
  EXPECT_EQ(f.state().algo.dctcp_rate.pending_acks, 30u);
}

TEST(DctcpRate, FloorIsDctcpMinAndNeverUnlimited) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.in_congestion_avoidance_at(15000);
  f.after(100, acked(50, 100000, 0, 1), 50);
  EXPECT_EQ(f.rate(), 10000u);  // 15000 / 2 = 7500 < 10000
  f.after(100, acked(50, 100000, 0, 3), 50);
  EXPECT_EQ(f.rate(), 10000u);  // 10000 / 8 = 1250 < 10000

  Params no_min;
  no_min.dctcp_min_kbps = 0;  // TAS's code default
  FlowTrace g(no_min, Algorithm::kDctcpRate);
  g.in_congestion_avoidance_at(2);
  g.after(100, acked(50, 100000, 0, 5), 50);
  EXPECT_EQ(g.rate(), 1u);  // 2 / 32 = 0 would mean unlimited: 1 kbps instead
}

TEST(DctcpRate, MultiplicativeIncreaseWhenMimdIsSet) {
  Params p;
  p.dctcp_mimd_q32 = kQ32One + kQ32One / 2;  // --cc-dctcp-mimd=1.5
  FlowTrace f(p, Algorithm::kDctcpRate);
  f.in_congestion_avoidance_at(100000);
  f.after(100, acked(50, 100000), 50);
  EXPECT_EQ(f.rate(), 150000u);  // 100000 * 1.5
}

TEST(DctcpRate, KeepsTheRttForTheSchedule) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.after(100, acked(10, 1000), 0);
  EXPECT_EQ(f.state().rtt_us, 50u);  // no sample: --tcp-rtt-init
  f.after(100, acked(10, 1000), 80);
  EXPECT_EQ(f.state().rtt_us, 80u);  // even while gathering, as TAS's cc_rtt
}

}  // namespace
}  // namespace vtas::cc
