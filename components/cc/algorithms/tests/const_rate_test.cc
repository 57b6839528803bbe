// const-rate: every flow at --cc-const-rate, 0 = unlimited (TAS's default).
#include "components/cc/algorithms/const_rate.h"

#include <gtest/gtest.h>

#include "components/cc/algorithms/tests/flow_trace.h"

namespace vtas::cc {
namespace {

using testing::acked;
using testing::FlowTrace;

TEST(ConstRate, DefaultIsUnlimited) {
  FlowTrace f(Params{}, Algorithm::kConstRate);
  EXPECT_EQ(f.rate(), 0u);
  f.after(100, acked(50, 100000, 50000, 3), 50);  // congestion signals change nothing
  EXPECT_EQ(f.rate(), 0u);
}

TEST(ConstRate, HoldsTheConfiguredRateWhateverHappens) {
  Params p;
  p.const_rate_kbps = 250000;
  FlowTrace f(p, Algorithm::kConstRate);
  EXPECT_EQ(f.rate(), 250000u);
  EXPECT_FALSE(f.slow_start());
  auto r = f.after(100, acked(50, 100000, 50000, 3), 80);
  EXPECT_EQ(r.outcome, StepOutcome::kRateSet);
  EXPECT_EQ(r.rate_kbps, 250000u);
  EXPECT_EQ(f.state().rtt_us, 80u);  // kept for the schedule
  f.after(100, acked(0, 0), 0);
  EXPECT_EQ(f.rate(), 250000u);
  EXPECT_EQ(f.state().rtt_us, 50u);  // no sample: --tcp-rtt-init
}

TEST(ConstRate, MeasuresWhatTheFlowUses) {
  FlowTrace f(Params{}, Algorithm::kConstRate);
  // 250000 bytes in 100 us = 20,000,000 kbps; act_avg = 20,000,000 / 8 = 2,500,000.
  f.after(100, acked(100, 250000), 50);
  EXPECT_EQ(f.state().act_avg_kbps, 2500000u);
}

TEST(ConstRate, ANewRateReachesRunningFlows) {
  Params p;
  p.const_rate_kbps = 250000;
  FlowTrace f(p, Algorithm::kConstRate);
  p.const_rate_kbps = 100000;
  // At once through retune ...
  const CcFlowState now = retune(p, f.state());
  EXPECT_EQ(now.rate_kbps, 100000u);
  // ... and at the next step in any case (TAS set the rate only when the flow started).
  f.params() = p;
  f.after(100, acked(1, 1000), 50);
  EXPECT_EQ(f.rate(), 100000u);
}

}  // namespace
}  // namespace vtas::cc
