#include "components/slowpath/port_allocator.h"

#include <gtest/gtest.h>

#include <set>

namespace vtas::conn {
namespace {

TEST(PortAllocator, PicksInsideTheRange) {
  PortAllocator ports({1000, 1009}, 7);
  for (int i = 0; i < 50; ++i) {
    auto p = ports.pick([](uint16_t) { return true; });
    ASSERT_TRUE(p);
    EXPECT_GE(*p, 1000);
    EXPECT_LE(*p, 1009);
  }
}

TEST(PortAllocator, SkipsPortsThatAreNotUsable) {
  PortAllocator ports({1000, 1009}, 7);
  for (int i = 0; i < 50; ++i) {
    auto p = ports.pick([](uint16_t port) { return port == 1004; });
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, 1004);
  }
}

TEST(PortAllocator, NothingWhenEveryPortIsTakenAndEachIsTriedOnce) {
  PortAllocator ports({1000, 1009}, 7);
  std::multiset<uint16_t> tried;
  auto p = ports.pick([&](uint16_t port) {
    tried.insert(port);
    return false;
  });
  EXPECT_FALSE(p);
  EXPECT_EQ(tried.size(), 10u);
  EXPECT_EQ(std::set<uint16_t>(tried.begin(), tried.end()).size(), 10u);
}

TEST(PortAllocator, StartsAtRandomPoints) {
  PortAllocator ports({32768, 60999}, 99);
  std::set<uint16_t> seen;
  for (int i = 0; i < 20; ++i) seen.insert(*ports.pick([](uint16_t) { return true; }));
  EXPECT_GT(seen.size(), 15u);
}

TEST(PortAllocator, SinglePortRangeAndFullRangeWork) {
  PortAllocator one({5000, 5000}, 1);
  EXPECT_EQ(one.pick([](uint16_t) { return true; }), 5000);
  PortAllocator all({1, 65535}, 1);
  EXPECT_TRUE(all.pick([](uint16_t) { return true; }));
}

TEST(CheckPortRange, RejectsZeroAndInvertedRanges) {
  EXPECT_TRUE(check_port_range({32768, 60999}));
  Status zero = check_port_range({0, 100});
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("0-100"), std::string::npos);
  EXPECT_FALSE(check_port_range({2000, 1000}));
}

}  // namespace
}  // namespace vtas::conn
