#include "components/slowpath/keyed_hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace vtas::conn {
namespace {

// Key 00 01 .. 0f and messages 00 01 .. (n-1): the reference vectors of the SipHash paper.
TEST(SipHash24, MatchesReferenceVectors) {
  const SipKey key{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  std::vector<uint8_t> msg(64);
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(siphash24(key, msg.data(), 0), 0x726fdb47dd0e0e31ull);
  EXPECT_EQ(siphash24(key, msg.data(), 1), 0x74f839c593dc67fdull);
  EXPECT_EQ(siphash24(key, msg.data(), 7), 0xab0200f58b01d137ull);
  EXPECT_EQ(siphash24(key, msg.data(), 8), 0x93f5f5799a932462ull);
  EXPECT_EQ(siphash24(key, msg.data(), 15), 0xa129ca6149be45e5ull);
  EXPECT_EQ(siphash24(key, msg.data(), 63), 0x958a324ceb064572ull);
}

TEST(HashTuple, DependsOnEveryFieldKeyAndSalt) {
  const SipKey key{1, 2};
  const FourTuple t{0x0a000001, 0x0a000002, 80, 40000};
  const uint64_t base = hash_tuple(key, t);
  EXPECT_EQ(hash_tuple(key, t), base);
  FourTuple u = t;
  u.local_ip ^= 1;
  EXPECT_NE(hash_tuple(key, u), base);
  u = t;
  u.remote_ip ^= 1;
  EXPECT_NE(hash_tuple(key, u), base);
  u = t;
  u.local_port ^= 1;
  EXPECT_NE(hash_tuple(key, u), base);
  u = t;
  u.remote_port ^= 1;
  EXPECT_NE(hash_tuple(key, u), base);
  EXPECT_NE(hash_tuple(SipKey{1, 3}, t), base);
  EXPECT_NE(hash_tuple(key, t, 7), base);
}

TEST(RandomSipKey, IsNotZeroAndDiffersBetweenCalls) {
  const SipKey a = random_sip_key();
  const SipKey b = random_sip_key();
  EXPECT_FALSE(a.k0 == 0 && a.k1 == 0);
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace vtas::conn
