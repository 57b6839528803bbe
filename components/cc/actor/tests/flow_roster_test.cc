#include "components/cc/actor/flow_roster.h"

#include <gtest/gtest.h>

namespace vtas::cc {
namespace {

TEST(FlowRosterTest, PopsDueFlowsEarliestFirstAndOnlyWhenDue) {
  FlowRoster r(16);
  r.track(3, 0x33, 300, false);
  r.track(1, 0x11, 100, false);
  r.track(2, 0x22, 200, false);
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.next_due_us(), 100u);
  EXPECT_FALSE(r.pop_due(99));
  EXPECT_EQ(r.pop_due(250), 1u);
  EXPECT_EQ(r.pop_due(250), 2u);
  EXPECT_FALSE(r.pop_due(250));
  // A popped flow stays tracked but is not scheduled until schedule() says when.
  ASSERT_NE(r.find(1), nullptr);
  EXPECT_FALSE(r.find(1)->scheduled);
  EXPECT_EQ(r.next_due_us(), 300u);
  r.schedule(1, 150);
  EXPECT_EQ(r.next_due_us(), 150u);
}

TEST(FlowRosterTest, UntrackedAndRescheduledFlowsLeaveNoLiveEntry) {
  FlowRoster r(16);
  r.track(5, 0x55, 100, false);
  r.track(6, 0x66, 200, false);
  r.untrack(5);
  EXPECT_EQ(r.find(5), nullptr);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.next_due_us(), 200u);  // 5's entry is stale
  r.schedule(6, 400);                // the entry at 200 is stale now
  EXPECT_FALSE(r.pop_due(300));
  EXPECT_EQ(r.pop_due(400), 6u);
  EXPECT_FALSE(r.pop_due(1000));
  EXPECT_FALSE(r.next_due_us());
}

TEST(FlowRosterTest, RetrackingASlotStartsTheNewFlowFresh) {
  FlowRoster r(8);
  r.track(2, 0xaa, 100, true);
  r.find(2)->steps = 7;
  r.track(2, 0xbb, 500, false);
  ASSERT_NE(r.find(2), nullptr);
  EXPECT_EQ(r.find(2)->key, 0xbbu);
  EXPECT_EQ(r.find(2)->steps, 0u);
  EXPECT_FALSE(r.find(2)->resumed);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_FALSE(r.pop_due(200));  // the old entry at 100 is stale
  EXPECT_EQ(r.pop_due(500), 2u);
}

TEST(FlowRosterTest, IdsListsTrackedSlotsAndIgnoresOutOfRange) {
  FlowRoster r(4);
  r.track(1, 1, 10, false);
  r.track(3, 3, 10, false);
  r.track(9, 9, 10, false);  // out of range: ignored
  r.untrack(9);
  EXPECT_EQ(r.size(), 2u);
  r.untrack(1);
  ASSERT_EQ(r.ids().size(), 1u);
  EXPECT_EQ(r.ids()[0], 3u);
  EXPECT_EQ(r.find(9), nullptr);
}

}  // namespace
}  // namespace vtas::cc
