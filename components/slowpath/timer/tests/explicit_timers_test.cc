#include "components/slowpath/timer/explicit_timers.h"

#include <gtest/gtest.h>

namespace vtas::timer {
namespace {

std::vector<ExplicitTimers::Fired> fire(TimerWheel& wheel, ExplicitTimers& timers, uint64_t to) {
  std::vector<TimerWheel::Expired> expired;
  wheel.advance(to, &expired);
  std::vector<ExplicitTimers::Fired> out;
  for (const auto& e : expired) {
    if (auto f = timers.take(e.cookie)) out.push_back(*f);
  }
  return out;
}

TEST(ExplicitTimers, OwnersHaveSeparateKeySpaces) {
  TimerWheel wheel(0);
  ExplicitTimers timers(wheel, 16);
  EXPECT_EQ(timers.arm("conn", 1, 7, 100), ExplicitTimers::ArmResult::kArmed);
  EXPECT_EQ(timers.arm("other", 1, 8, 200), ExplicitTimers::ArmResult::kArmed);
  auto fired = fire(wheel, timers, 100);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].owner, "conn");
  EXPECT_EQ(fired[0].key, 1u);
  EXPECT_EQ(fired[0].kind, 7u);
  fired = fire(wheel, timers, 200);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].owner, "other");
  EXPECT_EQ(timers.size(), 0u);
}

TEST(ExplicitTimers, RearmReplacesDeadlineAndKind) {
  TimerWheel wheel(0);
  ExplicitTimers timers(wheel, 16);
  timers.arm("conn", 5, 1, 100);
  EXPECT_EQ(timers.arm("conn", 5, 2, 300), ExplicitTimers::ArmResult::kReplaced);
  EXPECT_EQ(timers.size(), 1u);
  EXPECT_TRUE(fire(wheel, timers, 299).empty());
  auto fired = fire(wheel, timers, 300);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].kind, 2u);
  // Re-arming earlier works too.
  timers.arm("conn", 6, 1, 1000);
  timers.arm("conn", 6, 1, 400);
  EXPECT_EQ(fire(wheel, timers, 400).size(), 1u);
  EXPECT_TRUE(fire(wheel, timers, 2000).empty());
}

TEST(ExplicitTimers, CancelIsPerOwnerAndIdempotent) {
  TimerWheel wheel(0);
  ExplicitTimers timers(wheel, 16);
  timers.arm("conn", 5, 1, 100);
  EXPECT_FALSE(timers.cancel("other", 5));
  EXPECT_TRUE(timers.cancel("conn", 5));
  EXPECT_FALSE(timers.cancel("conn", 5));
  EXPECT_TRUE(fire(wheel, timers, 1000).empty());
  EXPECT_TRUE(wheel.empty());
}

TEST(ExplicitTimers, RefusesBeyondCapacityButStillReplaces) {
  TimerWheel wheel(0);
  ExplicitTimers timers(wheel, 2);
  timers.arm("a", 1, 0, 10);
  timers.arm("a", 2, 0, 10);
  EXPECT_EQ(timers.arm("a", 3, 0, 10), ExplicitTimers::ArmResult::kFull);
  EXPECT_EQ(timers.arm("a", 2, 0, 20), ExplicitTimers::ArmResult::kReplaced);
  EXPECT_EQ(fire(wheel, timers, 20).size(), 2u);
  EXPECT_EQ(timers.arm("a", 3, 0, 30), ExplicitTimers::ArmResult::kArmed);  // room again
}

TEST(ExplicitTimers, UnknownCookiesAreIgnored) {
  TimerWheel wheel(0);
  ExplicitTimers timers(wheel, 2);
  EXPECT_EQ(timers.take(12345), std::nullopt);
  timers.arm("a", 1, 0, 10);
  EXPECT_EQ(timers.take(0), std::nullopt);  // still pending: not fired
}

}  // namespace
}  // namespace vtas::timer
