// The conn actor's passive handshake up to the third ACK: SYN-ACKs without installing
// anything, the SYN-RECEIVED table's bounds, SYN cookies beyond them, retransmission and
// expiry, RFC 9293 3.10.7.2 in LISTEN, and land attacks.
#include <gtest/gtest.h>

#include "components/slowpath/tests/conn_test_support.h"

namespace vtas::conn {
namespace {

using namespace vtas::conn::testing;
using fastpath::AppNotify;

TEST(ConnSynReceived, SynIsAnsweredWithoutInstallingOrNotifying) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 0xfeed, 2);
  h.clear();
  PeerSegment syn;
  h.segment(syn, 7);
  EXPECT_TRUE(h.install_requests().empty());
  EXPECT_TRUE(h.notifies().empty());
  ASSERT_EQ(h.packet_outs().size(), 1u);
  EXPECT_EQ(h.packet_outs()[0].flow_group(), 7u);
  EXPECT_TRUE(h.packet_outs()[0].stamp_timestamp());
  const wire::Frame f = h.last_syn_ack(syn);
  EXPECT_EQ(f.tcp.seq, IsnGenerator(kTestKey).isn(peer_tuple(), h.start_time));
  EXPECT_EQ(f.tcp.ack, 1001u);
  EXPECT_TRUE(f.tcp.options.has_wscale);
  EXPECT_TRUE(f.tcp.options.has_timestamps);
  EXPECT_EQ(h.actor->syn_received().size(), 1u);
  EXPECT_EQ(h.actor->connections().size(), 0u);
}

TEST(ConnSynReceived, ThirdAckInstallsTheFlowWithTheAcceptAndNoFrame) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 0xfeed, 2, /*context=*/3);
  PeerSegment syn;
  h.segment(syn, 7);
  const uint32_t isn = h.last_syn_ack(syn).tcp.seq;
  const PeerSegment ack = h.third_ack(syn);
  h.clear();
  h.segment(ack, 7);
  const auto installs = h.install_requests();
  ASSERT_EQ(installs.size(), 1u);
  const auto& i = installs[0].install_flow();
  EXPECT_EQ(i.rx_next_seq(), 1001u);
  EXPECT_EQ(i.tx_next_seq(), isn + 1);
  EXPECT_EQ(i.snd_wscale(), 7u);
  EXPECT_EQ(i.rcv_wscale(), 3u);
  EXPECT_TRUE(i.timestamps());
  EXPECT_EQ(i.ts_recent(), 778u);  // the third ACK's TSval
  EXPECT_EQ(i.flow_group(), 7u);
  EXPECT_TRUE(i.packet().frame().empty());  // the handshake is done: nothing to send
  EXPECT_EQ(i.notify().type(), AppNotify::TYPE_ACCEPTED);
  EXPECT_EQ(i.notify().context_id(), 3u);
  EXPECT_EQ(i.notify().opaque(), 0xfeedu);
  EXPECT_TRUE(h.packet_outs().empty());
  EXPECT_EQ(h.actor->syn_received().size(), 0u);
  EXPECT_EQ(h.actor->counters().handshakes_completed, 1u);
  h.respond_installed(installs[0], 11);
  EXPECT_EQ(h.actor->connections().count(ConnState::kEstablished), 1u);
}

TEST(ConnSynReceived, DataThatRacesTheInstallIsHandedBackOnceTheFlowIsIn) {
  // A connect-and-send (or connect-and-close) peer: its data follows the third ACK at once and
  // reaches conn before the flow is in the fast path. It goes back to the fast path (to be
  // processed as received) when the install is answered, not dropped for a retransmission.
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 0xfeed, 2);
  PeerSegment syn;
  h.segment(syn, 7);
  h.segment(h.third_ack(syn), 7);
  const auto installs = h.install_requests();
  ASSERT_EQ(installs.size(), 1u);
  PeerSegment data = h.third_ack(syn);
  data.payload = "GET / HTTP/1.0";
  h.clear();
  h.segment(data, 7);
  EXPECT_TRUE(h.packet_outs().empty()) << "held while the install is in flight";
  EXPECT_EQ(h.actor->counters().frames_held, 1u);
  h.respond_installed(installs[0], 11);
  const auto outs = h.packet_outs();
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_TRUE(outs[0].receive());
  EXPECT_EQ(outs[0].flow_group(), 7u);
  EXPECT_NE(outs[0].frame().find("GET / HTTP/1.0"), std::string::npos);
  // One that arrives after the install (it was handed to conn just before) goes back at once.
  h.clear();
  h.segment(data, 7);
  ASSERT_EQ(h.packet_outs().size(), 1u);
  EXPECT_TRUE(h.packet_outs()[0].receive());
  EXPECT_EQ(h.actor->counters().frames_replayed, 2u);
}

TEST(ConnSynReceived, WithoutAnAcceptTheAppHearsOnlyOfCompletedHandshakes) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.clear();
  PeerSegment syn;
  h.segment(syn);
  EXPECT_TRUE(h.notifies().empty());
  h.segment(h.third_ack(syn));
  ASSERT_EQ(h.notifies().size(), 1u);
  EXPECT_EQ(h.notifies()[0].type(), AppNotify::TYPE_LISTEN_NEW_CONN);
  EXPECT_TRUE(h.install_requests().empty());
  // The peer's data before the accept: no RST; kept until the flow is installed, then
  // handed to the fast path (Linux queues it on the accept queue's socket too).
  PeerSegment data = h.third_ack(syn);
  data.payload = "early";
  h.clear();
  h.segment(data);
  EXPECT_TRUE(h.packet_outs().empty());
  EXPECT_EQ(h.actor->counters().frames_held, 1u);
  h.accept(l, 0xabc, 2);
  const auto installs = h.install_requests();
  ASSERT_EQ(installs.size(), 1u);
  EXPECT_EQ(installs[0].install_flow().rx_next_seq(), 1001u);
  EXPECT_EQ(installs[0].install_flow().notify().opaque(), 0xabcu);
  h.clear();
  h.respond_installed(installs[0], 11);
  const auto outs = h.packet_outs();
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_TRUE(outs[0].receive());
  EXPECT_NE(outs[0].frame().find("early"), std::string::npos);
  EXPECT_EQ(h.actor->counters().frames_replayed, 1u);
}

TEST(ConnSynReceived, SynAckIsRetransmittedThenTheEntryExpires) {
  TempDir dir;
  ConnConfig c = test_config(dir.path());
  c.handshake_timeout_us = 10000;
  c.handshake_retries = 2;
  Harness h(c);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 1, 2);
  h.clear();
  PeerSegment syn;
  h.segment(syn);
  ASSERT_EQ(h.packet_outs().size(), 1u);
  h.runner->advance(std::chrono::milliseconds(10));
  ASSERT_EQ(h.packet_outs().size(), 2u);
  EXPECT_EQ(h.packet_outs()[1].frame(), h.packet_outs()[0].frame());
  h.runner->advance(std::chrono::milliseconds(19));
  EXPECT_EQ(h.packet_outs().size(), 2u);  // doubled: 20 ms
  h.runner->advance(std::chrono::milliseconds(1));
  EXPECT_EQ(h.packet_outs().size(), 3u);
  h.runner->advance(std::chrono::milliseconds(40));
  EXPECT_EQ(h.packet_outs().size(), 3u);
  EXPECT_EQ(h.actor->syn_received().size(), 0u);
  EXPECT_EQ(h.actor->counters().half_open_expired, 1u);
  EXPECT_EQ(h.actor->counters().synack_timeouts, 2u);
  EXPECT_TRUE(h.install_requests().empty());
  EXPECT_TRUE(h.notifies().empty());
  // A late third ACK finds nothing: RST <SEQ=SEG.ACK>.
  h.clear();
  PeerSegment ack = syn;
  ack.flags = wire::kTcpAck;
  ack.seq = 1001;
  ack.ack = IsnGenerator(kTestKey).isn(peer_tuple(), h.start_time) + 1;
  h.segment(ack);
  ASSERT_EQ(h.packet_outs().size(), 1u);
  const wire::Frame rst = parse_sent(h.packet_outs()[0].frame());
  EXPECT_EQ(rst.tcp.flags, wire::kTcpRst);
  EXPECT_EQ(rst.tcp.seq, ack.ack);
}

TEST(ConnSynReceived, RetransmittedSynGetsTheSameSynAck) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.open_listener(80, 1);
  h.clear();
  PeerSegment syn;
  h.segment(syn);
  h.segment(syn);
  ASSERT_EQ(h.packet_outs().size(), 2u);
  EXPECT_EQ(h.packet_outs()[0].frame(), h.packet_outs()[1].frame());
  EXPECT_EQ(h.actor->syn_received().size(), 1u);
  syn.seq = 5000;  // another sequence number: not answered
  h.segment(syn);
  EXPECT_EQ(h.packet_outs().size(), 2u);
}

TEST(ConnSynReceived, FloodIsBoundedByTheBacklogAndCookiesStillConnect) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1, /*backlog=*/4);
  h.accept(l, 0xfeed, 2);
  h.clear();
  for (uint16_t i = 0; i < 200; ++i) {
    PeerSegment spoofed;
    spoofed.src_ip = 0x0b000000u + i;
    spoofed.src_port = static_cast<uint16_t>(1024 + i);
    h.segment(spoofed);
  }
  EXPECT_EQ(h.actor->syn_received().size(), 4u);
  EXPECT_EQ(h.actor->counters().syn_cookies_sent, 196u);
  EXPECT_TRUE(h.install_requests().empty());
  EXPECT_TRUE(h.notifies().empty());
  EXPECT_EQ(h.actor->connections().size(), 0u);

  // A real client during the flood gets a cookie and connects with it.
  PeerSegment client;
  client.src_port = 50000;
  client.mss_value = 1400;
  h.segment(client);
  const wire::Frame cookie = h.last_syn_ack(client);
  EXPECT_FALSE(cookie.tcp.options.has_wscale);  // a cookie keeps only the MSS
  EXPECT_FALSE(cookie.tcp.options.has_timestamps);
  EXPECT_EQ(cookie.tcp.flags, wire::kTcpSyn | wire::kTcpAck);
  PeerSegment ack = h.third_ack(client);
  ack.timestamps = false;
  h.segment(ack);
  const auto installs = h.install_requests();
  ASSERT_EQ(installs.size(), 1u);
  const auto& i = installs[0].install_flow();
  EXPECT_EQ(i.remote_port(), 50000u);
  EXPECT_EQ(i.tx_next_seq(), cookie.tcp.seq + 1);
  EXPECT_EQ(i.rx_next_seq(), 1001u);
  EXPECT_EQ(i.mss(), 1300u);  // the cookie's MSS class
  EXPECT_EQ(i.snd_wscale(), 0u);
  EXPECT_EQ(i.rcv_wscale(), 0u);
  EXPECT_FALSE(i.timestamps());
  EXPECT_FALSE(i.sack());  // a cookie keeps the MSS class only
  EXPECT_EQ(h.actor->counters().syn_cookies_accepted, 1u);

  // A forged ACK with a wrong cookie is refused with a RST.
  h.clear();
  PeerSegment forged = ack;
  forged.src_port = 50001;
  h.segment(forged);
  ASSERT_EQ(h.packet_outs().size(), 1u);
  EXPECT_EQ(parse_sent(h.packet_outs()[0].frame()).tcp.flags, wire::kTcpRst);
  EXPECT_EQ(h.install_requests().size(), 0u);
}

TEST(ConnSynReceived, ResetAtRcvNxtEndsTheEntryOthersDoNot) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.open_listener(80, 1);
  PeerSegment syn;
  h.segment(syn);
  PeerSegment rst = syn;
  rst.flags = wire::kTcpRst;
  rst.seq = 5000;
  h.segment(rst);
  EXPECT_EQ(h.actor->syn_received().size(), 1u);
  rst.seq = 1001;
  h.segment(rst);
  EXPECT_EQ(h.actor->syn_received().size(), 0u);
  EXPECT_EQ(h.actor->counters().half_open_reset, 1u);
}

TEST(ConnSynReceived, ClosingTheListenerDropsItsEntries) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.segment(PeerSegment{});
  ASSERT_EQ(h.actor->syn_received().size(), 1u);
  auto r = h.base_request(fastpath::AppRequestIn::TYPE_LISTEN_CLOSE, 2);
  r.set_listener_id(l);
  h.request(r);
  EXPECT_EQ(h.actor->syn_received().size(), 0u);
  h.clear();
  h.runner->advance(std::chrono::seconds(1));  // the entry's timer finds nothing
  EXPECT_TRUE(h.packet_outs().empty());
}

TEST(ConnSynReceived, SegmentWithoutSynAckOrRstIsDroppedInListen) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.open_listener(80, 1);
  h.clear();
  PeerSegment data;
  data.flags = wire::kTcpPsh;
  data.payload = "hello";
  h.segment(data);
  PeerSegment fin;
  fin.flags = wire::kTcpFin;
  h.segment(fin);
  EXPECT_TRUE(h.packet_outs().empty());
  EXPECT_EQ(h.actor->counters().segments_dropped_in_listen, 2u);
  // The same to a port nobody listens on: RST (RFC 9293 3.10.7.1).
  data.dst_port = 81;
  h.segment(data);
  ASSERT_EQ(h.packet_outs().size(), 1u);
  const wire::Frame f = parse_sent(h.packet_outs()[0].frame());
  EXPECT_EQ(f.tcp.flags, wire::kTcpRst | wire::kTcpAck);
  EXPECT_EQ(f.tcp.ack, 1005u);
}

TEST(ConnSynReceived, LandAttackIsDroppedAndCounted) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 1, 2);
  h.clear();
  PeerSegment land;
  land.src_ip = kLocalIp;
  land.src_port = 80;
  h.segment(land);  // to a listener
  land.dst_port = 81;
  h.segment(land);  // to a closed port
  land.flags = wire::kTcpAck;
  h.segment(land);
  EXPECT_TRUE(h.packet_outs().empty());
  EXPECT_TRUE(h.install_requests().empty());
  EXPECT_EQ(h.actor->syn_received().size(), 0u);
  EXPECT_EQ(h.actor->counters().frames_land, 3u);
}

}  // namespace
}  // namespace vtas::conn
