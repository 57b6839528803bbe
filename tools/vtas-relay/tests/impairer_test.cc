#include "tools/vtas-relay/impairer.h"

#include <gtest/gtest.h>

#include <vector>

#include "tools/vtas-relay/tests/frame_builder.h"

namespace vtas::relay {
namespace {

constexpr uint64_t kUs = 1000;

FrameInfo ect_data() {
  static const auto f = testing::tcp_frame(kEcnEct0, 1448);
  return inspect(f.data(), f.size());
}
FrameInfo plain_data() {
  static const auto f = testing::tcp_frame(kEcnNotEct, 1448);
  return inspect(f.data(), f.size());
}

// Flattens a verdict so runs can be compared.
std::vector<uint64_t> trace(Impairer& imp, int frames) {
  std::vector<uint64_t> out;
  for (int i = 0; i < frames; ++i) {
    const Verdict v = imp.decide(uint64_t(i) * 10 * kUs, 1500, ect_data());
    out.push_back(static_cast<uint64_t>(v.drop));
    out.push_back(v.corrupt ? v.corrupt_offset * 256 + v.corrupt_mask : 0);
    out.push_back(v.duplicate);
    out.push_back(v.first.release_ns);
  }
  return out;
}

Impairments everything() {
  Impairments i;
  i.loss_pct = 5;
  i.corrupt_pct = 5;
  i.duplicate_pct = 5;
  i.reorder_pct = 5;
  i.jitter_us = 50;
  return i;
}

TEST(ImpairerTest, TheSameSeedMakesTheSameDecisions) {
  Impairer a(everything(), 7, 0), b(everything(), 7, 0), other_seed(everything(), 8, 0),
      other_direction(everything(), 7, 1);
  const auto t = trace(a, 2000);
  EXPECT_EQ(t, trace(b, 2000));
  EXPECT_NE(t, trace(other_seed, 2000));
  EXPECT_NE(t, trace(other_direction, 2000));
}

TEST(ImpairerTest, RatesOfLossCorruptionDuplicationAndReorderingMatchTheSettings) {
  Impairments i;
  i.loss_pct = 2;
  i.corrupt_pct = 0.1;
  i.duplicate_pct = 1;
  i.reorder_pct = 10;
  Impairer imp(i, 99, 0);
  const int n = 200000;
  for (int k = 0; k < n; ++k) imp.decide(uint64_t(k) * kUs, 1500, ect_data());
  const auto& c = imp.counters();
  EXPECT_NEAR(static_cast<double>(c.lost) / n, 0.02, 0.002);
  // The others are decided among the frames not lost.
  const double kept = n - static_cast<double>(c.lost);
  EXPECT_NEAR(c.corrupted / kept, 0.001, 0.0005);
  EXPECT_NEAR(c.duplicated / kept, 0.01, 0.002);
  EXPECT_NEAR(c.reordered / kept, 0.10, 0.005);
  EXPECT_EQ(c.rx_frames, static_cast<uint64_t>(n));
}

TEST(ImpairerTest, CorruptionFlipsAByteAfterTheEthernetHeader) {
  Impairments i;
  i.corrupt_pct = 100;
  Impairer imp(i, 3, 0);
  for (int k = 0; k < 1000; ++k) {
    const Verdict v = imp.decide(0, 100, ect_data());
    ASSERT_TRUE(v.corrupt);
    EXPECT_GE(v.corrupt_offset, 14u);
    EXPECT_LT(v.corrupt_offset, 100u);
    EXPECT_NE(v.corrupt_mask, 0);
  }
}

TEST(ImpairerTest, DelayAndJitterKeepFramesInOrder) {
  Impairments i;
  i.delay_us = 1000;
  i.jitter_us = 500;
  Impairer imp(i, 5, 0);
  uint64_t previous = 0;
  for (int k = 0; k < 5000; ++k) {
    const uint64_t now = uint64_t(k) * 2 * kUs;
    const Verdict v = imp.decide(now, 1500, ect_data());
    EXPECT_GE(v.first.release_ns, now + 1000 * kUs);
    EXPECT_LE(v.first.release_ns, std::max(previous, now + 1500 * kUs));
    EXPECT_GE(v.first.release_ns, previous);
    previous = v.first.release_ns;
  }
}

TEST(ImpairerTest, ReorderedFramesAreOvertakenByLaterOnes) {
  Impairments i;
  i.reorder_pct = 100;
  i.reorder_delay_us = 300;
  Impairer imp(i, 5, 0);
  const Verdict held = imp.decide(0, 1500, ect_data());
  EXPECT_EQ(held.first.release_ns, 300 * kUs);
  EXPECT_FALSE(held.first.held_for_gap);
  i.reorder_pct = 0;
  imp.reconfigure(i);
  const Verdict later = imp.decide(10 * kUs, 1500, ect_data());
  EXPECT_LT(later.first.release_ns, held.first.release_ns);
  i.reorder_pct = 100;
  i.reorder_gap = 3;
  imp.reconfigure(i);
  EXPECT_TRUE(imp.decide(20 * kUs, 1500, ect_data()).first.held_for_gap);
}

TEST(ImpairerTest, CeMarksOnlyEctFramesArrivingAboveTheQueueThreshold) {
  Impairments i;
  i.rate_mbps = 12;  // a 1500-byte frame every 1 ms
  i.burst_bytes = 1500;
  i.queue_frames = 100;
  i.ce_threshold = 5;
  Impairer imp(i, 1, 0);
  // Ten frames at once: the first leaves at once, frame k finds k-1 waiting: 6 on are marked.
  std::vector<bool> marked;
  for (int k = 0; k < 10; ++k) marked.push_back(imp.decide(0, 1500, ect_data()).mark_ce);
  EXPECT_EQ(marked,
            (std::vector<bool>{false, false, false, false, false, false, true, true, true, true}));
  EXPECT_FALSE(imp.decide(0, 1500, plain_data()).mark_ce);  // not ECN-capable
  EXPECT_EQ(imp.counters().ce_marked, 4u);
  EXPECT_EQ(imp.counters().max_queue, 10u);
  // Once the queue drained (11 frames at 1 ms each), nothing is marked.
  EXPECT_FALSE(imp.decide(20 * 1000 * kUs, 1500, ect_data()).mark_ce);
}

TEST(ImpairerTest, UnmarkedEctDataGetsCwrWhenAsked) {
  Impairments i;
  i.cwr_unmarked = true;
  Impairer imp(i, 1, 0);
  EXPECT_TRUE(imp.decide(0, 1500, ect_data()).set_cwr);
  EXPECT_FALSE(imp.decide(0, 1500, plain_data()).set_cwr);
  EXPECT_EQ(imp.counters().cwr_set, 1u);
}

TEST(ImpairerTest, AFullQueueDropsAndDuplicatesQueueBehindTheOriginal) {
  Impairments i;
  i.rate_mbps = 12;
  i.burst_bytes = 1500;
  i.queue_frames = 4;
  i.duplicate_pct = 100;
  Impairer imp(i, 1, 0);
  const Verdict first = imp.decide(0, 1500, ect_data());
  ASSERT_TRUE(first.duplicate);
  EXPECT_EQ(first.first.release_ns, 0u);
  EXPECT_EQ(first.second.release_ns, 1000 * kUs);
  int dropped = 0;
  for (int k = 0; k < 10; ++k)
    dropped += imp.decide(0, 1500, ect_data()).drop != Verdict::Drop::kNone;
  EXPECT_GT(dropped, 0);
  EXPECT_GT(imp.counters().queue_drops, 0u);
  EXPECT_LE(imp.counters().max_queue, 5u);
}

}  // namespace
}  // namespace vtas::relay
