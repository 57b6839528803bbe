// The control schedule: per flow every --cc-control-interval RTTs, globally at most one round
// per --cc-control-granularity. Defaults: interval 2, granularity 50 us, rtt-init 50 us.
#include "components/cc/algorithms/control_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <vector>

#include "runtime/clock.h"

namespace vtas::cc {
namespace {

TEST(ControlSchedule, APeriodIsIntervalTimesRtt) {
  const Params p;
  EXPECT_EQ(control_period_us(p, 0), 100u);  // no sample: 2 * --tcp-rtt-init 50
  EXPECT_EQ(control_period_us(p, 30), 60u);  // 2 * 30
  EXPECT_EQ(flow_due_at_us(p, 1000, 30), 1060u);
  Params q;
  q.control_interval_rtts = 5;
  EXPECT_EQ(control_period_us(q, 30), 150u);
}

TEST(ControlSchedule, AFlowIsDueOncePeriodHasPassed) {
  const Params p;
  EXPECT_FALSE(flow_due(p, 1000, 0, 1099));
  EXPECT_TRUE(flow_due(p, 1000, 0, 1100));
  EXPECT_FALSE(flow_due(p, 1000, 30, 1059));
  EXPECT_TRUE(flow_due(p, 1000, 30, 1060));
  // A last step in the future (a record from before a crash, from another clock): due now.
  EXPECT_TRUE(flow_due(p, 5000, 30, 1000));
}

TEST(ControlSchedule, RoundsAreAtLeastTheGranularityApart) {
  const Params p;
  EXPECT_TRUE(round_allowed(p, std::nullopt, 0));  // the first round
  EXPECT_FALSE(round_allowed(p, 1000, 1000));
  EXPECT_FALSE(round_allowed(p, 1000, 1049));
  EXPECT_TRUE(round_allowed(p, 1000, 1050));
  EXPECT_TRUE(round_allowed(p, 5000, 1000));  // a round "in the future" does not block forever
}

TEST(ControlSchedule, NextWakeupIsTheEarliestDueButNotBeforeTheGranularity) {
  const Params p;
  EXPECT_EQ(next_wakeup_us(p, 1000, std::nullopt), std::nullopt);  // no flows: sleep
  EXPECT_EQ(next_wakeup_us(p, std::nullopt, 1020), 1020u);
  EXPECT_EQ(next_wakeup_us(p, 1000, 1020), 1050u);  // max(1020, 1000 + 50)
  EXPECT_EQ(next_wakeup_us(p, 1000, 2000), 2000u);
  EXPECT_EQ(sleep_for_us(1050, 1020), 30u);
  EXPECT_EQ(sleep_for_us(1050, 1060), 0u);
}

// An actor's loop on a fake clock: sleep until next_wakeup_us(), then one round that steps
// every due flow. Flows: A rtt 10 (period 20), B rtt 100 (period 200), C no sample (period
// 100); all last stepped at t = 1000.
TEST(ControlSchedule, ALoopOnAFakeClockStepsFlowsOnTheRoundGrid) {
  const Params p;
  FakeClock clock;
  clock.set(TimePoint(std::chrono::microseconds(1000)));
  auto now_us = [&] { return to_ns(clock.now()) / 1000; };
  struct Flow {
    char name;
    uint32_t rtt_us;
    uint64_t last_step_us;
  };
  std::vector<Flow> flows = {{'A', 10, 1000}, {'B', 100, 1000}, {'C', 0, 1000}};
  std::map<char, std::vector<uint64_t>> steps;
  std::optional<uint64_t> last_round;
  while (true) {
    uint64_t earliest = UINT64_MAX;
    for (const Flow& f : flows) {
      earliest = std::min(earliest, flow_due_at_us(p, f.last_step_us, f.rtt_us));
    }
    const uint64_t wakeup = *next_wakeup_us(p, last_round, earliest);
    if (wakeup > 1220) break;
    clock.advance(std::chrono::microseconds(sleep_for_us(wakeup, now_us())));
    ASSERT_TRUE(round_allowed(p, last_round, now_us()));
    for (Flow& f : flows) {
      if (!flow_due(p, f.last_step_us, f.rtt_us, now_us())) continue;
      steps[f.name].push_back(now_us());
      f.last_step_us = now_us();
    }
    last_round = now_us();
  }
  // By hand: 1020 A (first round, A due at 1000 + 20); then rounds every 50 us at the
  // earliest: 1070 A; 1120 A and C (due 1100); 1170 A; 1220 A, B (due 1200), C (due 1220).
  EXPECT_EQ(steps['A'], (std::vector<uint64_t>{1020, 1070, 1120, 1170, 1220}));
  EXPECT_EQ(steps['B'], (std::vector<uint64_t>{1220}));
  EXPECT_EQ(steps['C'], (std::vector<uint64_t>{1120, 1220}));
}

}  // namespace
}  // namespace vtas::cc
