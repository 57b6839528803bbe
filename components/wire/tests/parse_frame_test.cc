#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
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

// Recomputes the IPv4 header checksum of the (untagged) frame after a test edited it.
void fix_ip_checksum(std::vector<uint8_t>& f) {
  uint8_t* ip = f.data() + 14;
  const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
  store_be16(ip + 10, 0);
  store_be16(ip + 10, ipv4_header_checksum(ip, ihl));
}

// Recomputes the TCP checksum (after the IPv4 header, over the IPv4 payload).
void fix_tcp_checksum(std::vector<uint8_t>& f) {
  uint8_t* ip = f.data() + 14;
  const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
  const size_t tcp_len = load_be16(ip + 2) - ihl;
  uint8_t* tcp = ip + ihl;
  store_be16(tcp + 16, 0);
  store_be16(tcp + 16, tcp_checksum(Ipv4Addr{load_be32(ip + 12)}, Ipv4Addr{load_be32(ip + 16)}, tcp,
                                    tcp_len));
}

ParseResult parse(const std::vector<uint8_t>& f, Frame* out,
                  RxChecksum check = RxChecksum::kVerify) {
  return parse_frame(f.data(), f.size(), out, check);
}

TEST(ParseFrame, LinuxSyn) {
  Frame f;
  ASSERT_EQ(parse(from_hex(testing::kLinuxSyn), &f), ParseResult::kOk);
  ASSERT_EQ(f.kind, FrameKind::kTcp);
  EXPECT_EQ(f.eth.dst, kPeerMac);
  EXPECT_EQ(f.eth.src, kLinuxMac);
  EXPECT_FALSE(f.eth.has_vlan);
  EXPECT_EQ(f.eth.ethertype, kEtherTypeIpv4);
  EXPECT_EQ(f.l3_offset, 14);
  EXPECT_EQ(f.l3_length, 60);
  EXPECT_EQ(f.ip.src, kLinuxIp);
  EXPECT_EQ(f.ip.dst, kPeerIp);
  EXPECT_EQ(f.ip.header_length, 20);
  EXPECT_EQ(f.ip.total_length, 60);
  EXPECT_EQ(f.ip.ttl, 64);
  EXPECT_EQ(f.ip.protocol, kIpProtoTcp);
  EXPECT_EQ(f.ip.dscp, 0);
  EXPECT_EQ(f.ip.ecn, Ecn::kNotEct);
  EXPECT_EQ(f.ip.id, 0xd8e1);
  EXPECT_TRUE(f.ip.dont_fragment);
  EXPECT_FALSE(f.ip.is_fragment());
  EXPECT_EQ(f.l4_offset, 34);
  EXPECT_EQ(f.l4_length, 40);
  EXPECT_EQ(f.tcp.src_port, 45180);
  EXPECT_EQ(f.tcp.dst_port, 80);
  EXPECT_EQ(f.tcp.seq, 0xf36b380du);
  EXPECT_EQ(f.tcp.ack, 0u);
  EXPECT_EQ(f.tcp.flags, kTcpSyn);
  EXPECT_EQ(f.tcp.window, 64240);
  EXPECT_EQ(f.tcp.header_length, 40);
  EXPECT_EQ(f.tcp.payload_offset, 74);
  EXPECT_EQ(f.tcp.payload_length, 0);
  const TcpOptions& o = f.tcp.options;
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_TRUE(o.has_timestamps);
  EXPECT_EQ(o.tsval, 0x92e9ec0fu);
  EXPECT_EQ(o.tsecr, 0u);
  EXPECT_TRUE(o.has_wscale);
  EXPECT_EQ(o.wscale, 10);
  EXPECT_EQ(f.unpadded_length(), 74u);
}

TEST(ParseFrame, LinuxSynAck) {
  Frame f;
  ASSERT_EQ(parse(from_hex(testing::kLinuxSynAck), &f), ParseResult::kOk);
  ASSERT_EQ(f.kind, FrameKind::kTcp);
  EXPECT_EQ(f.ip.src, kLinuxIp);
  EXPECT_EQ(f.ip.id, 0);
  EXPECT_EQ(f.tcp.src_port, 5000);
  EXPECT_EQ(f.tcp.dst_port, 40000);
  EXPECT_EQ(f.tcp.seq, 0x52c0df3cu);
  EXPECT_EQ(f.tcp.ack, 0x11111112u);
  EXPECT_EQ(f.tcp.flags, kTcpSyn | kTcpAck);
  EXPECT_TRUE(f.tcp.has(kTcpSyn | kTcpAck));
  EXPECT_FALSE(f.tcp.has(kTcpFin));
  EXPECT_EQ(f.tcp.window, 65160);
  EXPECT_EQ(f.tcp.options.mss, 1460);
  EXPECT_EQ(f.tcp.options.tsval, 0x170c485du);
  EXPECT_EQ(f.tcp.options.tsecr, 1000u);  // the peer's TSval
  EXPECT_EQ(f.tcp.options.wscale, 10);
}

TEST(ParseFrame, LinuxDataSegment) {
  const std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
  Frame f;
  ASSERT_EQ(parse(bytes, &f), ParseResult::kOk);
  ASSERT_EQ(f.kind, FrameKind::kTcp);
  EXPECT_EQ(f.tcp.flags, kTcpPsh | kTcpAck);
  EXPECT_EQ(f.tcp.seq, 0x52c0df3du);
  EXPECT_EQ(f.tcp.window, 64);
  EXPECT_EQ(f.tcp.header_length, 32);
  EXPECT_EQ(f.tcp.payload_offset, 66);
  ASSERT_EQ(f.tcp.payload_length, 17);
  EXPECT_EQ(std::string(bytes.begin() + f.tcp.payload_offset, bytes.end()), "hello from linux\n");
  EXPECT_TRUE(f.tcp.options.has_timestamps);
  EXPECT_EQ(f.tcp.options.tsval, 0x170c485du);
  EXPECT_EQ(f.tcp.options.tsecr, 1001u);
  EXPECT_FALSE(f.tcp.options.has_mss);
}

TEST(ParseFrame, LinuxArp) {
  Frame f;
  ASSERT_EQ(parse(from_hex(testing::kLinuxArpRequest), &f), ParseResult::kOk);
  ASSERT_EQ(f.kind, FrameKind::kArp);
  EXPECT_TRUE(f.eth.dst.is_broadcast());
  EXPECT_EQ(f.l3_length, 28);
  EXPECT_EQ(f.arp.op, ArpOp::kRequest);
  EXPECT_EQ(f.arp.sender_ip, kLinuxIp);
  EXPECT_EQ(f.arp.target_ip, kPeerIp);
  ASSERT_EQ(parse(from_hex(testing::kLinuxArpReply), &f), ParseResult::kOk);
  EXPECT_EQ(f.arp.op, ArpOp::kReply);
  EXPECT_EQ(f.arp.sender_mac, kLinuxMac);
  EXPECT_EQ(f.arp.target_mac, kPeerMac);
}

TEST(ParseFrame, EthernetPaddingIsNotPayload) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
  bytes.insert(bytes.end(), 12, 0xa5);  // trailing junk after the IPv4 total length
  Frame f;
  ASSERT_EQ(parse(bytes, &f), ParseResult::kOk);  // checksum still over the real segment
  EXPECT_EQ(f.tcp.payload_length, 17);
  EXPECT_EQ(f.unpadded_length(), 83u);

  std::vector<uint8_t> arp = from_hex(testing::kLinuxArpReply);
  arp.resize(60, 0);
  ASSERT_EQ(parse(arp, &f), ParseResult::kOk);
  EXPECT_EQ(f.unpadded_length(), 42u);
}

TEST(ParseFrame, SingleVlanTag) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxSyn);
  const std::vector<uint8_t> tag = {0x81, 0x00, 0x20, 0x05};  // priority 1, VLAN 5
  bytes.insert(bytes.begin() + 12, tag.begin(), tag.end());
  Frame f;
  ASSERT_EQ(parse(bytes, &f), ParseResult::kOk);
  EXPECT_TRUE(f.eth.has_vlan);
  EXPECT_EQ(f.eth.vlan_tci, 0x2005);
  EXPECT_EQ(f.eth.ethertype, kEtherTypeIpv4);
  EXPECT_EQ(f.l3_offset, 18);
  EXPECT_EQ(f.l4_offset, 38);
  EXPECT_EQ(f.tcp.options.mss, 1460);

  bytes.insert(bytes.begin() + 12, tag.begin(), tag.end());  // a second tag (QinQ)
  EXPECT_EQ(parse(bytes, &f), ParseResult::kUnsupportedEtherType);
  EXPECT_EQ(f.kind, FrameKind::kEthernet);
}

TEST(ParseFrame, OtherEtherTypesAreUnsupported) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxSyn);
  store_be16(bytes.data() + 12, 0x86dd);  // IPv6
  Frame f;
  EXPECT_EQ(parse(bytes, &f), ParseResult::kUnsupportedEtherType);
  EXPECT_EQ(f.kind, FrameKind::kEthernet);
  EXPECT_EQ(f.eth.ethertype, 0x86dd);
  EXPECT_EQ(f.eth.src, kLinuxMac);
}

TEST(ParseFrame, IpOptionsAreSkipped) {
  // TAS sends any IPv4 header with options to the slow path, which drops it. We skip them.
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
  const std::vector<uint8_t> options = {0x94, 0x04, 0x00, 0x00};  // Router Alert
  bytes.insert(bytes.begin() + 34, options.begin(), options.end());
  bytes[14] = 0x46;
  store_be16(bytes.data() + 16, static_cast<uint16_t>(load_be16(bytes.data() + 16) + 4));
  fix_ip_checksum(bytes);
  Frame f;
  ASSERT_EQ(parse(bytes, &f), ParseResult::kOk);  // the TCP checksum is unaffected
  EXPECT_EQ(f.ip.header_length, 24);
  EXPECT_EQ(f.l4_offset, 38);
  EXPECT_EQ(f.tcp.payload_length, 17);
  EXPECT_EQ(f.tcp.payload_offset, 70);
  EXPECT_EQ(f.tcp.options.tsval, 0x170c485du);
}

TEST(ParseFrame, FragmentsAreReportedNotParsedAsTcp) {
  for (uint16_t frag :
       {uint16_t{kIpFlagMoreFragments}, uint16_t{0x0001}, uint16_t{kIpFlagDontFragment | 0x0100}}) {
    std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
    store_be16(bytes.data() + 20, frag);
    fix_ip_checksum(bytes);
    Frame f;
    ASSERT_EQ(parse(bytes, &f), ParseResult::kIpFragment) << frag;
    EXPECT_EQ(f.kind, FrameKind::kIpv4);
    EXPECT_TRUE(f.ip.is_fragment());
    EXPECT_EQ(f.ip.src, kLinuxIp);
    EXPECT_EQ(f.ip.more_fragments, (frag & kIpFlagMoreFragments) != 0);
    EXPECT_EQ(f.ip.fragment_offset, (frag & kIpFragmentOffsetMask) * 8);
    EXPECT_EQ(f.tcp.src_port, 0);  // TCP untouched
  }
}

TEST(ParseFrame, NonTcpProtocolsAreReported) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
  bytes[23] = 17;  // UDP
  fix_ip_checksum(bytes);
  Frame f;
  EXPECT_EQ(parse(bytes, &f), ParseResult::kUnsupportedIpProtocol);
  EXPECT_EQ(f.kind, FrameKind::kIpv4);
  EXPECT_EQ(f.ip.protocol, 17);
}

TEST(ParseFrame, BadIpVersionAndHeaderLength) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxSyn);
  Frame f;
  bytes[14] = 0x65;
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadIpVersion);
  bytes[14] = 0x44;
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadIpHeaderLength);
  bytes[14] = 0x40;
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadIpHeaderLength);
  bytes[14] = 0x4f;  // 60-byte header: fits the 60 bytes there, then no room for TCP
  store_be16(bytes.data() + 16, 60);
  EXPECT_EQ(parse(bytes, &f, RxChecksum::kTrustOffload), ParseResult::kTooShort);
}

TEST(ParseFrame, BadIpTotalLength) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxSyn);
  Frame f;
  store_be16(bytes.data() + 16, 19);  // shorter than the header
  fix_ip_checksum(bytes);
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadIpTotalLength);
  store_be16(bytes.data() + 16, 61);  // one byte more than arrived
  fix_ip_checksum(bytes);
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadIpTotalLength);
  store_be16(bytes.data() + 16, 0xffff);
  fix_ip_checksum(bytes);
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadIpTotalLength);
}

TEST(ParseFrame, ChecksumsAreVerifiedOnlyWhenAsked) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
  Frame f;
  bytes[18] ^= 0x01;  // IP id: covered by the IP checksum only
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadIpChecksum);
  EXPECT_EQ(parse(bytes, &f, RxChecksum::kTrustOffload), ParseResult::kOk);
  bytes[18] ^= 0x01;
  bytes.back() ^= 0x20;  // payload: covered by the TCP checksum only
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadTcpChecksum);
  EXPECT_EQ(f.kind, FrameKind::kIpv4);
  EXPECT_EQ(parse(bytes, &f, RxChecksum::kTrustOffload), ParseResult::kOk);
  bytes.back() ^= 0x20;
  bytes[26] ^= 0x01;  // source address: in both the IP header and the TCP pseudo-header
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadIpChecksum);
  fix_ip_checksum(bytes);
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadTcpChecksum);
}

TEST(ParseFrame, BadTcpHeaderLength) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
  Frame f;
  bytes[46] = 0x40;  // 16 bytes
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadTcpHeaderLength);
  bytes[46] = 0xf0;  // 60 bytes, but the segment has 49
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadTcpHeaderLength);
  bytes = from_hex(testing::kLinuxSyn);
  store_be16(bytes.data() + 16, 20 + 19);  // a TCP segment of 19 bytes
  fix_ip_checksum(bytes);
  EXPECT_EQ(parse(bytes, &f), ParseResult::kTooShort);
}

TEST(ParseFrame, BadOptionsInARealSegment) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
  bytes[54] = 0x1e;  // NOP NOP -> kind 30 with length 1
  fix_tcp_checksum(bytes);
  Frame f;
  EXPECT_EQ(parse(bytes, &f), ParseResult::kBadOptions);
  EXPECT_EQ(f.kind, FrameKind::kIpv4);
}

TEST(ParseFrame, MalformedTimestampsAreFlaggedNotFatal) {
  std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
  bytes[54] = 0x08;  // NOP NOP TS(10) -> TS with length 2, then the well-formed TS(10)
  bytes[55] = 0x02;
  fix_tcp_checksum(bytes);
  Frame f;
  ASSERT_EQ(parse(bytes, &f), ParseResult::kOk);
  EXPECT_TRUE(f.tcp.options.timestamps_malformed);
  EXPECT_TRUE(f.tcp.options.has_timestamps);  // the well-formed one after it
  EXPECT_EQ(f.tcp.options.timestamps_offset, 2);
}

TEST(ParseFrame, EcnAndDscp) {
  for (const auto& [tos, dscp, ecn] :
       {std::tuple{0x03, 0, Ecn::kCe}, std::tuple{0x02, 0, Ecn::kEct0},
        std::tuple{0xb9, 46, Ecn::kEct1}, std::tuple{0xb8, 46, Ecn::kNotEct}}) {
    std::vector<uint8_t> bytes = from_hex(testing::kLinuxData);
    bytes[15] = static_cast<uint8_t>(tos);
    fix_ip_checksum(bytes);
    Frame f;
    ASSERT_EQ(parse(bytes, &f), ParseResult::kOk);
    EXPECT_EQ(f.ip.dscp, dscp);
    EXPECT_EQ(f.ip.ecn, ecn);
    EXPECT_EQ(f.ip.ce(), ecn == Ecn::kCe);
  }
}

TEST(ParseFrame, TooShortAndNull) {
  Frame f;
  const std::vector<uint8_t> bytes = from_hex(testing::kLinuxSyn);
  EXPECT_EQ(parse_frame(bytes.data(), 13, &f), ParseResult::kTooShort);
  EXPECT_EQ(f.kind, FrameKind::kNone);
  EXPECT_EQ(parse_frame(bytes.data(), 14 + 19, &f), ParseResult::kTooShort);
  EXPECT_EQ(f.kind, FrameKind::kEthernet);
  EXPECT_EQ(parse_frame(nullptr, 100, &f), ParseResult::kTooShort);
}

TEST(ParseFrame, ResetsTheOutputFirst) {
  Frame f;
  ASSERT_EQ(parse(from_hex(testing::kLinuxSyn), &f), ParseResult::kOk);
  ASSERT_EQ(parse(from_hex(testing::kLinuxArpRequest), &f), ParseResult::kOk);
  EXPECT_EQ(f.kind, FrameKind::kArp);
  EXPECT_EQ(f.tcp.src_port, 0);
  EXPECT_FALSE(f.tcp.options.has_mss);
}

TEST(ParseResultName, EveryValueHasADistinctName) {
  std::set<std::string> names;
  for (int v = 0; v <= static_cast<int>(ParseResult::kBadOptions); ++v) {
    const std::string name = parse_result_name(static_cast<ParseResult>(v));
    EXPECT_NE(name, "unknown") << v;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(ParseResult::kBadOptions) + 1);
  EXPECT_STREQ(parse_result_name(ParseResult::kOk), "ok");
  EXPECT_STREQ(parse_result_name(static_cast<ParseResult>(200)), "unknown");
}

}  // namespace
}  // namespace vtas::wire
