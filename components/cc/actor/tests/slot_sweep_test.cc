#include "components/cc/actor/slot_sweep.h"

#include <gtest/gtest.h>

namespace vtas::cc {
namespace {

SlotSweep::Settings settings() {
  SlotSweep::Settings s;
  s.chunk = 40;
  s.headroom = 8;
  s.hot_us = 1000;
  s.full_period_us = 10000;
  return s;
}

TEST(SlotSweepTest, FirstCycleCoversEverySlotInChunksAndIsInitial) {
  SlotSweep sweep(100, settings());
  auto a = sweep.next(0, 5);
  auto b = sweep.next(10, 5);
  auto c = sweep.next(20, 5);
  EXPECT_EQ(a.begin, 0u);
  EXPECT_EQ(a.end, 40u);
  EXPECT_EQ(b.begin, 40u);
  EXPECT_EQ(b.end, 80u);
  EXPECT_EQ(c.begin, 80u);
  EXPECT_EQ(c.end, 100u);
  EXPECT_TRUE(a.initial && b.initial && c.initial);
  EXPECT_TRUE(sweep.initial_cycle_done());
  EXPECT_EQ(sweep.full_cycles(), 1u);
}

TEST(SlotSweepTest, NothingToDoWhileNoFrameReachesTheSlowPath) {
  SlotSweep sweep(40, settings());
  EXPECT_FALSE(sweep.next(0, 7).empty());  // the initial cycle
  for (uint64_t t = 100; t < 100000; t += 1000) {
    EXPECT_TRUE(sweep.next(t, 7).empty()) << t;
  }
  EXPECT_FALSE(sweep.busy(100000));
}

TEST(SlotSweepTest, HandshakesStartHotCyclesOverTheSlotsInUse) {
  SlotSweep sweep(1000, settings());
  sweep.saw_flow(3);
  while (!sweep.initial_cycle_done()) sweep.next(0, 1);
  // Exceptions moved: hot cycles over [0, highest seen + 1 + headroom) until hot_us passes.
  auto r = sweep.next(100, 2);
  EXPECT_FALSE(r.initial);
  EXPECT_EQ(r.begin, 0u);
  EXPECT_EQ(r.end, 12u);  // 3 + 1 + 8
  EXPECT_TRUE(sweep.busy(100));
  sweep.saw_flow(20);
  r = sweep.next(200, 2);
  EXPECT_EQ(r.end, 29u);
  EXPECT_FALSE(sweep.next(1099, 2).empty());
  EXPECT_TRUE(sweep.next(1101, 2).empty());
}

TEST(SlotSweepTest, FullCycleAgainOnlyAfterItsPeriodAndOnlyIfExceptionsMoved) {
  SlotSweep sweep(100, settings());
  while (!sweep.initial_cycle_done()) sweep.next(0, 1);
  EXPECT_TRUE(sweep.next(20000, 1).empty());  // idle: no full cycle, however long ago
  // Exceptions moved and the last full cycle is older than its period: a full cycle.
  auto r = sweep.next(20001, 2);
  EXPECT_EQ(r.begin, 0u);
  EXPECT_EQ(r.end, 40u);
  EXPECT_FALSE(r.initial);
  while (sweep.next(20002, 2).end != 100u) {
  }
  EXPECT_EQ(sweep.full_cycles(), 2u);
  // Within the period only hot cycles run, however often exceptions move.
  r = sweep.next(25000, 3);
  EXPECT_EQ(r.end, 9u);
  r = sweep.next(29000, 4);
  EXPECT_EQ(r.end, 9u);
  // Past the period: full again.
  r = sweep.next(30001, 5);
  EXPECT_EQ(r.end, 40u);
}

}  // namespace
}  // namespace vtas::cc
