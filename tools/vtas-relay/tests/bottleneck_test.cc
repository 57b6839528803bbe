#include "tools/vtas-relay/bottleneck.h"

#include <gtest/gtest.h>

namespace vtas::relay {
namespace {

constexpr uint64_t kUs = 1000;

TEST(BottleneckTest, WithoutARateEveryFrameLeavesOnArrival) {
  Bottleneck b(0, 3000, 10);
  for (int i = 0; i < 100; ++i) {
    const auto a = b.admit(1000, 1500);
    EXPECT_FALSE(a.dropped);
    EXPECT_EQ(a.depart_ns, 1000u);
    EXPECT_EQ(a.queued_before, 0u);
  }
}

TEST(BottleneckTest, TheBucketLetsABurstThroughThenPacesAtTheRate) {
  // 8 Mbit/s = 1 byte per us; bucket of one 1500-byte frame.
  Bottleneck b(8e6, 1500, 100);
  const uint64_t t = 1'000'000;
  EXPECT_EQ(b.admit(t, 1500).depart_ns, t);  // the bucket starts full
  auto second = b.admit(t, 1500);
  EXPECT_EQ(second.depart_ns, t + 1500 * kUs);
  EXPECT_EQ(second.queued_before, 0u);
  auto third = b.admit(t, 1500);
  EXPECT_EQ(third.depart_ns, t + 3000 * kUs);
  EXPECT_EQ(third.queued_before, 1u);  // the second one waits
  EXPECT_EQ(b.queued(t + 1500 * kUs), 1u);
  EXPECT_EQ(b.queued(t + 3000 * kUs), 0u);
  // After an idle period the bucket is full again, but never holds more than its depth.
  EXPECT_EQ(b.admit(t + 100000 * kUs, 1500).depart_ns, t + 100000 * kUs);
  EXPECT_EQ(b.admit(t + 100000 * kUs, 1500).depart_ns, t + 101500 * kUs);
}

TEST(BottleneckTest, ThroughputOverTimeIsTheRate) {
  Bottleneck b(100e6, 3000, 100000);
  uint64_t last = 0;
  for (int i = 0; i < 10000; ++i) last = b.admit(0, 1250).depart_ns;  // 10 kbit each
  // 10000 frames of 10 kbit at 100 Mbit/s: 1 s, less the 3000-byte initial credit.
  EXPECT_NEAR(static_cast<double>(last), 1e9 - 240e3, 1e4);
}

TEST(BottleneckTest, AFullQueueDropsAtTheTail) {
  Bottleneck b(8e6, 100, 3);
  const uint64_t t = 5;
  int dropped = 0;
  for (int i = 0; i < 10; ++i) dropped += b.admit(t, 1000).dropped ? 1 : 0;
  EXPECT_EQ(dropped, 7);
  EXPECT_EQ(b.queued(t), 3u);
}

}  // namespace
}  // namespace vtas::relay
