#include "components/fastpath/offset_allocator.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace vtas::fastpath {
namespace {

TEST(OffsetAllocator, AlignsAndFitsInside) {
  OffsetAllocator a(100, 1000);  // usable: [128, 1088) rounded down to 64 multiples
  auto x = a.allocate(1);
  ASSERT_TRUE(x);
  EXPECT_EQ(*x % 64, 0u);
  EXPECT_GE(*x, 100u);
  EXPECT_FALSE(a.allocate(0));
  EXPECT_FALSE(a.allocate(1u << 20));
}

TEST(OffsetAllocator, ExhaustsThenReusesFreedSpace) {
  OffsetAllocator a(0, 64 * 4);
  std::vector<uint64_t> got;
  for (int i = 0; i < 4; ++i) {
    auto x = a.allocate(64);
    ASSERT_TRUE(x);
    got.push_back(*x);
  }
  EXPECT_FALSE(a.allocate(64));
  EXPECT_TRUE(a.free(got[1]));
  EXPECT_TRUE(a.free(got[2]));
  auto big = a.allocate(128);  // the two freed neighbours coalesced
  ASSERT_TRUE(big);
  EXPECT_EQ(*big, got[1]);
}

TEST(OffsetAllocator, RejectsDoubleAndForeignFree) {
  OffsetAllocator a(0, 4096);
  auto x = a.allocate(100);
  ASSERT_TRUE(x);
  EXPECT_TRUE(a.free(*x));
  EXPECT_FALSE(a.free(*x));
  EXPECT_FALSE(a.free(12345));
  EXPECT_EQ(a.free_bytes(), 4096u);
}

TEST(OffsetAllocator, RandomWorkloadNeverOverlapsAndFullyCoalesces) {
  OffsetAllocator a(0, 1 << 20);
  std::mt19937 rng(7);
  std::map<uint64_t, uint64_t> live;
  for (int i = 0; i < 20000; ++i) {
    if (live.empty() || rng() % 2) {
      uint64_t size = 1 + rng() % 9000;
      if (auto x = a.allocate(size)) {
        auto next = live.lower_bound(*x);
        if (next != live.end()) {
          EXPECT_LE(*x + size, next->first);
        }
        if (next != live.begin()) {
          auto prev = std::prev(next);
          EXPECT_LE(prev->first + prev->second, *x);
        }
        live.emplace(*x, size);
      }
    } else {
      auto it = live.begin();
      std::advance(it, rng() % live.size());
      EXPECT_TRUE(a.free(it->first));
      live.erase(it);
    }
  }
  for (auto& [offset, size] : live) EXPECT_TRUE(a.free(offset));
  EXPECT_EQ(a.free_bytes(), 1u << 20);
  EXPECT_TRUE(a.allocate(1 << 20));  // one range again
}

}  // namespace
}  // namespace vtas::fastpath
