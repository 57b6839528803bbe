#include "runtime/supervisor/restart_policy.h"

#include <gtest/gtest.h>

namespace vtas {
namespace {

using std::chrono::milliseconds;

TEST(RestartPolicy, PermanentAlwaysRestarts) {
  EXPECT_EQ(decide_after_exit(manifest::RESTART_POLICY_PERMANENT, ExitKind::kNormal), AfterExit::kRestart);
  EXPECT_EQ(decide_after_exit(manifest::RESTART_POLICY_PERMANENT, ExitKind::kAbnormal), AfterExit::kRestart);
}

TEST(RestartPolicy, TransientRestartsOnlyAfterAbnormalExit) {
  EXPECT_EQ(decide_after_exit(manifest::RESTART_POLICY_TRANSIENT, ExitKind::kNormal), AfterExit::kStayStopped);
  EXPECT_EQ(decide_after_exit(manifest::RESTART_POLICY_TRANSIENT, ExitKind::kAbnormal), AfterExit::kRestart);
}

TEST(RestartPolicy, TemporaryNeverRestarts) {
  EXPECT_EQ(decide_after_exit(manifest::RESTART_POLICY_TEMPORARY, ExitKind::kNormal), AfterExit::kStayStopped);
  EXPECT_EQ(decide_after_exit(manifest::RESTART_POLICY_TEMPORARY, ExitKind::kAbnormal), AfterExit::kStayStopped);
}

TEST(RestartIntensity, AdmitsUpToMaxWithinPeriodThenRefuses) {
  FakeClock clock;
  RestartIntensity intensity(3, milliseconds(1000));
  EXPECT_TRUE(intensity.admit(clock.now()));
  clock.advance(milliseconds(100));
  EXPECT_TRUE(intensity.admit(clock.now()));
  clock.advance(milliseconds(100));
  EXPECT_TRUE(intensity.admit(clock.now()));
  clock.advance(milliseconds(100));
  EXPECT_FALSE(intensity.admit(clock.now()));
  EXPECT_EQ(intensity.describe(), "4 restarts within 1000 ms (limit 3)");
}

TEST(RestartIntensity, OldRestartsLeaveTheWindow) {
  FakeClock clock;
  RestartIntensity intensity(2, milliseconds(1000));
  EXPECT_TRUE(intensity.admit(clock.now()));
  clock.advance(milliseconds(600));
  EXPECT_TRUE(intensity.admit(clock.now()));
  clock.advance(milliseconds(400));  // the first is exactly one period old: out
  EXPECT_TRUE(intensity.admit(clock.now()));
  EXPECT_EQ(intensity.recent(), 2u);
}

TEST(Backoff, GrowsExponentiallyUpToMax) {
  manifest::Backoff config;
  config.set_initial_ms(10);
  config.set_multiplier(2.0);
  config.set_max_ms(50);
  Backoff backoff(config);
  FakeClock clock;
  TimePoint t = clock.now();
  EXPECT_EQ(backoff.next_delay(t, t + milliseconds(1)), milliseconds(10));
  EXPECT_EQ(backoff.next_delay(t, t + milliseconds(1)), milliseconds(20));
  EXPECT_EQ(backoff.next_delay(t, t + milliseconds(1)), milliseconds(40));
  EXPECT_EQ(backoff.next_delay(t, t + milliseconds(1)), milliseconds(50));
  EXPECT_EQ(backoff.consecutive(), 4u);
}

TEST(Backoff, ResetsAfterStayingUp) {
  manifest::Backoff config;
  config.set_initial_ms(10);
  config.set_reset_after_ms(5000);
  Backoff backoff(config);
  FakeClock clock;
  TimePoint t = clock.now();
  backoff.next_delay(t, t + milliseconds(1));
  backoff.next_delay(t, t + milliseconds(1));
  EXPECT_EQ(backoff.next_delay(t, t + milliseconds(5000)), milliseconds(10));
}

TEST(Backoff, DefaultRestartsImmediatelyThenBacksOffWhenCrashLooping) {
  manifest::Backoff config;  // defaults: initial 0 ms, x2, max 1000 ms
  Backoff backoff(config);
  FakeClock clock;
  TimePoint t = clock.now();
  EXPECT_EQ(backoff.next_delay(t, t + milliseconds(1)), milliseconds(0));
  EXPECT_EQ(backoff.next_delay(t, t + milliseconds(1)), milliseconds(1));
  EXPECT_EQ(backoff.next_delay(t, t + milliseconds(1)), milliseconds(2));
  for (int i = 0; i < 20; ++i) backoff.next_delay(t, t + milliseconds(1));
  EXPECT_EQ(backoff.next_delay(t, t + milliseconds(1)), milliseconds(1000));
}

}  // namespace
}  // namespace vtas
