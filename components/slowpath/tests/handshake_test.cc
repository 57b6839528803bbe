#include "components/slowpath/handshake.h"

#include <gtest/gtest.h>

#include "components/slowpath/tests/conn_test_support.h"

namespace vtas::conn {
namespace {

using testing::kLocalIp;
using testing::kLocalMac;
using testing::kPeerIp;
using testing::kPeerMac;
using testing::parse_sent;
using testing::peer_frame;
using testing::PeerSegment;

Segment parsed(const PeerSegment& p) {
  Segment s;
  EXPECT_EQ(parse_segment(peer_frame(p), &s), SegmentCheck::kOk);
  return s;
}

LocalOptions local() {
  LocalOptions o;
  o.mss = 1460;
  o.min_send_mss = 64;
  o.rcv_wscale = 3;
  o.syn_window = 65535;
  return o;
}

TEST(ParseSegment, TakesTheTupleFromOurSide) {
  PeerSegment p;
  Segment s = parsed(p);
  EXPECT_EQ(s.tuple.local_ip, kLocalIp);
  EXPECT_EQ(s.tuple.remote_ip, kPeerIp);
  EXPECT_EQ(s.tuple.local_port, 80);
  EXPECT_EQ(s.tuple.remote_port, 40000);
  EXPECT_EQ(s.src_mac, kPeerMac);
  EXPECT_EQ(s.dst_mac, kLocalMac);
  EXPECT_TRUE(s.is_connection_request());
  EXPECT_EQ(s.sequence_length(), 1u);
}

TEST(ParseSegment, RefusesGarbageAndAddressesNeverAnswered) {
  Segment s;
  EXPECT_EQ(parse_segment("", &s), SegmentCheck::kMalformed);
  EXPECT_EQ(parse_segment(std::string(13, '\0'), &s), SegmentCheck::kMalformed);
  std::string frame = peer_frame(PeerSegment{});
  frame[frame.size() - 1] ^= 0x55;  // checksum no longer matches
  wire::ParseResult detail;
  EXPECT_EQ(parse_segment(frame, &s, &detail), SegmentCheck::kMalformed);
  EXPECT_EQ(detail, wire::ParseResult::kBadTcpChecksum);
  PeerSegment multicast_src;
  multicast_src.src_ip = 0xe0000001;
  EXPECT_EQ(parse_segment(peer_frame(multicast_src), &s), SegmentCheck::kBadAddress);
  PeerSegment broadcast_mac;
  broadcast_mac.src_mac = wire::MacAddr::broadcast();
  EXPECT_EQ(parse_segment(peer_frame(broadcast_mac), &s), SegmentCheck::kBadAddress);
  PeerSegment port0;
  port0.src_port = 0;
  EXPECT_EQ(parse_segment(peer_frame(port0), &s), SegmentCheck::kBadAddress);
}

TEST(NegotiatePassive, LinuxLikeSynGetsEverythingButSack) {
  Negotiated n = negotiate_passive(parsed(PeerSegment{}), local());
  EXPECT_EQ(n.send_mss, 1460);
  EXPECT_EQ(n.payload_mss, 1448);  // timestamps take 12 bytes of every segment
  EXPECT_TRUE(n.window_scale);
  EXPECT_EQ(n.snd_wscale, 7);
  EXPECT_EQ(n.rcv_wscale, 3);
  EXPECT_TRUE(n.timestamps);
  EXPECT_EQ(n.ts_recent, 777u);
  EXPECT_FALSE(n.ecn);
  EXPECT_EQ(n.remote_window, 64240u);
}

TEST(NegotiatePassive, PeerWithoutOptions) {
  PeerSegment p;
  p.mss = false;
  p.wscale = false;
  p.timestamps = false;
  p.sack_permitted = false;
  Negotiated n = negotiate_passive(parsed(p), local());
  EXPECT_EQ(n.send_mss, kDefaultPeerMss);
  EXPECT_EQ(n.payload_mss, kDefaultPeerMss);
  EXPECT_FALSE(n.window_scale);
  EXPECT_EQ(n.snd_wscale, 0);
  EXPECT_EQ(n.rcv_wscale, 0);  // we must not scale if the peer cannot
  EXPECT_FALSE(n.timestamps);
}

TEST(NegotiatePassive, OddMssValuesAreClamped) {
  PeerSegment p;
  p.mss_value = 1;
  EXPECT_EQ(negotiate_passive(parsed(p), local()).send_mss, 64);
  p.mss_value = 9000;
  EXPECT_EQ(negotiate_passive(parsed(p), local()).send_mss, 1460);
  p.mss_value = 1000;
  p.timestamps = false;
  EXPECT_EQ(negotiate_passive(parsed(p), local()).payload_mss, 1000);
  p.mss_value = 0;
  EXPECT_EQ(negotiate_passive(parsed(p), local()).send_mss, 64);
}

TEST(NegotiatePassive, EcnNeedsBothEceAndCwr) {
  PeerSegment p;
  p.flags = wire::kTcpSyn | wire::kTcpEce | wire::kTcpCwr;
  EXPECT_TRUE(negotiate_passive(parsed(p), local()).ecn);
  p.flags = wire::kTcpSyn | wire::kTcpEce;
  EXPECT_FALSE(negotiate_passive(parsed(p), local()).ecn);
}

TEST(NegotiateActive, EcnOnlyForEceWithoutCwr) {
  PeerSegment p;
  p.flags = wire::kTcpSyn | wire::kTcpAck | wire::kTcpEce;
  EXPECT_TRUE(negotiate_active(parsed(p), local()).ecn);
  p.flags = wire::kTcpSyn | wire::kTcpAck | wire::kTcpEce | wire::kTcpCwr;
  EXPECT_FALSE(negotiate_active(parsed(p), local()).ecn);
  p.flags = wire::kTcpSyn | wire::kTcpAck;
  EXPECT_FALSE(negotiate_active(parsed(p), local()).ecn);
}

FramePath path() {
  FramePath p;
  p.local_mac = kLocalMac;
  p.remote_mac = kPeerMac;
  p.tuple = FourTuple{kLocalIp, kPeerIp, 5555, 80};
  return p;
}

TEST(BuildSyn, OffersMssTimestampsWindowScaleAndEcnButNotSack) {
  wire::Frame f = parse_sent(build_syn(path(), 123456, local()));
  EXPECT_EQ(f.eth.src, kLocalMac);
  EXPECT_EQ(f.eth.dst, kPeerMac);
  EXPECT_EQ(f.ip.src.value, kLocalIp);
  EXPECT_EQ(f.ip.dst.value, kPeerIp);
  EXPECT_EQ(f.ip.ecn, wire::Ecn::kNotEct);
  EXPECT_TRUE(f.ip.dont_fragment);
  EXPECT_EQ(f.tcp.src_port, 5555);
  EXPECT_EQ(f.tcp.dst_port, 80);
  EXPECT_EQ(f.tcp.seq, 123456u);
  EXPECT_EQ(f.tcp.ack, 0u);
  EXPECT_EQ(f.tcp.flags, wire::kTcpSyn | wire::kTcpEce | wire::kTcpCwr);
  EXPECT_EQ(f.tcp.window, 65535);
  EXPECT_TRUE(f.tcp.options.has_mss);
  EXPECT_EQ(f.tcp.options.mss, 1460);
  EXPECT_TRUE(f.tcp.options.has_wscale);
  EXPECT_EQ(f.tcp.options.wscale, 3);
  EXPECT_TRUE(f.tcp.options.has_timestamps);
  EXPECT_EQ(f.tcp.options.tsval, 0u);  // the fast path stamps it
  EXPECT_EQ(f.tcp.options.tsecr, 0u);
  EXPECT_TRUE(f.tcp.options.sack_permitted);
  EXPECT_EQ(f.tcp.payload_length, 0);
}

TEST(BuildSynAck, EchoesWhatTheSynOffered) {
  PeerSegment p;
  p.flags = wire::kTcpSyn | wire::kTcpEce | wire::kTcpCwr;
  Segment syn = parsed(p);
  Negotiated n = negotiate_passive(syn, local());
  wire::Frame f = parse_sent(build_syn_ack(reply_path(syn), 999, syn.seq, n, local()));
  EXPECT_EQ(f.eth.src, kLocalMac);
  EXPECT_EQ(f.eth.dst, kPeerMac);
  EXPECT_EQ(f.tcp.flags, wire::kTcpSyn | wire::kTcpAck | wire::kTcpEce);
  EXPECT_EQ(f.tcp.seq, 999u);
  EXPECT_EQ(f.tcp.ack, 1001u);
  EXPECT_EQ(f.tcp.window, 65535);  // never scaled on a SYN-ACK
  EXPECT_EQ(f.tcp.options.mss, 1460);
  EXPECT_TRUE(f.tcp.options.has_wscale);
  EXPECT_EQ(f.tcp.options.wscale, 3);
  EXPECT_TRUE(f.tcp.options.has_timestamps);
  EXPECT_EQ(f.tcp.options.tsecr, 777u);
  EXPECT_TRUE(f.tcp.options.sack_permitted);
}

TEST(BuildSynAck, NoOptionsThePeerDidNotOffer) {
  PeerSegment p;
  p.wscale = false;
  p.timestamps = false;
  Segment syn = parsed(p);
  Negotiated n = negotiate_passive(syn, local());
  wire::Frame f = parse_sent(build_syn_ack(reply_path(syn), 5, syn.seq, n, local()));
  EXPECT_EQ(f.tcp.flags, wire::kTcpSyn | wire::kTcpAck);
  EXPECT_TRUE(f.tcp.options.has_mss);
  EXPECT_FALSE(f.tcp.options.has_wscale);
  EXPECT_FALSE(f.tcp.options.has_timestamps);
}

TEST(BuildSynAck, OffersSackOnlyWhenTheSynDid) {
  PeerSegment p;
  p.sack_permitted = false;
  Segment syn = parsed(p);
  Negotiated n = negotiate_passive(syn, local());
  EXPECT_FALSE(n.sack);
  wire::Frame f = parse_sent(build_syn_ack(reply_path(syn), 5, syn.seq, n, local()));
  EXPECT_FALSE(f.tcp.options.sack_permitted);
}

TEST(BuildSynAck, KeepsTheVlanTagOfTheSyn) {
  PeerSegment p;
  std::string frame = peer_frame(p);
  // Re-build the SYN with an 802.1Q tag.
  wire::TcpSegmentSpec s;
  s.src_mac = kPeerMac;
  s.dst_mac = kLocalMac;
  s.has_vlan = true;
  s.vlan_tci = 42;
  s.src_ip = wire::Ipv4Addr{kPeerIp};
  s.dst_ip = wire::Ipv4Addr{kLocalIp};
  s.src_port = 40000;
  s.dst_port = 80;
  s.seq = 1;
  s.flags = wire::kTcpSyn;
  uint8_t buf[256];
  size_t len = wire::build_tcp_segment(buf, sizeof buf, s);
  Segment syn;
  ASSERT_EQ(parse_segment(std::string(reinterpret_cast<char*>(buf), len), &syn), SegmentCheck::kOk);
  wire::Frame f = parse_sent(
      build_syn_ack(reply_path(syn), 5, syn.seq, negotiate_passive(syn, local()), local()));
  EXPECT_TRUE(f.eth.has_vlan);
  EXPECT_EQ(f.eth.vlan_tci, 42);
}

TEST(BuildResetFor, FollowsRfc9293ForSegmentsWithAndWithoutAck) {
  PeerSegment syn;  // no ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  syn.seq = 5000;
  wire::Frame f = parse_sent(build_reset_for(parsed(syn)));
  EXPECT_EQ(f.tcp.flags, wire::kTcpRst | wire::kTcpAck);
  EXPECT_EQ(f.tcp.seq, 0u);
  EXPECT_EQ(f.tcp.ack, 5001u);
  EXPECT_EQ(f.tcp.window, 0);
  EXPECT_EQ(f.tcp.header_length, 20);  // no options on a RST
  EXPECT_EQ(f.ip.src.value, kLocalIp);
  EXPECT_EQ(f.tcp.src_port, 80);
  EXPECT_EQ(f.tcp.dst_port, 40000);

  PeerSegment data;  // ACK: <SEQ=SEG.ACK><CTL=RST>
  data.flags = wire::kTcpAck | wire::kTcpPsh;
  data.seq = 100;
  data.ack = 123456;
  data.payload = "hello";
  f = parse_sent(build_reset_for(parsed(data)));
  EXPECT_EQ(f.tcp.flags, wire::kTcpRst);
  EXPECT_EQ(f.tcp.seq, 123456u);
  EXPECT_EQ(f.tcp.ack, 0u);

  PeerSegment fin;  // FIN without ACK counts in SEG.LEN
  fin.flags = wire::kTcpFin;
  fin.seq = 10;
  fin.payload = "abc";
  f = parse_sent(build_reset_for(parsed(fin)));
  EXPECT_EQ(f.tcp.ack, 14u);
}

TEST(BuildAck, CarriesTimestampsOnlyWhenAsked) {
  wire::Frame f = parse_sent(build_ack(path(), 10, 20, 300, true, 4242));
  EXPECT_EQ(f.tcp.flags, wire::kTcpAck);
  EXPECT_EQ(f.tcp.seq, 10u);
  EXPECT_EQ(f.tcp.ack, 20u);
  EXPECT_EQ(f.tcp.window, 300);
  EXPECT_TRUE(f.tcp.options.has_timestamps);
  EXPECT_EQ(f.tcp.options.tsecr, 4242u);
  f = parse_sent(build_ack(path(), 10, 20, 300, false, 0));
  EXPECT_FALSE(f.tcp.options.has_timestamps);
}

}  // namespace
}  // namespace vtas::conn
