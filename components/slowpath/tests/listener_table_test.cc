#include "components/slowpath/listener_table.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <map>

namespace vtas::conn {
namespace {

constexpr uint32_t kIp = 0x0a000001;

ListenerRecord rec(uint32_t id, uint16_t port, bool reuse = false, uint32_t ip = 0,
                   uint32_t backlog = 4, uint32_t app = 1) {
  ListenerRecord r{};
  r.listener_id = id;
  r.app_id = app;
  r.local_ip = ip;
  r.local_port = port;
  r.reuse_port = reuse ? 1 : 0;
  r.backlog = backlog;
  r.order = id;
  return r;
}

BacklogSyn syn_from(uint16_t remote_port, TimePoint at = TimePoint(std::chrono::seconds(1))) {
  BacklogSyn s;
  s.syn.tuple = FourTuple{kIp, 0x0a000002, 80, remote_port};
  s.received = at;
  return s;
}

TEST(ListenerTable, SecondListenerWithoutReuseportIsAddressInUse) {
  ListenerTable t(100, 8);
  EXPECT_EQ(t.check_add(0, 80, false, 1000), 0);
  t.add(rec(1, 80), kNoSlot, 1000);
  EXPECT_EQ(t.check_add(0, 80, false, 1000), -EADDRINUSE);
  EXPECT_EQ(t.check_add(0, 80, true, 1000), -EADDRINUSE);     // the group was not reuseport
  EXPECT_EQ(t.check_add(kIp, 80, false, 1000), -EADDRINUSE);  // overlaps the wildcard
  EXPECT_EQ(t.check_add(0, 81, false, 1000), 0);
}

TEST(ListenerTable, ReuseportGroupsAreSharedByOneUserUpToALimit) {
  ListenerTable t(100, 2);
  t.add(rec(1, 80, true), kNoSlot, 1000);
  EXPECT_EQ(t.check_add(0, 80, true, 1000), 0);
  EXPECT_EQ(t.check_add(0, 80, true, 2000), -EADDRINUSE);  // another user cannot join
  EXPECT_EQ(t.check_add(0, 80, false, 1000), -EADDRINUSE);
  t.add(rec(2, 80, true), kNoSlot, 1000);
  EXPECT_EQ(t.check_add(0, 80, true, 1000), -ENOBUFS);
  EXPECT_EQ(t.groups(), 1u);
  EXPECT_EQ(t.size(), 2u);
}

TEST(ListenerTable, SelectPrefersTheExactAddressThenTheWildcard) {
  ListenerTable t(100, 8);
  t.add(rec(1, 80, false, kIp), kNoSlot, 0);
  t.add(rec(2, 81, false, 0), kNoSlot, 0);
  EXPECT_EQ(t.select(FourTuple{kIp, 2, 80, 5}, 0)->record.listener_id, 1u);
  EXPECT_EQ(t.select(FourTuple{kIp, 2, 81, 5}, 0)->record.listener_id, 2u);
  EXPECT_EQ(t.select(FourTuple{kIp + 1, 2, 80, 5}, 0), nullptr);  // other address, exact only
  EXPECT_EQ(t.select(FourTuple{kIp, 2, 82, 5}, 0), nullptr);
  EXPECT_TRUE(t.port_in_use(kIp, 80));
  EXPECT_TRUE(t.port_in_use(kIp, 81));
  EXPECT_FALSE(t.port_in_use(kIp, 82));
}

TEST(ListenerTable, ReuseportSpreadsByHashAndIsStablePerTuple) {
  ListenerTable t(100, 8);
  for (uint32_t id = 1; id <= 4; ++id) t.add(rec(id, 80, true), kNoSlot, 0);
  std::map<uint32_t, int> hits;
  for (uint64_t h = 0; h < 400; ++h)
    hits[t.select(FourTuple{kIp, 2, 80, 7}, h)->record.listener_id]++;
  ASSERT_EQ(hits.size(), 4u);
  for (const auto& [id, n] : hits) EXPECT_EQ(n, 100) << id;
  EXPECT_EQ(t.select(FourTuple{kIp, 2, 80, 7}, 12345)->record.listener_id,
            t.select(FourTuple{kIp, 2, 80, 7}, 12345)->record.listener_id);
}

TEST(ListenerTable, GroupOrderFollowsRecordOrderNotInsertion) {
  // A restart re-adds listeners in any order; the hash must pick the same one as before.
  ListenerTable a(100, 8);
  a.add(rec(1, 80, true), kNoSlot, 0);
  a.add(rec(2, 80, true), kNoSlot, 0);
  ListenerTable b(100, 8);
  b.add(rec(2, 80, true), kNoSlot, 0);
  b.add(rec(1, 80, true), kNoSlot, 0);
  for (uint64_t h = 0; h < 4; ++h) {
    EXPECT_EQ(a.select(FourTuple{kIp, 2, 80, 7}, h)->record.listener_id,
              b.select(FourTuple{kIp, 2, 80, 7}, h)->record.listener_id);
  }
}

TEST(ListenerTable, BacklogIsBoundedPerListenerAndGlobally) {
  ListenerTable t(3, 8);
  Listener& a = t.add(rec(1, 80, false, 0, 2), kNoSlot, 0);
  Listener& b = t.add(rec(2, 81, false, 0, 10), kNoSlot, 0);
  EXPECT_EQ(t.enqueue_syn(a, syn_from(1)), ListenerTable::Enqueue::kQueued);
  EXPECT_EQ(t.enqueue_syn(a, syn_from(1)), ListenerTable::Enqueue::kDuplicate);
  EXPECT_EQ(t.enqueue_syn(a, syn_from(2)), ListenerTable::Enqueue::kQueued);
  EXPECT_EQ(t.enqueue_syn(a, syn_from(3)), ListenerTable::Enqueue::kBacklogFull);
  BacklogSyn other = syn_from(4);
  other.syn.tuple.local_port = 81;
  EXPECT_EQ(t.enqueue_syn(b, other), ListenerTable::Enqueue::kQueued);
  other.syn.tuple.remote_port = 5;
  EXPECT_EQ(t.enqueue_syn(b, other), ListenerTable::Enqueue::kSynQueueFull);
  EXPECT_EQ(t.queued_syns(), 3u);
  EXPECT_TRUE(t.syn_waiting(syn_from(2).syn.tuple));
  auto first = t.pop_syn(a);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->syn.tuple.remote_port, 1);  // oldest first
  EXPECT_EQ(t.queued_syns(), 2u);
  EXPECT_FALSE(t.syn_waiting(first->syn.tuple));
}

TEST(ListenerTable, ExpireDropsOldSyns) {
  using std::chrono::seconds;
  ListenerTable t(10, 8);
  Listener& a = t.add(rec(1, 80), kNoSlot, 0);
  ASSERT_EQ(t.enqueue_syn(a, syn_from(1, TimePoint(seconds(1)))), ListenerTable::Enqueue::kQueued);
  ASSERT_EQ(t.enqueue_syn(a, syn_from(2, TimePoint(seconds(5)))), ListenerTable::Enqueue::kQueued);
  // A retransmission refreshes the waiting SYN.
  ASSERT_EQ(t.enqueue_syn(a, syn_from(1, TimePoint(seconds(6)))),
            ListenerTable::Enqueue::kDuplicate);
  const auto expired = t.expire_syns(TimePoint(seconds(6)));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].syn.tuple, syn_from(2).syn.tuple);
  EXPECT_EQ(t.queued_syns(), 1u);
  EXPECT_TRUE(t.syn_waiting(syn_from(1).syn.tuple));
  EXPECT_FALSE(t.syn_waiting(syn_from(2).syn.tuple));
}

TEST(ListenerTable, AcceptsAreServedInOrderAndCanBeReturned) {
  ListenerTable t(10, 8);
  Listener& a = t.add(rec(1, 80), kNoSlot, 0);
  PostedAccept x;
  x.record.opaque = 1;
  PostedAccept y;
  y.record.opaque = 2;
  t.add_accept(a, x);
  t.add_accept(a, y);
  EXPECT_EQ(t.accepts_posted(), 2u);
  auto got = t.pop_accept(a);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->record.opaque, 1u);
  t.return_accept(a, *got);
  EXPECT_EQ(t.pop_accept(a)->record.opaque, 1u);
  EXPECT_EQ(t.pop_accept(a)->record.opaque, 2u);
  EXPECT_FALSE(t.pop_accept(a));
}

TEST(ListenerTable, RemoveReturnsTheListenerAndForgetsItsSyns) {
  ListenerTable t(10, 8);
  Listener& a = t.add(rec(1, 80, true, 0, 4, 7), kNoSlot, 0);
  t.add(rec(2, 80, true, 0, 4, 8), kNoSlot, 0);
  ASSERT_EQ(t.enqueue_syn(a, syn_from(1)), ListenerTable::Enqueue::kQueued);
  EXPECT_EQ(t.listeners_of_app(7), std::vector<uint32_t>{1});
  auto removed = t.remove(1);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->backlog.size(), 1u);
  EXPECT_EQ(t.queued_syns(), 0u);
  EXPECT_FALSE(t.syn_waiting(syn_from(1).syn.tuple));
  EXPECT_EQ(t.select(FourTuple{kIp, 2, 80, 1}, 0)->record.listener_id, 2u);
  EXPECT_FALSE(t.remove(1));
  t.remove(2);
  EXPECT_EQ(t.groups(), 0u);
  EXPECT_EQ(t.select(FourTuple{kIp, 2, 80, 1}, 0), nullptr);
}

}  // namespace
}  // namespace vtas::conn
