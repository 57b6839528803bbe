#include "components/slowpath/timer/rto_policy.h"

#include <gtest/gtest.h>

namespace vtas::timer {
namespace {

TEST(RtoPolicy, BaseIsTasIntervalsTimesRtt) {
  RtoPolicy p;  // 4 intervals x 2 RTTs
  EXPECT_EQ(p.base_us(1000, 0), 8000u);
  p.rexmit_intervals = 1;
  p.control_interval_rtts = 1;
  EXPECT_EQ(p.base_us(1000, 0), 2000u);  // never below 2 RTTs
}

TEST(RtoPolicy, UsesTheInitialRttWhileTheFlowHasNone) {
  RtoPolicy p;
  p.rtt_init_us = 700;
  EXPECT_EQ(p.base_us(0, 0), 8 * 700u);
}

TEST(RtoPolicy, VarianceOnlyRaisesIt) {
  RtoPolicy p;
  EXPECT_EQ(p.base_us(1000, 100), 8000u);            // 1000 + 400 < 8000
  EXPECT_EQ(p.base_us(1000, 5000), 1000u + 20000u);  // jittery path
}

TEST(RtoPolicy, FloorAndCeilingBoundTheTimeout) {
  RtoPolicy p;                               // floor 2 ms, ceiling 1 s
  EXPECT_EQ(p.timeout_us(50, 0, 0), 2000u);  // veth RTT: 400 us -> floor
  EXPECT_EQ(p.timeout_us(1000, 0, 0), 8000u);
  EXPECT_EQ(p.timeout_us(500000, 0, 0), 1000000u);  // capped
}

TEST(RtoPolicy, BackoffDoublesUpToTheCeiling) {
  RtoPolicy p;
  EXPECT_EQ(p.timeout_us(50, 0, 1), 4000u);
  EXPECT_EQ(p.timeout_us(50, 0, 2), 8000u);
  EXPECT_EQ(p.timeout_us(50, 0, 9), 1000000u);  // 2 ms << 9 = 1.024 s -> ceiling
  EXPECT_EQ(p.timeout_us(50, 0, 200), 1000000u);
}

TEST(RtoPolicy, GarbageFromSharedMemoryCannotOverflow) {
  RtoPolicy p;
  EXPECT_EQ(p.timeout_us(UINT32_MAX, UINT32_MAX, UINT32_MAX), 1000000u);
  p.rexmit_intervals = UINT32_MAX;
  p.control_interval_rtts = UINT32_MAX;
  EXPECT_EQ(p.timeout_us(UINT32_MAX, 0, 0), 1000000u);
}

}  // namespace
}  // namespace vtas::timer
