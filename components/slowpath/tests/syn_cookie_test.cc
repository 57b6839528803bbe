// SynCookies: a cookie checks for its own tuple and peer ISN within two 64 s slots, carries
// the MSS class, and fails for anything else.
#include "components/slowpath/syn_cookie.h"

#include <gtest/gtest.h>

namespace vtas::conn {
namespace {

constexpr SipKey kKey{1, 2};
const FourTuple kTuple{0x0a000001, 0x0a000002, 80, 40000};
const TimePoint kNow = TimePoint(std::chrono::seconds(6400));

TEST(SynCookies, ValidCookieYieldsTheLargestMssClassNotAboveThePeers) {
  SynCookies c(kKey);
  const uint32_t cookie = c.make(kTuple, 1000, 1460, kNow);
  EXPECT_EQ(c.check(kTuple, 1000, cookie, kNow), std::optional<uint16_t>(1460));
  EXPECT_EQ(c.check(kTuple, 1000, c.make(kTuple, 1000, 1400, kNow), kNow),
            std::optional<uint16_t>(1300));
  EXPECT_EQ(c.check(kTuple, 1000, c.make(kTuple, 1000, 536, kNow), kNow),
            std::optional<uint16_t>(536));
  EXPECT_EQ(c.check(kTuple, 1000, c.make(kTuple, 1000, 10, kNow), kNow),
            std::optional<uint16_t>(64));  // below the table: the smallest class
}

TEST(SynCookies, CookieIsValidForTheNextSlotOnly) {
  SynCookies c(kKey);
  const uint32_t cookie = c.make(kTuple, 1000, 1460, kNow);
  EXPECT_TRUE(c.check(kTuple, 1000, cookie, kNow + std::chrono::seconds(64)).has_value());
  EXPECT_FALSE(c.check(kTuple, 1000, cookie, kNow + std::chrono::seconds(128)).has_value());
}

TEST(SynCookies, WrongTupleIsnOrKeyFails) {
  SynCookies c(kKey);
  const uint32_t cookie = c.make(kTuple, 1000, 1460, kNow);
  FourTuple other = kTuple;
  other.remote_port = 40001;
  EXPECT_FALSE(c.check(other, 1000, cookie, kNow).has_value());
  EXPECT_FALSE(c.check(kTuple, 1001, cookie, kNow).has_value());
  EXPECT_FALSE(c.check(kTuple, 1000, cookie ^ 0x100, kNow).has_value());
  EXPECT_FALSE(SynCookies(SipKey{3, 4}).check(kTuple, 1000, cookie, kNow).has_value());
}

TEST(SynCookies, GuessingRarelySucceeds) {
  SynCookies c(kKey);
  int hits = 0;
  for (uint32_t guess = 0; guess < 100000; ++guess) {
    if (c.check(kTuple, 1000, guess * 40503u, kNow)) ++hits;
  }
  EXPECT_LE(hits, 2);  // 29 hash bits, two slots: ~1 in 2^28 per guess
}

}  // namespace
}  // namespace vtas::conn
