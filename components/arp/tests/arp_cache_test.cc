#include "components/arp/arp_cache.h"

#include <gtest/gtest.h>

namespace vtas::arp {
namespace {

using std::chrono::seconds;
using Evidence = ArpCache::Evidence;

const wire::MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x0a}};
const wire::MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x0b}};
const TimePoint kT0 = TimePoint(seconds(1000));

TEST(ArpCache, AReplyToUsIsReachableThenStaleThenGone) {
  ArpCache cache;  // 30 s reachable, 60 s stale
  cache.learn(7, kMacA, Evidence::kReplyToUs, true, kT0);
  auto hit = cache.lookup(7, kT0 + seconds(29));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->mac, kMacA);
  EXPECT_EQ(hit->state, ArpState::kReachable);
  EXPECT_FALSE(hit->needs_refresh);
  hit = cache.lookup(7, kT0 + seconds(30));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->state, ArpState::kStale);
  EXPECT_TRUE(hit->needs_refresh);
  cache.refresh_sent(7);
  EXPECT_FALSE(cache.lookup(7, kT0 + seconds(31))->needs_refresh);
  EXPECT_TRUE(cache.lookup(7, kT0 + seconds(89)));
  EXPECT_FALSE(cache.lookup(7, kT0 + seconds(90)));  // expired: TAS never expired entries
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.expirations(), 1u);
}

TEST(ArpCache, ARequestToUsIsStaleAtOnce) {
  ArpCache cache;
  cache.learn(7, kMacA, Evidence::kOther, true, kT0);
  auto hit = cache.lookup(7, kT0);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->state, ArpState::kStale);
  EXPECT_TRUE(hit->needs_refresh);
  EXPECT_FALSE(cache.lookup(7, kT0 + seconds(60)));
}

TEST(ArpCache, AReplyConfirmsAStaleEntry) {
  ArpCache cache;
  cache.learn(7, kMacA, Evidence::kOther, true, kT0);
  cache.refresh_sent(7);
  cache.learn(7, kMacA, Evidence::kReplyToUs, true, kT0 + seconds(1));
  auto hit = cache.lookup(7, kT0 + seconds(2));
  EXPECT_EQ(hit->state, ArpState::kReachable);
  EXPECT_TRUE(cache.lookup(7, kT0 + seconds(31))->needs_refresh);  // stale again, not refreshed
}

TEST(ArpCache, SameMacAgainKeepsAReachableEntryReachable) {
  ArpCache cache;
  cache.learn(7, kMacA, Evidence::kReplyToUs, true, kT0);
  auto learned = cache.learn(7, kMacA, Evidence::kOther, true, kT0 + seconds(5));
  EXPECT_FALSE(learned.mac_changed);
  EXPECT_EQ(cache.lookup(7, kT0 + seconds(6))->state, ArpState::kReachable);
}

TEST(ArpCache, ANewMacReplacesTheOldOneAndIsUnconfirmed) {
  ArpCache cache;
  cache.learn(7, kMacA, Evidence::kReplyToUs, true, kT0);
  auto learned = cache.learn(7, kMacB, Evidence::kOther, false, kT0 + seconds(5));
  EXPECT_TRUE(learned.stored);
  EXPECT_TRUE(learned.mac_changed);
  auto hit = cache.lookup(7, kT0 + seconds(5));
  EXPECT_EQ(hit->mac, kMacB);
  EXPECT_EQ(hit->state, ArpState::kStale);
}

TEST(ArpCache, MergeOnlyUpdatesExistingEntries) {
  ArpCache cache;
  auto learned = cache.learn(7, kMacA, Evidence::kOther, /*create=*/false, kT0);
  EXPECT_FALSE(learned.stored);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ArpCache, IncompleteEntriesAreNotAnsweredAndCompleteOnLearning) {
  ArpCache cache;
  ASSERT_TRUE(cache.mark_incomplete(7, kT0));
  EXPECT_FALSE(cache.lookup(7, kT0));
  EXPECT_EQ(cache.count(ArpState::kIncomplete, kT0), 1u);
  auto learned = cache.learn(7, kMacA, Evidence::kOther, false, kT0);  // merge completes it
  EXPECT_TRUE(learned.completed);
  EXPECT_EQ(cache.lookup(7, kT0)->mac, kMacA);
  cache.mark_incomplete(8, kT0);
  cache.erase(8);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ArpCache, ExpireSweepsOnlyExpiredCompleteEntries) {
  ArpCache cache;
  cache.learn(1, kMacA, Evidence::kOther, true, kT0);      // gone at +60 s
  cache.learn(2, kMacA, Evidence::kReplyToUs, true, kT0);  // gone at +90 s
  cache.mark_incomplete(3, kT0);                           // never by age
  EXPECT_EQ(cache.expire(kT0 + seconds(59)), 0u);
  EXPECT_EQ(cache.expire(kT0 + seconds(60)), 1u);
  EXPECT_EQ(cache.expire(kT0 + seconds(1000)), 1u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.count(ArpState::kIncomplete, kT0 + seconds(1000)), 1u);
}

TEST(ArpCache, FullCacheEvictsTheLeastRecentlyUsed) {
  ArpCacheLimits limits;
  limits.capacity = 3;
  ArpCache cache(limits);
  cache.learn(1, kMacA, Evidence::kReplyToUs, true, kT0);
  cache.learn(2, kMacA, Evidence::kReplyToUs, true, kT0);
  cache.learn(3, kMacA, Evidence::kReplyToUs, true, kT0);
  cache.lookup(1, kT0);  // 1 is used: 2 is now the least recent
  auto learned = cache.learn(4, kMacA, Evidence::kReplyToUs, true, kT0);
  EXPECT_TRUE(learned.evicted);
  EXPECT_TRUE(cache.lookup(1, kT0));
  EXPECT_FALSE(cache.lookup(2, kT0));
  EXPECT_TRUE(cache.lookup(3, kT0));
  EXPECT_TRUE(cache.lookup(4, kT0));
  EXPECT_EQ(cache.evictions(), 1u);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(ArpCache, IncompleteEntriesAreNeverEvicted) {
  ArpCacheLimits limits;
  limits.capacity = 2;
  ArpCache cache(limits);
  ASSERT_TRUE(cache.mark_incomplete(1, kT0));
  ASSERT_TRUE(cache.mark_incomplete(2, kT0));
  EXPECT_FALSE(cache.mark_incomplete(3, kT0));
  EXPECT_FALSE(cache.learn(3, kMacA, Evidence::kReplyToUs, true, kT0).stored);
  EXPECT_EQ(cache.count(ArpState::kIncomplete, kT0), 2u);
}

TEST(ArpCache, RowsAreSortedAndBounded) {
  ArpCache cache;
  for (uint32_t ip : {30u, 10u, 20u}) cache.learn(ip, kMacA, Evidence::kReplyToUs, true, kT0);
  auto rows = cache.rows(kT0 + seconds(10), 2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].ip, 10u);
  EXPECT_EQ(rows[1].ip, 20u);
  EXPECT_EQ(rows[0].state, ArpState::kReachable);
  EXPECT_EQ(rows[0].expires_in, seconds(80));
}

}  // namespace
}  // namespace vtas::arp
