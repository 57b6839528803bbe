// LoadMonitor: TAS's load-monitor rules on hand-made samples (10 ms each, busy time given in
// fractions of a core): rising load adds cores one at a time, falling load removes them, the
// band between the thresholds and the hold keep it from flapping, pinning answers the maximum.
#include "components/scale/load_monitor.h"

#include <gtest/gtest.h>

#include <optional>

namespace vtas::scale {
namespace {

constexpr uint64_t kSample = 10'000'000;  // 10 ms in ns

uint64_t busy(double cores) { return static_cast<uint64_t>(cores * kSample); }

LoadMonitorSettings settings(uint32_t max_cores, bool pinned = false) {
  LoadMonitorSettings s;
  s.max_cores = max_cores;
  s.pinned = pinned;
  return s;
}

// Feeds `n` samples of `load` cores with `cores` serving; returns the first decision.
std::optional<uint32_t> feed(LoadMonitor& m, int n, double load, uint32_t cores, int* taken = nullptr) {
  for (int i = 0; i < n; ++i) {
    if (auto d = m.observe(kSample, busy(load), cores)) {
      if (taken) *taken = i + 1;
      return d;
    }
  }
  return std::nullopt;
}

TEST(LoadMonitor, HoldsTheFirstTenSamplesThenScalesUpUnderFullLoad) {
  LoadMonitor m(settings(2));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(m.observe(kSample, busy(1.0), 1), std::nullopt) << i;
  EXPECT_EQ(m.observe(kSample, busy(1.0), 1), 2u);
  EXPECT_NEAR(m.load_cores(), 1.0, 1e-9);
}

TEST(LoadMonitor, RisingLoadAddsOneCoreAtATimeWithAHoldBetween) {
  LoadMonitor m(settings(4));
  int taken = 0;
  ASSERT_EQ(feed(m, 50, 0.95, 1, &taken), 2u);
  EXPECT_EQ(taken, 11);
  // 1.9 cores busy on 2: idle 0.1 core < 0.2: up again, but only after the hold (and once
  // the average has climbed from the previous 0.95).
  ASSERT_EQ(feed(m, 50, 1.9, 2, &taken), 3u);
  EXPECT_GE(taken, 11);
  ASSERT_EQ(feed(m, 50, 2.9, 3, &taken), 4u);
  // At the maximum it stays however busy.
  EXPECT_EQ(feed(m, 200, 4.0, 4), std::nullopt);
}

TEST(LoadMonitor, FallingLoadRemovesCoresDownToOne) {
  LoadMonitor m(settings(3));
  EXPECT_EQ(feed(m, 11, 0.0, 3), 2u);
  EXPECT_EQ(feed(m, 11, 0.0, 2), 1u);
  EXPECT_EQ(feed(m, 200, 0.0, 1), std::nullopt) << "never below one core";
}

TEST(LoadMonitor, LoadBetweenTheThresholdsChangesNothing) {
  // 2 cores with 0.78 cores of load: idle 1.22 < 1.25 (no down). 1 core with 0.78: idle 0.22
  // > 0.2 (no up). Either count is stable at the same load: that band is the hysteresis.
  LoadMonitor two(settings(2));
  EXPECT_EQ(feed(two, 500, 0.78, 2), std::nullopt);
  LoadMonitor one(settings(2));
  EXPECT_EQ(feed(one, 500, 0.78, 1), std::nullopt);
}

TEST(LoadMonitor, AShortBurstDoesNotFlipTheDecision) {
  LoadMonitor m(settings(2));
  ASSERT_EQ(feed(m, 20, 0.3, 1), std::nullopt);
  // Two samples at full load: the 7/8 EWMA moves 0.3 -> ~0.48, far from 0.8.
  EXPECT_EQ(feed(m, 2, 1.0, 1), std::nullopt);
  // Sustained: it goes up within a few samples.
  int taken = 0;
  EXPECT_EQ(feed(m, 30, 1.0, 1, &taken), 2u);
  EXPECT_LE(taken, 15);
}

TEST(LoadMonitor, AfterScalingUpTheSameLoadDoesNotScaleBackDown) {
  // One saturated core goes to two; the load (now spread) stays 1.0 core: idle 1.0 < 1.25.
  LoadMonitor m(settings(2));
  ASSERT_EQ(feed(m, 20, 1.0, 1), 2u);
  EXPECT_EQ(feed(m, 300, 1.0, 2), std::nullopt);
  // When it falls below 0.75 cores it comes back to one.
  EXPECT_EQ(feed(m, 100, 0.5, 2), 1u);
}

TEST(LoadMonitor, DecisionsAreSpacedByTheHold) {
  LoadMonitor m(settings(2));
  ASSERT_EQ(feed(m, 11, 1.0, 1), 2u);
  EXPECT_EQ(m.holding(), 10u);
  // Load vanished at once: still held for 10 samples.
  int taken = 0;
  EXPECT_EQ(feed(m, 100, 0.0, 2, &taken), 1u);
  EXPECT_GE(taken, 11);
}

TEST(LoadMonitor, PinnedAlwaysAnswersTheMaximum) {
  LoadMonitor m(settings(2, true));
  EXPECT_EQ(m.observe(kSample, busy(0.0), 1), 2u) << "no hold when pinned";
  EXPECT_EQ(feed(m, 100, 0.0, 2), std::nullopt) << "idle does not scale down";
  EXPECT_EQ(feed(m, 100, 2.0, 2), std::nullopt);
}

TEST(LoadMonitor, MoreCoresThanTheMaximumComeDown) {
  LoadMonitor m(settings(2));
  EXPECT_EQ(feed(m, 11, 2.0, 4), 2u);
}

TEST(LoadMonitor, BusyTimeBeyondTheCoresIsCappedAndEmptySamplesIgnored) {
  LoadMonitor m(settings(2));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(m.observe(kSample, 50 * kSample, 1), std::nullopt);
  EXPECT_LE(m.load_cores(), 1.0 + 1e-9);
  EXPECT_EQ(m.observe(0, 0, 1), std::nullopt);
  EXPECT_LE(m.load_cores(), 1.0 + 1e-9);
}

TEST(LoadMonitor, ResetForgetsTheAverageAndHoldsAgain) {
  LoadMonitor m(settings(2));
  ASSERT_EQ(feed(m, 11, 1.0, 1), 2u);
  m.reset();
  EXPECT_EQ(m.load_cores(), 0.0);
  EXPECT_EQ(m.holding(), 10u);
}

TEST(LoadMonitorSettings, RejectsBadValuesWithTheReason) {
  LoadMonitorSettings s = settings(0);
  Status bad = validate(s);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("max cores 0"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("1..16"), std::string::npos);
  s = settings(2);
  s.scale_down_idle_cores = 1.1;  // below 1 + 0.2: 2 -> 1 -> 2 -> ... at the same load
  bad = validate(s);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("hysteresis"), std::string::npos) << bad.error().message;
  EXPECT_TRUE(validate(settings(16)));
}

}  // namespace
}  // namespace vtas::scale
