#include "components/slowpath/next_hop_cache.h"

#include <gtest/gtest.h>

namespace vtas::conn {
namespace {

using std::chrono::seconds;
const wire::MacAddr kMac{{2, 0, 0, 0, 0, 9}};

TEST(NextHopCache, EntriesAgeOut) {
  NextHopCache c(seconds(10), 4);
  const TimePoint t(seconds(100));
  EXPECT_FALSE(c.lookup(1, t));
  c.store(1, kMac, t);
  EXPECT_EQ(c.lookup(1, t + seconds(9)), kMac);
  EXPECT_FALSE(c.lookup(1, t + seconds(10)));
  c.forget(1);
  EXPECT_FALSE(c.lookup(1, t));
}

TEST(NextHopCache, StaysBounded) {
  NextHopCache c(seconds(10), 2);
  const TimePoint t(seconds(100));
  c.store(1, kMac, t);
  c.store(2, kMac, t);
  c.store(3, kMac, t);
  EXPECT_LE(c.size(), 2u);
  EXPECT_EQ(c.lookup(3, t), kMac);
}

TEST(NextHopCache, WaitersShareOneResolution) {
  NextHopCache c(seconds(10), 4);
  EXPECT_TRUE(c.add_waiter(7, 100));
  EXPECT_FALSE(c.add_waiter(7, 101));
  EXPECT_TRUE(c.add_waiter(8, 102));
  EXPECT_EQ(c.resolutions_pending(), 2u);
  EXPECT_EQ(c.take_waiters(7), (std::vector<uint32_t>{100, 101}));
  EXPECT_TRUE(c.take_waiters(7).empty());
  EXPECT_EQ(c.resolutions_pending(), 1u);
}

}  // namespace
}  // namespace vtas::conn
