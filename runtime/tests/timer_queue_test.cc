#include "runtime/timer_queue.h"

#include <gtest/gtest.h>

#include <vector>

namespace vtas {
namespace {

using std::chrono::milliseconds;

TEST(TimerQueue, RunsOnlyDueTimersInDeadlineOrder) {
  FakeClock clock;
  TimerQueue timers;
  std::vector<int> fired;
  timers.schedule(clock.now() + milliseconds(30), [&] { fired.push_back(30); });
  timers.schedule(clock.now() + milliseconds(10), [&] { fired.push_back(10); });
  timers.schedule(clock.now() + milliseconds(20), [&] { fired.push_back(20); });
  clock.advance(milliseconds(20));
  EXPECT_EQ(timers.run_due(clock.now()), 2u);
  EXPECT_EQ(fired, (std::vector<int>{10, 20}));
  EXPECT_EQ(timers.next_deadline(), clock.now() + milliseconds(10));
}

TEST(TimerQueue, CancelledTimerNeverFires) {
  FakeClock clock;
  TimerQueue timers;
  bool fired = false;
  auto id = timers.schedule(clock.now() + milliseconds(1), [&] { fired = true; });
  timers.cancel(id);
  timers.cancel(id);  // twice is harmless
  clock.advance(milliseconds(5));
  EXPECT_EQ(timers.run_due(clock.now()), 0u);
  EXPECT_FALSE(fired);
  EXPECT_FALSE(timers.next_deadline().has_value());
}

TEST(TimerQueue, PeriodicTimerRearmsAndCanCancelItself) {
  FakeClock clock;
  TimerQueue timers;
  int count = 0;
  TimerQueue::Id id = 0;
  id = timers.schedule(clock.now() + milliseconds(10), [&] {
    if (++count == 3) timers.cancel(id);
  }, milliseconds(10));
  for (int i = 0; i < 5; ++i) {
    clock.advance(milliseconds(10));
    timers.run_due(clock.now());
  }
  EXPECT_EQ(count, 3);
  EXPECT_FALSE(timers.pending(id));
}

TEST(TimerQueue, PeriodicTimerSkipsMissedPeriodsInsteadOfBursting) {
  FakeClock clock;
  TimerQueue timers;
  int count = 0;
  timers.schedule(clock.now() + milliseconds(10), [&] { ++count; }, milliseconds(10));
  clock.advance(milliseconds(100));
  timers.run_due(clock.now());
  EXPECT_EQ(count, 1);
  EXPECT_EQ(timers.next_deadline(), clock.now() + milliseconds(10));
}

TEST(TimerQueue, CallbackMayScheduleNewTimer) {
  FakeClock clock;
  TimerQueue timers;
  int second = 0;
  timers.schedule(clock.now(), [&] {
    timers.schedule(clock.now() + milliseconds(5), [&] { ++second; });
  });
  timers.run_due(clock.now());
  EXPECT_EQ(second, 0);
  clock.advance(milliseconds(5));
  timers.run_due(clock.now());
  EXPECT_EQ(second, 1);
}

}  // namespace
}  // namespace vtas
