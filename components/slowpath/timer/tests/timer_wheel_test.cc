#include "components/slowpath/timer/timer_wheel.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <vector>

namespace vtas::timer {
namespace {

using Expired = TimerWheel::Expired;

std::vector<uint64_t> cookies(const std::vector<Expired>& v) {
  std::vector<uint64_t> out;
  for (const auto& e : v) out.push_back(e.cookie);
  return out;
}

// Advances to `to` and returns what fired.
std::vector<Expired> run_to(TimerWheel& w, uint64_t to) {
  std::vector<Expired> out;
  w.advance(to, &out);
  return out;
}

TEST(TimerWheel, FiresExactlyAtTheDeadlineAndNotBefore) {
  TimerWheel w(1000);
  w.insert(1005, 7);
  EXPECT_TRUE(run_to(w, 1004).empty());
  auto fired = run_to(w, 1005);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].cookie, 7u);
  EXPECT_EQ(fired[0].deadline, 1005u);
  EXPECT_TRUE(w.empty());
}

TEST(TimerWheel, ReportsInDeadlineOrderAcrossLevels) {
  TimerWheel w(0);
  w.insert(5000, 3);    // level 2
  w.insert(70, 2);      // level 1
  w.insert(3, 1);       // level 0
  w.insert(300000, 4);  // level 3
  auto fired = run_to(w, 1000000);
  EXPECT_EQ(cookies(fired), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(w.now(), 1000000u);
}

TEST(TimerWheel, AlreadyDueTimersFireOnTheNextAdvanceOldestFirst) {
  TimerWheel w(100);
  w.insert(100, 1);
  w.insert(50, 2);
  auto fired = run_to(w, 100);  // same time: still reported
  EXPECT_EQ(cookies(fired), (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(w.next_event(), std::nullopt);
}

TEST(TimerWheel, CancelRemovesAndStaleHandlesAreRecognised) {
  TimerWheel w(0);
  auto a = w.insert(10, 1);
  auto b = w.insert(10, 2);
  EXPECT_TRUE(w.cancel(a));
  EXPECT_FALSE(w.cancel(a));  // twice
  EXPECT_FALSE(w.pending(a));
  auto fired = run_to(w, 10);
  EXPECT_EQ(cookies(fired), (std::vector<uint64_t>{2}));
  EXPECT_FALSE(w.cancel(b));  // fired
  // The freed node is reused; the old handle must not cancel the new timer.
  auto c = w.insert(20, 3);
  EXPECT_EQ(c.index, b.index);
  EXPECT_FALSE(w.cancel(b));
  EXPECT_TRUE(w.pending(c));
  EXPECT_FALSE(w.cancel(TimerWheel::Handle{}));
}

TEST(TimerWheel, CancellingTheLastTimerOfASlotEmptiesTheWheel) {
  TimerWheel w(0);
  auto a = w.insert(1u << 20, 1);
  EXPECT_TRUE(w.next_event().has_value());
  w.cancel(a);
  EXPECT_EQ(w.next_event(), std::nullopt);
  EXPECT_TRUE(run_to(w, 1u << 21).empty());
}

TEST(TimerWheel, SlotIndexWrapsAroundEveryRing) {
  // Start just before a ring boundary at every level: 63, 4095, 262143, ...; deadlines land in
  // slots whose index is below now's (next ring).
  for (uint64_t start : {uint64_t{63}, uint64_t{4095}, uint64_t{262143}, (uint64_t{1} << 36) - 2}) {
    TimerWheel w(start);
    w.insert(start + 1, 1);
    w.insert(start + 2, 2);
    w.insert(start + 65, 3);
    w.insert(start + 4097, 4);
    auto fired = run_to(w, start + 1);
    EXPECT_EQ(cookies(fired), (std::vector<uint64_t>{1})) << start;
    fired = run_to(w, start + 64);
    EXPECT_EQ(cookies(fired), (std::vector<uint64_t>{2})) << start;
    fired = run_to(w, start + 65);
    EXPECT_EQ(cookies(fired), (std::vector<uint64_t>{3})) << start;
    fired = run_to(w, start + 4096);
    EXPECT_TRUE(fired.empty()) << start;
    fired = run_to(w, start + 4097);
    EXPECT_EQ(cookies(fired), (std::vector<uint64_t>{4})) << start;
  }
}

TEST(TimerWheel, FarFutureTimersAreExactPastTas28BitWrap) {
  // TAS's 28-bit us wheel wrapped after 268 s: a 300 s timer fired after 32 s.
  const uint64_t us = 1;
  const uint64_t s = 1000000 * us;
  TimerWheel w(5 * s);
  w.insert(5 * s + 300 * s, 1);                  // 300 s
  w.insert(5 * s + (uint64_t{1} << 28) + 1, 2);  // just past 2^28
  w.insert(5 * s + 86400 * s, 3);                // one day
  w.insert(5 * s + (uint64_t{1} << 40), 4);      // ~12.7 days
  EXPECT_TRUE(run_to(w, 5 * s + (uint64_t{1} << 28)).empty());
  EXPECT_EQ(cookies(run_to(w, 5 * s + (uint64_t{1} << 28) + 1)), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(run_to(w, 5 * s + 300 * s - 1).empty());
  EXPECT_EQ(cookies(run_to(w, 5 * s + 300 * s)), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(run_to(w, 5 * s + 86400 * s - 1).empty());
  EXPECT_EQ(cookies(run_to(w, 5 * s + 86400 * s)), (std::vector<uint64_t>{3}));
  auto last = run_to(w, UINT64_MAX);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].deadline, 5 * s + (uint64_t{1} << 40));
}

TEST(TimerWheel, WorksAtTheTopOfThe64BitRange) {
  TimerWheel w(UINT64_MAX - 100);
  w.insert(UINT64_MAX, 1);
  w.insert(UINT64_MAX - 1, 2);
  EXPECT_TRUE(run_to(w, UINT64_MAX - 2).empty());
  EXPECT_EQ(cookies(run_to(w, UINT64_MAX)), (std::vector<uint64_t>{2, 1}));
  TimerWheel from_zero(0);
  from_zero.insert(UINT64_MAX, 9);  // highest level
  EXPECT_TRUE(run_to(from_zero, UINT64_MAX - 1).empty());
  EXPECT_EQ(cookies(run_to(from_zero, UINT64_MAX)), (std::vector<uint64_t>{9}));
}

TEST(TimerWheel, NextEventIsNeverLaterThanTheEarliestDeadline) {
  TimerWheel w(1000);
  w.insert(1000 + 100000, 1);
  auto next = w.next_event();
  ASSERT_TRUE(next.has_value());
  EXPECT_LE(*next, 1000u + 100000u);
  EXPECT_GT(*next, 1000u);
  // Sleeping from event to event reaches the deadline in a few steps (one per level moved).
  int steps = 0;
  std::vector<Expired> fired;
  while (fired.empty()) {
    ASSERT_LT(++steps, 12);
    w.advance(*w.next_event(), &fired);
  }
  EXPECT_EQ(w.now(), 1000u + 100000u);
}

TEST(TimerWheel, AdvancingBackwardsDoesNotMoveTime) {
  TimerWheel w(500);
  w.insert(600, 1);
  EXPECT_TRUE(run_to(w, 100).empty());
  EXPECT_EQ(w.now(), 500u);
  EXPECT_EQ(run_to(w, 600).size(), 1u);
}

TEST(TimerWheel, InsertDuringProcessingOfFiredTimersIsSafe) {
  // The actor re-arms from what advance() returned: the wheel must already be consistent.
  TimerWheel w(0);
  for (uint64_t i = 1; i <= 100; ++i) w.insert(i * 37, i);
  std::vector<Expired> fired;
  uint64_t t = 0;
  size_t total = 0;
  while (total < 300) {
    t += 50;
    fired.clear();
    w.advance(t, &fired);
    for (const auto& e : fired) {
      ++total;
      w.insert(e.deadline + 1000, e.cookie);  // periodic re-arm
    }
    ASSERT_LT(t, 10000000u);
  }
  EXPECT_EQ(w.size(), 100u);
}

// Random operations against a reference multimap: deadlines near and far, advances small and
// huge, cancels, starting near a ring boundary so slot indices wrap many times.
TEST(TimerWheel, MatchesAReferenceModelUnderRandomOperations) {
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    std::mt19937_64 rng(seed);
    const uint64_t start = seed == 4 ? UINT64_MAX / 2 - 50 : (uint64_t{1} << (6 * seed)) - 3;
    TimerWheel w(start);
    uint64_t now = start;
    std::map<uint64_t, std::pair<uint64_t, TimerWheel::Handle>> live;  // cookie -> deadline
    uint64_t next_cookie = 1;
    auto random_delay = [&]() -> uint64_t {
      switch (rng() % 6) {
        case 0:
          return rng() % 4;
        case 1:
          return rng() % 64;
        case 2:
          return rng() % 5000;
        case 3:
          return rng() % 300000000;  // up to 300 s in us
        case 4:
          return rng() % (uint64_t{1} << 40);
        default:
          return rng() % 100;
      }
    };
    for (int op = 0; op < 20000; ++op) {
      const uint64_t r = rng() % 10;
      if (r < 5) {
        const uint64_t deadline = now + random_delay();
        const uint64_t cookie = next_cookie++;
        live[cookie] = {deadline, w.insert(deadline, cookie)};
      } else if (r < 7 && !live.empty()) {
        auto it = live.begin();
        std::advance(it, static_cast<long>(rng() % live.size()));
        ASSERT_TRUE(w.cancel(it->second.second));
        live.erase(it);
      } else {
        const uint64_t to = now + (rng() % 8 == 0 ? random_delay() : rng() % 200);
        std::vector<Expired> fired;
        w.advance(to, &fired);
        std::multiset<std::pair<uint64_t, uint64_t>> expected;
        for (auto it = live.begin(); it != live.end();) {
          if (it->second.first <= to) {
            expected.insert({it->second.first, it->first});
            it = live.erase(it);
          } else {
            ++it;
          }
        }
        std::multiset<std::pair<uint64_t, uint64_t>> got;
        uint64_t previous = 0;
        for (const auto& e : fired) {
          got.insert({e.deadline, e.cookie});
          ASSERT_GE(e.deadline, previous) << "out of order, seed " << seed;
          previous = e.deadline;
        }
        ASSERT_EQ(got, expected) << "seed " << seed << " op " << op;
        now = to;
        if (auto next = w.next_event()) {
          for (const auto& [cookie, entry] : live) ASSERT_LE(*next, entry.first);
        }
      }
      ASSERT_EQ(w.size(), live.size());
    }
  }
}

}  // namespace
}  // namespace vtas::timer
