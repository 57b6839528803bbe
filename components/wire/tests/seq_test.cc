#include "components/wire/seq.h"

#include <gtest/gtest.h>

namespace vtas::wire {
namespace {

TEST(Seq, ComparesAcrossTheWrap) {
  const uint32_t before_wrap = 0xfffffff0u;
  const uint32_t after_wrap = 0x00000010u;
  EXPECT_TRUE(seq_lt(before_wrap, after_wrap));
  EXPECT_TRUE(seq_leq(before_wrap, after_wrap));
  EXPECT_TRUE(seq_gt(after_wrap, before_wrap));
  EXPECT_TRUE(seq_geq(after_wrap, before_wrap));
  EXPECT_FALSE(seq_gt(before_wrap, after_wrap));
  EXPECT_EQ(seq_diff(after_wrap, before_wrap), 0x20);
  EXPECT_EQ(seq_diff(before_wrap, after_wrap), -0x20);
}

TEST(Seq, EqualNumbersAreLeqAndGeqButNotLtOrGt) {
  for (uint32_t a : {0u, 1u, 0x7fffffffu, 0x80000000u, 0xffffffffu}) {
    EXPECT_TRUE(seq_leq(a, a));
    EXPECT_TRUE(seq_geq(a, a));
    EXPECT_FALSE(seq_lt(a, a));
    EXPECT_FALSE(seq_gt(a, a));
    EXPECT_EQ(seq_diff(a, a), 0);
  }
}

TEST(Seq, DistancesJustBelowHalfTheSpaceKeepTheirSign) {
  const uint32_t a = 0xfffffff0u;
  const uint32_t far = a + 0x7fffffffu;  // wraps
  EXPECT_TRUE(seq_lt(a, far));
  EXPECT_EQ(seq_diff(far, a), 0x7fffffff);
  EXPECT_TRUE(seq_gt(a, a + 0x80000001u));  // more than half ahead means behind
}

TEST(Seq, InWindowIsHalfOpenAndWrapSafe) {
  EXPECT_TRUE(seq_in_window(100, 100, 10));
  EXPECT_TRUE(seq_in_window(109, 100, 10));
  EXPECT_FALSE(seq_in_window(110, 100, 10));
  EXPECT_FALSE(seq_in_window(99, 100, 10));
  EXPECT_FALSE(seq_in_window(100, 100, 0));
  // A window straddling 2^32.
  EXPECT_TRUE(seq_in_window(0xfffffffeu, 0xfffffff0u, 0x20));
  EXPECT_TRUE(seq_in_window(0x0000000fu, 0xfffffff0u, 0x20));
  EXPECT_FALSE(seq_in_window(0x00000010u, 0xfffffff0u, 0x20));
  EXPECT_FALSE(seq_in_window(0xffffffefu, 0xfffffff0u, 0x20));
}

}  // namespace
}  // namespace vtas::wire
