#include "tools/vtas-relay/frame_edit.h"

#include <gtest/gtest.h>

#include "tools/vtas-relay/tests/frame_builder.h"

namespace vtas::relay {
namespace {

using testing::ipv4_checksum_ok;
using testing::tcp_checksum_ok;
using testing::tcp_frame;

TEST(FrameEditTest, InspectFindsIpEcnAndTcpData) {
  auto data = tcp_frame(kEcnEct0, 100);
  FrameInfo info = inspect(data.data(), data.size());
  EXPECT_TRUE(info.ip);
  EXPECT_FALSE(info.ipv6);
  EXPECT_EQ(info.ecn, kEcnEct0);
  EXPECT_TRUE(info.tcp);
  EXPECT_TRUE(info.tcp_data);
  auto ack = tcp_frame(kEcnNotEct, 0);
  info = inspect(ack.data(), ack.size());
  EXPECT_TRUE(info.tcp);
  EXPECT_FALSE(info.tcp_data);
}

TEST(FrameEditTest, SettingCeKeepsTheIpChecksumValid) {
  for (uint8_t ecn : {kEcnEct0, kEcnEct1}) {
    auto f = tcp_frame(ecn, 64);
    ASSERT_TRUE(ipv4_checksum_ok(f));
    ASSERT_TRUE(set_ce(f.data(), f.size(), inspect(f.data(), f.size())));
    EXPECT_EQ(f[15] & 3, kEcnCe);
    EXPECT_TRUE(ipv4_checksum_ok(f));
    EXPECT_TRUE(tcp_checksum_ok(f));  // the TCP checksum does not cover the TOS byte
  }
}

TEST(FrameEditTest, NotEctAndCeFramesAreNotMarked) {
  auto plain = tcp_frame(kEcnNotEct, 64);
  const auto before = plain;
  EXPECT_FALSE(set_ce(plain.data(), plain.size(), inspect(plain.data(), plain.size())));
  EXPECT_EQ(plain, before);
  auto marked = tcp_frame(kEcnCe, 64);
  EXPECT_FALSE(set_ce(marked.data(), marked.size(), inspect(marked.data(), marked.size())));
}

TEST(FrameEditTest, SettingCwrKeepsTheTcpChecksumValid) {
  auto f = tcp_frame(kEcnEct0, 1448);
  ASSERT_TRUE(tcp_checksum_ok(f));
  ASSERT_TRUE(set_cwr(f.data(), f.size(), inspect(f.data(), f.size())));
  EXPECT_EQ(f[14 + 20 + 13] & 0x80, 0x80);
  EXPECT_TRUE(tcp_checksum_ok(f));
  EXPECT_FALSE(set_cwr(f.data(), f.size(), inspect(f.data(), f.size())));  // already set
}

TEST(FrameEditTest, Ipv6EcnIsInTheTrafficClass) {
  std::vector<uint8_t> f(14 + 40 + 20, 0);
  f[12] = 0x86;
  f[13] = 0xdd;
  f[14] = 0x60;
  f[15] = 0x20;  // traffic class 0x02: ECT(0)
  f[18] = 0;
  f[19] = 20;  // payload length
  f[20] = 6;   // TCP
  f[14 + 40 + 12] = 5 << 4;
  FrameInfo info = inspect(f.data(), f.size());
  ASSERT_TRUE(info.ipv6);
  EXPECT_EQ(info.ecn, kEcnEct0);
  EXPECT_TRUE(info.tcp);
  ASSERT_TRUE(set_ce(f.data(), f.size(), info));
  EXPECT_EQ(inspect(f.data(), f.size()).ecn, kEcnCe);
  EXPECT_EQ(f[14] >> 4, 6);  // the version is untouched
}

TEST(FrameEditTest, GarbageAndShortFramesAreLeftAlone) {
  for (size_t length = 0; length < 60; ++length) {
    auto f = tcp_frame(kEcnEct0, 10);
    f.resize(length);
    const FrameInfo info = inspect(f.data(), f.size());
    set_ce(f.data(), f.size(), info);
    set_cwr(f.data(), f.size(), info);
  }
  std::vector<uint8_t> junk(100, 0xff);
  const FrameInfo info = inspect(junk.data(), junk.size());
  EXPECT_FALSE(info.ip);
  EXPECT_FALSE(set_ce(junk.data(), junk.size(), info));
  // A header length field pointing past the frame.
  auto f = tcp_frame(kEcnEct0, 10);
  f[14] = 0x4f;
  EXPECT_FALSE(inspect(f.data(), f.size()).tcp);
}

TEST(FrameEditTest, ChecksumAdjustMatchesAFullRecomputation) {
  std::vector<uint8_t> data = {0x45, 0x02, 0x12, 0x34, 0xab, 0xcd, 0x00, 0x00};
  const uint16_t before = testing::internet_checksum(data.data(), data.size());
  const uint16_t old_word = htons(0x4502);
  data[1] = 0x03;
  const uint16_t expected = testing::internet_checksum(data.data(), data.size());
  EXPECT_EQ(ntohs(checksum_adjust(htons(before), old_word, htons(0x4503))), expected);
}

}  // namespace
}  // namespace vtas::relay
