#include "components/wire/arp.h"

#include <gtest/gtest.h>

#include <vector>

#include "components/wire/frame.h"
#include "components/wire/tests/test_frames.h"

namespace vtas::wire {
namespace {

using testing::from_hex;

const MacAddr kLinuxMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x02}};
const Ipv4Addr kLinuxIp = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kPeerIp = Ipv4Addr::from_octets(10, 0, 0, 2);

TEST(Arp, ParsesLinuxRequest) {
  const std::vector<uint8_t> f = from_hex(testing::kLinuxArpRequest);
  ArpPacket arp;
  ASSERT_EQ(parse_arp(f.data() + 14, f.size() - 14, &arp), ParseResult::kOk);
  EXPECT_EQ(arp.op, ArpOp::kRequest);
  EXPECT_EQ(arp.sender_mac, kLinuxMac);
  EXPECT_EQ(arp.sender_ip, kLinuxIp);
  EXPECT_TRUE(arp.target_mac.is_zero());
  EXPECT_EQ(arp.target_ip, kPeerIp);
  EXPECT_FALSE(arp.is_gratuitous());
}

TEST(Arp, RequestBuilderMatchesLinux) {
  std::vector<uint8_t> out(64);
  const size_t n = build_arp_request(out.data(), out.size(), kLinuxMac, kLinuxIp, kPeerIp);
  ASSERT_EQ(n, kArpFrameLength);
  out.resize(n);
  EXPECT_EQ(out, from_hex(testing::kLinuxArpRequest));
}

TEST(Arp, ReplyBuilderMatchesLinux) {
  // The peer asked Linux for 10.0.0.1; Linux's answer was captured.
  const ArpPacket request{ArpOp::kRequest, kPeerMac, kPeerIp, MacAddr{}, kLinuxIp};
  std::vector<uint8_t> out(64);
  const size_t n = build_arp_reply(out.data(), out.size(), kLinuxMac, request);
  ASSERT_EQ(n, kArpFrameLength);
  out.resize(n);
  EXPECT_EQ(out, from_hex(testing::kLinuxArpReply));
}

TEST(Arp, GratuitousAnnouncement) {
  std::vector<uint8_t> out(kArpFrameLength);
  ASSERT_EQ(build_gratuitous_arp(out.data(), out.size(), kLinuxMac, kLinuxIp), kArpFrameLength);
  Frame f;
  ASSERT_EQ(parse_frame(out.data(), out.size(), &f), ParseResult::kOk);
  ASSERT_EQ(f.kind, FrameKind::kArp);
  EXPECT_TRUE(f.eth.dst.is_broadcast());
  EXPECT_EQ(f.eth.src, kLinuxMac);
  EXPECT_EQ(f.arp.op, ArpOp::kRequest);
  EXPECT_TRUE(f.arp.is_gratuitous());
  EXPECT_EQ(f.arp.sender_ip, kLinuxIp);
  EXPECT_EQ(f.arp.sender_mac, kLinuxMac);
  EXPECT_TRUE(f.arp.target_mac.is_zero());
}

TEST(Arp, GenericBuilderRoundTrips) {
  const ArpPacket reply{ArpOp::kReply, kPeerMac, kPeerIp, kLinuxMac, kLinuxIp};
  std::vector<uint8_t> out(100);
  const size_t n = build_arp(out.data(), out.size(), kPeerMac, kLinuxMac, reply);
  Frame f;
  ASSERT_EQ(parse_frame(out.data(), n, &f), ParseResult::kOk);
  EXPECT_EQ(f.arp.op, ArpOp::kReply);
  EXPECT_EQ(f.arp.sender_mac, kPeerMac);
  EXPECT_EQ(f.arp.sender_ip, kPeerIp);
  EXPECT_EQ(f.arp.target_mac, kLinuxMac);
  EXPECT_EQ(f.arp.target_ip, kLinuxIp);
  EXPECT_EQ(f.eth.dst, kLinuxMac);
}

TEST(Arp, TooSmallABufferYieldsZero) {
  for (size_t cap = 0; cap < kArpFrameLength; ++cap) {
    std::vector<uint8_t> exact(cap);
    EXPECT_EQ(build_arp_request(exact.data(), cap, kLinuxMac, kLinuxIp, kPeerIp), 0u) << cap;
  }
  EXPECT_EQ(build_gratuitous_arp(nullptr, 100, kLinuxMac, kLinuxIp), 0u);
}

TEST(Arp, RejectsOtherHardwareProtocolsAndOpcodes) {
  const std::vector<uint8_t> good = from_hex(testing::kLinuxArpRequest);
  struct Edit {
    size_t at;
    uint8_t value;
  };
  for (const Edit e : {Edit{15, 6},     // hardware type 6 (IEEE 802)
                       Edit{16, 0x86},  // protocol 0x8600
                       Edit{18, 8},     // hardware length 8
                       Edit{19, 16},    // protocol length 16 (IPv6)
                       Edit{21, 3},     // RARP request
                       Edit{21, 0}}) {
    std::vector<uint8_t> f = good;
    f[e.at] = e.value;
    Frame frame;
    EXPECT_EQ(parse_frame(f.data(), f.size(), &frame), ParseResult::kBadArp) << e.at;
    EXPECT_EQ(frame.kind, FrameKind::kEthernet);
  }
  Frame frame;
  EXPECT_EQ(parse_frame(good.data(), good.size() - 1, &frame), ParseResult::kTooShort);
}

}  // namespace
}  // namespace vtas::wire
