#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "components/wire/frame.h"
#include "components/wire/tcp_segment.h"
#include "components/wire/tests/test_frames.h"

namespace vtas::wire {
namespace {

using testing::from_hex;

// The spec that reproduces a parsed frame (the inverse of parse_frame for what vtas sends).
TcpSegmentSpec spec_from(const Frame& f, const std::vector<uint8_t>& bytes) {
  TcpSegmentSpec s;
  s.src_mac = f.eth.src;
  s.dst_mac = f.eth.dst;
  s.src_ip = f.ip.src;
  s.dst_ip = f.ip.dst;
  s.src_port = f.tcp.src_port;
  s.dst_port = f.tcp.dst_port;
  s.seq = f.tcp.seq;
  s.ack = f.tcp.ack;
  s.flags = f.tcp.flags;
  s.window = f.tcp.window;
  s.ecn = f.ip.ecn;
  s.ttl = f.ip.ttl;
  s.ip_id = f.ip.id;
  s.dont_fragment = f.ip.dont_fragment;
  s.options = f.tcp.options;
  s.payload = bytes.data() + f.tcp.payload_offset;
  s.payload_length = f.tcp.payload_length;
  return s;
}

TEST(BuildTcpSegment, ReproducesLinuxFramesByteForByte) {
  for (auto hex : {testing::kLinuxSyn, testing::kLinuxSynAck, testing::kLinuxData}) {
    const std::vector<uint8_t> linux_frame = from_hex(hex);
    Frame f;
    ASSERT_EQ(parse_frame(linux_frame.data(), linux_frame.size(), &f), ParseResult::kOk);
    std::vector<uint8_t> out(256, 0xcc);
    const size_t n = build_tcp_segment(out.data(), out.size(), spec_from(f, linux_frame));
    out.resize(n);
    EXPECT_EQ(out, linux_frame) << hex;
  }
}

TEST(BuildTcpSegment, RoundTripsEveryOptionCombinationWithVerifiedChecksums) {
  std::mt19937 rng(42);
  std::vector<uint8_t> payload(1500);
  for (auto& b : payload) b = static_cast<uint8_t>(rng());
  std::vector<uint8_t> buf(2048);
  int built = 0;
  for (int mask = 0; mask < 32; ++mask) {
    for (uint8_t sacks = 0; sacks <= 4; ++sacks) {
      for (size_t payload_length : {size_t{0}, size_t{1}, size_t{7}, size_t{1448}}) {
        TcpSegmentSpec s;
        s.src_mac = MacAddr{{0x02, 0, 0, 0, 0, 0x0a}};
        s.dst_mac = MacAddr{{0x02, 0, 0, 0, 0, 0x0b}};
        s.has_vlan = mask & 16;
        s.vlan_tci = 0x0123;
        s.src_ip = Ipv4Addr{static_cast<uint32_t>(rng())};
        s.dst_ip = Ipv4Addr{static_cast<uint32_t>(rng())};
        s.src_port = static_cast<uint16_t>(rng());
        s.dst_port = static_cast<uint16_t>(rng());
        s.seq = static_cast<uint32_t>(rng());
        s.ack = static_cast<uint32_t>(rng());
        s.flags = static_cast<uint8_t>(rng());
        s.window = static_cast<uint16_t>(rng());
        s.ecn = static_cast<Ecn>(rng() % 4);
        s.ttl = static_cast<uint8_t>(1 + rng() % 255);
        s.ip_id = static_cast<uint16_t>(rng());
        s.options.has_mss = mask & 1;
        s.options.mss = static_cast<uint16_t>(rng());
        s.options.has_wscale = mask & 2;
        s.options.wscale = static_cast<uint8_t>(rng() % 15);
        s.options.sack_permitted = mask & 4;
        s.options.has_timestamps = mask & 8;
        s.options.tsval = static_cast<uint32_t>(rng());
        s.options.tsecr = static_cast<uint32_t>(rng());
        s.options.sack_count = sacks;
        for (size_t i = 0; i < sacks; ++i) {
          s.options.sack[i] = {static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng())};
        }
        s.payload = payload.data();
        s.payload_length = payload_length;

        const size_t n = build_tcp_segment(buf.data(), buf.size(), s);
        ASSERT_EQ(n, tcp_header_length(s) + payload_length);
        ++built;
        Frame f;
        ASSERT_EQ(parse_frame(buf.data(), n, &f, RxChecksum::kVerify), ParseResult::kOk)
            << "mask " << mask << " sacks " << int{sacks} << " payload " << payload_length;
        ASSERT_EQ(f.kind, FrameKind::kTcp);
        EXPECT_EQ(f.unpadded_length(), n);
        EXPECT_EQ(f.eth.src, s.src_mac);
        EXPECT_EQ(f.eth.dst, s.dst_mac);
        EXPECT_EQ(f.eth.has_vlan, s.has_vlan);
        if (s.has_vlan) {
          EXPECT_EQ(f.eth.vlan_tci, s.vlan_tci);
        }
        EXPECT_EQ(f.l3_offset, tcp_l2_length(s));
        EXPECT_EQ(f.ip.src, s.src_ip);
        EXPECT_EQ(f.ip.dst, s.dst_ip);
        EXPECT_EQ(f.ip.ecn, s.ecn);
        EXPECT_EQ(f.ip.ttl, s.ttl);
        EXPECT_EQ(f.ip.id, s.ip_id);
        EXPECT_TRUE(f.ip.dont_fragment);
        EXPECT_EQ(f.tcp.src_port, s.src_port);
        EXPECT_EQ(f.tcp.dst_port, s.dst_port);
        EXPECT_EQ(f.tcp.seq, s.seq);
        EXPECT_EQ(f.tcp.ack, s.ack);
        EXPECT_EQ(f.tcp.flags, s.flags);
        EXPECT_EQ(f.tcp.window, s.window);
        EXPECT_EQ(f.tcp.header_length % 4, 0);
        EXPECT_EQ(f.tcp.payload_offset, tcp_header_length(s));
        ASSERT_EQ(f.tcp.payload_length, payload_length);
        EXPECT_TRUE(std::equal(payload.begin(), payload.begin() + payload_length,
                               buf.begin() + f.tcp.payload_offset));
        const TcpOptions& o = f.tcp.options;
        EXPECT_EQ(o.has_mss, s.options.has_mss);
        if (o.has_mss) {
          EXPECT_EQ(o.mss, s.options.mss);
        }
        EXPECT_EQ(o.has_wscale, s.options.has_wscale);
        if (o.has_wscale) {
          EXPECT_EQ(o.wscale, s.options.wscale);
        }
        EXPECT_EQ(o.sack_permitted, s.options.sack_permitted);
        EXPECT_EQ(o.has_timestamps, s.options.has_timestamps);
        if (o.has_timestamps) {
          EXPECT_EQ(o.tsval, s.options.tsval);
          EXPECT_EQ(o.tsecr, s.options.tsecr);
        }
        EXPECT_EQ(o.sack_count, detail::sack_blocks_that_fit(s.options));
        for (size_t i = 0; i < o.sack_count; ++i) EXPECT_EQ(o.sack[i], s.options.sack[i]);
      }
    }
  }
  EXPECT_EQ(built, 32 * 5 * 4);
}

TEST(BuildTcpSegment, OffloadModeLeavesWhatTheNicNeeds) {
  const std::vector<uint8_t> linux_frame = from_hex(testing::kLinuxData);
  Frame f;
  ASSERT_EQ(parse_frame(linux_frame.data(), linux_frame.size(), &f), ParseResult::kOk);
  TcpSegmentSpec s = spec_from(f, linux_frame);
  s.checksum = TxChecksum::kOffload;
  std::vector<uint8_t> out(256);
  const size_t n = build_tcp_segment(out.data(), out.size(), s);
  ASSERT_EQ(n, linux_frame.size());
  uint8_t* ip = out.data() + 14;
  uint8_t* tcp = ip + 20;
  EXPECT_EQ(load_be16(ip + 10), 0);  // the NIC fills in the IPv4 checksum
  EXPECT_EQ(load_be16(tcp + 16), tcp_pseudo_header_sum(s.src_ip, s.dst_ip, 49));
  // What the NIC does: checksum the IPv4 header, and the segment from the pseudo sum on.
  store_be16(ip + 10, ipv4_header_checksum(ip, 20));
  store_be16(tcp + 16, internet_checksum(tcp, n - 34));
  out.resize(n);
  EXPECT_EQ(out, linux_frame);
}

TEST(BuildTcpSegment, TooSmallABufferYieldsZeroAtEveryCapacity) {
  const std::vector<uint8_t> linux_frame = from_hex(testing::kLinuxData);
  Frame f;
  ASSERT_EQ(parse_frame(linux_frame.data(), linux_frame.size(), &f), ParseResult::kOk);
  const TcpSegmentSpec s = spec_from(f, linux_frame);
  for (size_t cap = 0; cap < linux_frame.size(); ++cap) {
    std::vector<uint8_t> exact(cap, 0x5a);  // heap-exact: ASan flags any write past `cap`
    EXPECT_EQ(build_tcp_segment(exact.data(), cap, s), 0u) << cap;
    EXPECT_EQ(std::count(exact.begin(), exact.end(), 0x5a), static_cast<long>(cap));
  }
  std::vector<uint8_t> exact(linux_frame.size());
  EXPECT_EQ(build_tcp_segment(exact.data(), exact.size(), s), linux_frame.size());
  EXPECT_EQ(build_tcp_segment(nullptr, 1000, s), 0u);
}

TEST(BuildTcpSegment, RefusesImpossibleSpecs) {
  std::vector<uint8_t> buf(70000);
  std::vector<uint8_t> payload(65535);
  TcpSegmentSpec s;
  s.payload = payload.data();
  s.payload_length = 65535 - 40;  // exactly the IPv4 maximum
  EXPECT_EQ(build_tcp_segment(buf.data(), buf.size(), s), 14u + 65535u);
  s.payload_length = 65535 - 39;
  EXPECT_EQ(build_tcp_segment(buf.data(), buf.size(), s), 0u);
  s.options.has_timestamps = true;
  s.payload_length = 65535 - 40;  // fits without options, not with them
  EXPECT_EQ(build_tcp_segment(buf.data(), buf.size(), s), 0u);
  s.payload = nullptr;
  s.payload_length = 10;
  EXPECT_EQ(build_tcp_segment(buf.data(), buf.size(), s), 0u);
  s.payload_length = 0;
  EXPECT_EQ(build_tcp_segment(buf.data(), buf.size(), s), 66u);
}

TEST(BuildTcpSegment, PayloadAlreadyInPlaceIsNotCopied) {
  TcpSegmentSpec s;
  s.options.has_timestamps = true;
  std::vector<uint8_t> buf(200);
  const size_t at = tcp_header_length(s);
  ASSERT_EQ(at, 66u);
  for (size_t i = 0; i < 50; ++i) buf[at + i] = static_cast<uint8_t>(i * 3);
  s.payload = buf.data() + at;
  s.payload_length = 50;
  ASSERT_EQ(build_tcp_segment(buf.data(), buf.size(), s), 116u);
  Frame f;
  ASSERT_EQ(parse_frame(buf.data(), 116, &f), ParseResult::kOk);
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ(buf[at + i], static_cast<uint8_t>(i * 3));
}

TEST(RewriteTcpTimestamps, KeepsASoftwareChecksumValid) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
  ASSERT_TRUE(rewrite_tcp_timestamps(bytes.data(), bytes.size(), 0xfeedf00d, 0x12345678,
                                     TxChecksum::kSoftware));
  Frame f;
  ASSERT_EQ(parse_frame(bytes.data(), bytes.size(), &f, RxChecksum::kVerify), ParseResult::kOk);
  EXPECT_EQ(f.tcp.options.tsval, 0xfeedf00du);
  EXPECT_EQ(f.tcp.options.tsecr, 0x12345678u);
  EXPECT_EQ(f.tcp.payload_length, 17);
}

TEST(RewriteTcpTimestamps, WorksAtAnOddOffset) {
  // NOP TS EOL instead of NOP NOP TS: TSval starts at TCP byte 23.
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
  std::rotate(bytes.begin() + 55, bytes.begin() + 56, bytes.begin() + 66);
  bytes[65] = kTcpOptEol;
  uint8_t* tcp = bytes.data() + 34;
  store_be16(tcp + 16, 0);
  store_be16(tcp + 16, tcp_checksum(Ipv4Addr::from_octets(10, 0, 0, 1),
                                    Ipv4Addr::from_octets(10, 0, 0, 2), tcp, bytes.size() - 34));
  Frame f;
  ASSERT_EQ(parse_frame(bytes.data(), bytes.size(), &f), ParseResult::kOk);
  ASSERT_EQ(f.tcp.options.timestamps_offset, 1);
  std::mt19937 rng(23);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t tsval = static_cast<uint32_t>(rng());
    const uint32_t tsecr = static_cast<uint32_t>(rng());
    ASSERT_TRUE(
        rewrite_tcp_timestamps(bytes.data(), bytes.size(), tsval, tsecr, TxChecksum::kSoftware));
    ASSERT_EQ(parse_frame(bytes.data(), bytes.size(), &f), ParseResult::kOk) << i;
    ASSERT_EQ(f.tcp.options.tsval, tsval);
    ASSERT_EQ(f.tcp.options.tsecr, tsecr);
  }
}

TEST(RewriteTcpTimestamps, OffloadLeavesThePseudoHeaderSumAlone) {
  const std::vector<uint8_t> linux_frame = from_hex(testing::kLinuxData);
  Frame f;
  ASSERT_EQ(parse_frame(linux_frame.data(), linux_frame.size(), &f), ParseResult::kOk);
  TcpSegmentSpec s = spec_from(f, linux_frame);
  s.checksum = TxChecksum::kOffload;
  std::vector<uint8_t> out(256);
  const size_t n = build_tcp_segment(out.data(), out.size(), s);
  const uint16_t before = load_be16(out.data() + 50);
  ASSERT_TRUE(rewrite_tcp_timestamps(out.data(), n, 7, 8, TxChecksum::kOffload));
  EXPECT_EQ(load_be16(out.data() + 50), before);
  ASSERT_EQ(parse_frame(out.data(), n, &f, RxChecksum::kTrustOffload), ParseResult::kOk);
  EXPECT_EQ(f.tcp.options.tsval, 7u);
  EXPECT_EQ(f.tcp.options.tsecr, 8u);
}

TEST(RewriteTcpTimestamps, RefusesFramesWithoutTimestamps) {
  std::vector<uint8_t> arp = from_hex(testing::kLinuxArpRequest);
  const std::vector<uint8_t> arp_before = arp;
  EXPECT_FALSE(rewrite_tcp_timestamps(arp.data(), arp.size(), 1, 2, TxChecksum::kSoftware));
  EXPECT_EQ(arp, arp_before);

  TcpSegmentSpec s;
  s.options.has_mss = true;
  std::vector<uint8_t> buf(100);
  const size_t n = build_tcp_segment(buf.data(), buf.size(), s);
  const std::vector<uint8_t> before = buf;
  EXPECT_FALSE(rewrite_tcp_timestamps(buf.data(), n, 1, 2, TxChecksum::kSoftware));
  EXPECT_EQ(buf, before);
  EXPECT_FALSE(rewrite_tcp_timestamps(buf.data(), 10, 1, 2, TxChecksum::kSoftware));
}

}  // namespace
}  // namespace vtas::wire
