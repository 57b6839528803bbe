#include "components/fastpath/tx_scheduler.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace vtas::fastpath {
namespace {

std::vector<uint32_t> take_all(TxScheduler& s, uint64_t now) {
  uint32_t out[64];
  std::vector<uint32_t> all;
  while (uint32_t n = s.take(now, out, 64)) all.insert(all.end(), out, out + n);
  return all;
}

TEST(TxScheduler, FifoIsRoundRobinAndDeduplicated) {
  TxScheduler s(16);
  s.ready(3);
  s.ready(1);
  s.ready(3);
  EXPECT_EQ(take_all(s, 0), (std::vector<uint32_t>{3, 1}));
  EXPECT_TRUE(s.idle());
}

TEST(TxScheduler, WheelReleasesFlowsWhenDue) {
  TxScheduler s(16);
  uint64_t t0 = 1'000'000'000;
  s.ready_at(2, t0 + 50'000);
  s.ready_at(5, t0 + 20'000);
  EXPECT_EQ(s.next_deadline(), t0 + 20'000);
  EXPECT_TRUE(take_all(s, t0).empty());
  EXPECT_EQ(take_all(s, t0 + 20'000), (std::vector<uint32_t>{5}));
  EXPECT_TRUE(take_all(s, t0 + 40'000).empty());
  EXPECT_EQ(take_all(s, t0 + 60'000), (std::vector<uint32_t>{2}));
  EXPECT_TRUE(s.idle());
}

TEST(TxScheduler, TimesBeyondTheHorizonStillFire) {
  TxScheduler s(4);
  uint64_t t0 = 5'000'000'000;
  uint64_t far = t0 + TxScheduler::kSlotNs * TxScheduler::kSlots * 3 + 7;
  s.ready_at(1, t0);
  EXPECT_EQ(take_all(s, t0), (std::vector<uint32_t>{1}));
  s.ready_at(1, far);
  for (uint64_t t = t0; t < far; t += TxScheduler::kSlotNs * 100) EXPECT_TRUE(take_all(s, t).empty());
  EXPECT_EQ(take_all(s, far), (std::vector<uint32_t>{1}));
}

TEST(TxScheduler, RemovedFlowsNeverComeOutAndCanComeBack) {
  TxScheduler s(8);
  s.ready(1);
  s.ready(2);
  s.remove(1);
  s.ready_at(3, 100'000);
  s.remove(3);
  EXPECT_EQ(take_all(s, 1'000'000), (std::vector<uint32_t>{2}));
  s.ready(1);
  s.remove(1);
  s.ready(1);
  EXPECT_EQ(take_all(s, 1'000'000), (std::vector<uint32_t>{1}));
  EXPECT_TRUE(s.idle());
}

TEST(TxScheduler, RandomOperationsKeepEachFlowAtMostOnce) {
  const uint32_t flows = 64;
  TxScheduler s(flows);
  std::mt19937 rng(3);
  std::set<uint32_t> expected_waiting;
  uint64_t now = 1'000'000;
  for (int i = 0; i < 100000; ++i) {
    uint32_t f = rng() % flows;
    switch (rng() % 4) {
      case 0: s.ready(f); expected_waiting.insert(f); break;
      case 1: if (!expected_waiting.count(f)) { s.ready_at(f, now + rng() % 200'000); expected_waiting.insert(f); } break;
      case 2: s.remove(f); expected_waiting.erase(f); break;
      case 3: {
        now += rng() % 50'000;
        uint32_t out[8];
        uint32_t n = s.take(now, out, 8);
        std::set<uint32_t> seen;
        for (uint32_t k = 0; k < n; ++k) {
          EXPECT_TRUE(seen.insert(out[k]).second);
          EXPECT_TRUE(expected_waiting.count(out[k])) << out[k];
          expected_waiting.erase(out[k]);
        }
        break;
      }
    }
  }
  now += 1'000'000'000;
  for (uint32_t f : take_all(s, now)) expected_waiting.erase(f);
  EXPECT_TRUE(expected_waiting.empty());
  EXPECT_TRUE(s.idle());
}

// 1448-byte segments at 100 Mbit/s: one every 115,840 ns.
TEST(Pacing, LateSendsDoNotStretchTheGapBetweenSegments) {
  const uint64_t gap = 115'840;
  // A flow that never sent starts with the full credit.
  uint64_t due = next_paced_send(0, 1'000'000'000, 1448, 100'000);
  EXPECT_EQ(due, 1'000'000'000 - kPacingCreditNs + gap);
  // The core sends each segment 10 us late; the schedule keeps its grid, so 1000 segments take
  // 1000 gaps, not 1000 * (gap + 10 us).
  const uint64_t first = due;
  for (int i = 0; i < 1000; ++i) due = next_paced_send(due, due + 10'000, 1448, 100'000);
  EXPECT_EQ(due, first + 1000 * gap);
}

TEST(Pacing, CatchingUpIsBounded) {
  const uint64_t gap = 115'840;
  // 10 ms behind: the next send is due only kPacingCreditNs before now, plus one gap.
  const uint64_t now = 2'000'000'000;
  EXPECT_EQ(next_paced_send(now - 10'000'000, now, 1448, 100'000), now - kPacingCreditNs + gap);
  // Ahead of schedule (made ready early): the due time only moves on.
  EXPECT_EQ(next_paced_send(now + 50'000, now, 1448, 100'000), now + 50'000 + gap);
  // Half the rate, twice the gap.
  EXPECT_EQ(next_paced_send(now, now, 1448, 50'000), now + 2 * gap);
}

}  // namespace
}  // namespace vtas::fastpath
