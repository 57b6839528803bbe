// The conn actor end to end, passive side: listeners, SYNs with and without posted accepts,
// the exact SYN-ACK and InstallFlow, backlogs, REUSEPORT and RSTs for closed ports.
#include <gtest/gtest.h>

#include <cerrno>
#include <map>

#include "components/slowpath/tests/conn_test_support.h"

namespace vtas::conn {
namespace {

using namespace vtas::conn::testing;
using fastpath::AppNotify;

TEST(ConnPassive, ListenAnswersWithAListenerId) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.listen(80, 1, 16, false, 2, kAppId, 0xabc);
  const auto& n = h.last_notify();
  EXPECT_EQ(n.type(), AppNotify::TYPE_LISTEN_OPENED);
  EXPECT_EQ(n.status(), 0);
  EXPECT_EQ(n.app_id(), kAppId);
  EXPECT_EQ(n.context_id(), 2u);
  EXPECT_EQ(n.request_id(), 1u);
  EXPECT_EQ(n.opaque(), 0xabcu);
  EXPECT_NE(n.listener_id(), 0u);
  EXPECT_EQ(n.local_port(), 80u);
  EXPECT_EQ(h.actor->listeners().size(), 1u);
}

TEST(ConnPassive, HandshakeWithPostedAcceptSendsTheExactSynAckThenInstalls) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t listener = h.open_listener(80, 1, 16, false, 0);
  h.accept(listener, 0xfeed, 2, /*context=*/3);
  h.clear();
  PeerSegment syn;
  syn.flags = wire::kTcpSyn | wire::kTcpEce | wire::kTcpCwr;
  syn.seq = 1000;
  h.segment(syn, /*flow_group=*/7);
  // The SYN-ACK goes out alone; nothing is installed before the third ACK.
  EXPECT_TRUE(h.install_requests().empty());
  ASSERT_EQ(h.packet_outs().size(), 1u);
  const fastpath::PacketOut syn_ack = h.packet_outs()[0];
  h.segment(h.third_ack(syn), 7);

  const auto installs = h.install_requests();
  ASSERT_EQ(installs.size(), 1u);
  EXPECT_EQ(installs[0].header().kind(), MESSAGE_KIND_REQUEST);
  EXPECT_EQ(installs[0].header().receiver(), "fastpath");
  const auto& i = installs[0].install_flow();
  const uint32_t isn = IsnGenerator(kTestKey).isn(peer_tuple(), h.start_time);
  EXPECT_EQ(i.app_id(), kAppId);
  EXPECT_EQ(i.context_id(), 3u);  // the accept's context, not the listener's
  EXPECT_EQ(i.opaque(), 0xfeedu);
  EXPECT_EQ(i.local_ip(), kLocalIp);
  EXPECT_EQ(i.remote_ip(), kPeerIp);
  EXPECT_EQ(i.local_port(), 80u);
  EXPECT_EQ(i.remote_port(), 40000u);
  EXPECT_EQ(i.remote_mac(), std::string("\x02\0\0\0\0\x02", 6));
  EXPECT_EQ(i.rx_next_seq(), 1001u);
  EXPECT_EQ(i.tx_next_seq(), isn + 1);
  EXPECT_EQ(i.remote_window(), 64240u);
  EXPECT_EQ(i.mss(), 1448u);
  EXPECT_EQ(i.snd_wscale(), 7u);
  EXPECT_EQ(i.rcv_wscale(), 3u);
  EXPECT_TRUE(i.timestamps());
  EXPECT_TRUE(i.sack());  // the SYN offered SACK-permitted
  EXPECT_EQ(i.ts_recent(), 778u);  // from the third ACK
  EXPECT_TRUE(i.ecn());
  EXPECT_EQ(i.flow_group(), 7u);
  EXPECT_EQ(i.rx_len(), 262144u);
  EXPECT_EQ(i.tx_len(), 262144u);

  EXPECT_TRUE(i.packet().frame().empty());  // the handshake is over: nothing to send

  EXPECT_TRUE(syn_ack.stamp_timestamp());
  EXPECT_EQ(syn_ack.flow_group(), 7u);
  wire::Frame f = parse_sent(syn_ack.frame());
  EXPECT_EQ(f.eth.src, kLocalMac);
  EXPECT_EQ(f.eth.dst, kPeerMac);
  EXPECT_EQ(f.ip.src.value, kLocalIp);
  EXPECT_EQ(f.ip.dst.value, kPeerIp);
  EXPECT_EQ(f.tcp.flags, wire::kTcpSyn | wire::kTcpAck | wire::kTcpEce);
  EXPECT_EQ(f.tcp.seq, isn);
  EXPECT_EQ(f.tcp.ack, 1001u);
  EXPECT_EQ(f.tcp.window, 65535);
  EXPECT_EQ(f.tcp.options.mss, 1460);
  EXPECT_TRUE(f.tcp.options.has_wscale);
  EXPECT_EQ(f.tcp.options.wscale, 3);
  EXPECT_TRUE(f.tcp.options.has_timestamps);
  EXPECT_EQ(f.tcp.options.tsval, 0u);
  EXPECT_EQ(f.tcp.options.tsecr, 777u);
  EXPECT_TRUE(f.tcp.options.sack_permitted);  // the SYN offered SACK: our ACKs carry blocks

  const auto& n = i.notify();
  EXPECT_EQ(n.type(), AppNotify::TYPE_ACCEPTED);
  EXPECT_EQ(n.context_id(), 3u);
  EXPECT_EQ(n.request_id(), 2u);
  EXPECT_EQ(n.opaque(), 0xfeedu);
  EXPECT_EQ(n.listener_id(), listener);
  EXPECT_EQ(n.remote_ip(), kPeerIp);
  EXPECT_EQ(n.remote_port(), 40000u);

  // Nothing else went out: no other PacketOut, no app notify.
  EXPECT_EQ(h.packet_outs().size(), 1u);
  EXPECT_TRUE(h.notifies().empty());

  h.respond_installed(installs[0], 11);
  EXPECT_EQ(h.actor->connections().count(ConnState::kEstablished), 1u);
  EXPECT_EQ(h.actor->counters().accepted, 1u);
}

TEST(ConnPassive, RetransmittedSynOfAnInstalledFlowGetsTheSameSynAck) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(11);
  const std::string syn_ack = h.packet_outs().at(0).frame();
  h.clear();
  PeerSegment syn;
  h.segment(syn, 7, /*flow_id=*/11);
  const auto outs = h.packet_outs();
  ASSERT_EQ(outs.size(), 1u);
  const wire::Frame again = parse_sent(outs[0].frame());
  const wire::Frame first = parse_sent(syn_ack);
  EXPECT_EQ(again.tcp.flags, first.tcp.flags);
  EXPECT_EQ(again.tcp.seq, first.tcp.seq);
  EXPECT_EQ(again.tcp.ack, first.tcp.ack);
  EXPECT_EQ(again.tcp.options.wscale, first.tcp.options.wscale);
  EXPECT_TRUE(outs[0].stamp_timestamp());
  EXPECT_EQ(outs[0].flow_group(), 7u);
  EXPECT_EQ(h.actor->counters().synack_retransmits, 1u);
  // A SYN with another sequence number on that flow is not ours to answer.
  syn.seq = 5555;
  h.segment(syn, 7, 11);
  EXPECT_EQ(h.packet_outs().size(), 1u);
}

TEST(ConnPassive, RetransmittedSynWhileInstallingIsNotAnsweredTwice) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 1, 2);
  h.accept(l, 2, 3);
  h.handshake(PeerSegment{});
  h.clear();
  h.segment(PeerSegment{});
  h.segment(PeerSegment{});
  EXPECT_EQ(h.install_requests().size(), 0u);
  EXPECT_TRUE(h.packet_outs().empty());
}

TEST(ConnPassive, PeersWithoutTimestampsOrWindowScaleAndOddMss) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 1, 2);
  PeerSegment syn;
  syn.timestamps = false;
  syn.wscale = false;
  syn.mss_value = 1;
  syn.window = 5000;
  h.handshake(syn);
  auto installs = h.install_requests();
  ASSERT_EQ(installs.size(), 1u);
  const auto& i = installs[0].install_flow();
  EXPECT_FALSE(i.timestamps());
  EXPECT_EQ(i.snd_wscale(), 0u);
  EXPECT_EQ(i.rcv_wscale(), 0u);
  EXPECT_EQ(i.mss(), 64u);  // clamped up from 1
  EXPECT_EQ(i.remote_window(), 5000u);
  EXPECT_FALSE(i.ecn());
  wire::Frame f = h.last_syn_ack(syn);
  EXPECT_EQ(f.tcp.flags, wire::kTcpSyn | wire::kTcpAck);
  EXPECT_FALSE(f.tcp.options.has_timestamps);
  EXPECT_FALSE(f.tcp.options.has_wscale);
  EXPECT_TRUE(f.tcp.options.has_mss);

  h.accept(l, 3, 4);
  PeerSegment big;
  big.src_port = 40001;
  big.mss_value = 9000;
  big.timestamps = false;
  h.handshake(big);
  installs = h.install_requests();
  ASSERT_EQ(installs.size(), 2u);
  EXPECT_EQ(installs[1].install_flow().mss(), 1460u);

  h.accept(l, 5, 6);
  PeerSegment none;
  none.src_port = 40002;
  none.mss = false;
  h.handshake(none);
  installs = h.install_requests();
  ASSERT_EQ(installs.size(), 3u);
  EXPECT_EQ(installs[2].install_flow().mss(), 536u - 12u);
}

TEST(ConnPassive, SynWithoutAcceptWaitsAndTheAppIsTold) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1, 16, false, /*context=*/4);
  h.clear();
  h.segment(PeerSegment{});
  EXPECT_TRUE(h.notifies().empty());  // not before the handshake completed
  h.segment(h.third_ack(PeerSegment{}));
  EXPECT_TRUE(h.install_requests().empty());
  auto n = h.notifies();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].type(), AppNotify::TYPE_LISTEN_NEW_CONN);
  EXPECT_EQ(n[0].context_id(), 4u);
  EXPECT_EQ(n[0].listener_id(), l);
  EXPECT_EQ(n[0].opaque(), 0x1111u);
  EXPECT_EQ(n[0].remote_ip(), kPeerIp);
  EXPECT_EQ(n[0].remote_port(), 40000u);
  // The peer's retransmission does not queue twice nor notify twice.
  h.segment(PeerSegment{});
  EXPECT_EQ(h.notifies().size(), 1u);
  EXPECT_EQ(h.actor->counters().syns_duplicate, 1u);
  // Its other segments get no RST while the SYN waits.
  h.clear();
  PeerSegment ack;
  ack.flags = wire::kTcpAck;
  ack.ack = 5;
  h.segment(ack);
  EXPECT_TRUE(h.packet_outs().empty());
  // An accept (from another context) serves the waiting SYN at once.
  h.accept(l, 0x77, 9, /*context=*/5);
  auto installs = h.install_requests();
  ASSERT_EQ(installs.size(), 1u);
  EXPECT_EQ(installs[0].install_flow().opaque(), 0x77u);
  EXPECT_EQ(installs[0].install_flow().context_id(), 5u);
  EXPECT_EQ(installs[0].install_flow().rx_next_seq(), 1001u);
  EXPECT_EQ(h.actor->listeners().queued_syns(), 0u);
}

TEST(ConnPassive, BacklogOverflowDropsSyns) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.open_listener(80, 1, /*backlog=*/2);
  for (uint16_t port = 40000; port < 40002; ++port) {
    PeerSegment syn;
    syn.src_port = port;
    h.handshake(syn);
  }
  EXPECT_EQ(h.actor->listeners().queued_syns(), 2u);
  h.clear();
  for (uint16_t port = 40002; port < 40005; ++port) {
    PeerSegment syn;
    syn.src_port = port;
    h.segment(syn);
  }
  EXPECT_EQ(h.actor->listeners().queued_syns(), 2u);
  EXPECT_EQ(h.actor->counters().syns_dropped_backlog_full, 3u);
  EXPECT_TRUE(h.packet_outs().empty());  // dropped, not reset: the peer retries
}

TEST(ConnPassive, GlobalSynQueueBoundsAFlood) {
  TempDir dir;
  ConnConfig c = test_config(dir.path());
  c.syn_queue_limit = 100;
  c.backlog_max = 1000;
  Harness h(c);
  h.start();
  h.open_listener(80, 1, 1000);
  h.open_listener(81, 2, 1000);
  for (uint32_t i = 0; i < 3000; ++i) {
    PeerSegment syn;
    syn.src_ip = 0x0b000000 + i;  // a spoofing flood
    syn.src_port = static_cast<uint16_t>(1024 + i);
    syn.dst_port = i % 2 == 0 ? 80 : 81;
    h.segment(syn);
  }
  // 100 SYN-RECEIVED entries, cookies for the rest; nothing reached the app.
  EXPECT_EQ(h.actor->syn_received().size(), 100u);
  EXPECT_EQ(h.actor->counters().syn_cookies_sent, 2900u);
  EXPECT_EQ(h.actor->listeners().queued_syns(), 0u);
  EXPECT_EQ(h.notifies().size(), 2u);  // the two LISTEN_OPENED
  // Unanswered entries expire after the SYN-ACK retries: free again for real peers.
  h.runner->advance(std::chrono::seconds(30));
  EXPECT_EQ(h.actor->syn_received().size(), 0u);
  EXPECT_EQ(h.actor->counters().half_open_expired, 100u);
}

TEST(ConnPassive, BacklogIsCappedByConfig) {
  TempDir dir;
  ConnConfig c = test_config(dir.path());
  c.backlog_max = 3;
  Harness h(c);
  h.start();
  h.open_listener(80, 1, /*backlog=*/0xffffffffu);
  for (uint16_t port = 1; port <= 10; ++port) {
    PeerSegment syn;
    syn.src_port = port;
    h.segment(syn);
  }
  EXPECT_EQ(h.actor->syn_received().size(), 3u);
  EXPECT_EQ(h.actor->counters().syn_cookies_sent, 7u);
}

TEST(ConnPassive, ReuseportSpreadsSynsOverTheGroup) {
  TempDir dir;
  Harness h(dir);
  h.start();
  fastpath::AppAttached app;
  app.set_app_id(kAppId);
  app.set_pid(100);
  app.set_uid(1000);
  h.runner->deliver_event("fastpath", app);
  std::map<uint32_t, uint32_t> context_of;
  for (uint32_t ctx = 0; ctx < 4; ++ctx) {
    context_of[h.open_listener(80, 10 + ctx, 1000, /*reuse=*/true, ctx)] = ctx;
  }
  ASSERT_EQ(context_of.size(), 4u);
  // Without REUSEPORT the port is taken.
  h.listen(80, 20, 16, false);
  EXPECT_EQ(h.last_notify().status(), -EADDRINUSE);
  // Another user's app cannot join the group.
  fastpath::AppAttached other;
  other.set_app_id(6);
  other.set_pid(200);
  other.set_uid(2000);
  h.runner->deliver_event("fastpath", other);
  h.listen(80, 21, 16, true, 0, 6);
  EXPECT_EQ(h.last_notify().status(), -EADDRINUSE);

  h.clear();
  for (uint16_t port = 1; port <= 400; ++port) {
    PeerSegment syn;
    syn.src_port = port;
    h.handshake(syn);
  }
  std::map<uint32_t, int> per_listener;
  for (const auto& n : h.notifies()) {
    ASSERT_EQ(n.type(), AppNotify::TYPE_LISTEN_NEW_CONN);
    EXPECT_EQ(context_of[n.listener_id()], n.context_id());
    per_listener[n.listener_id()]++;
  }
  ASSERT_EQ(per_listener.size(), 4u);
  for (const auto& [id, count] : per_listener) {
    EXPECT_GT(count, 60) << "listener " << id;
    EXPECT_LT(count, 140) << "listener " << id;
  }
}

TEST(ConnPassive, SynToAClosedPortGetsARst) {
  TempDir dir;
  Harness h(dir);
  h.start();
  PeerSegment syn;
  syn.dst_port = 81;
  syn.seq = 4000;
  h.segment(syn, 5);
  auto outs = h.packet_outs();
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_FALSE(outs[0].stamp_timestamp());
  EXPECT_EQ(outs[0].flow_group(), 5u);
  wire::Frame f = parse_sent(outs[0].frame());
  EXPECT_EQ(f.tcp.flags, wire::kTcpRst | wire::kTcpAck);
  EXPECT_EQ(f.tcp.seq, 0u);
  EXPECT_EQ(f.tcp.ack, 4001u);
  EXPECT_EQ(f.tcp.src_port, 81);
  EXPECT_EQ(f.tcp.dst_port, 40000);
  EXPECT_EQ(f.eth.dst, kPeerMac);
  EXPECT_EQ(h.actor->counters().syns_to_closed_port, 1u);
  EXPECT_EQ(h.actor->counters().rsts_sent, 1u);
}

TEST(ConnPassive, UnknownSegmentsGetRfc793ResetsButRstsDoNot) {
  TempDir dir;
  Harness h(dir);
  h.start();
  PeerSegment data;
  data.flags = wire::kTcpAck | wire::kTcpPsh;
  data.seq = 10;
  data.ack = 99999;
  data.payload = "GET /";
  h.segment(data);
  PeerSegment rst;
  rst.flags = wire::kTcpRst;
  h.segment(rst);
  PeerSegment rst_ack;
  rst_ack.flags = wire::kTcpRst | wire::kTcpAck;
  h.segment(rst_ack);
  auto outs = h.packet_outs();
  ASSERT_EQ(outs.size(), 1u);
  wire::Frame f = parse_sent(outs[0].frame());
  EXPECT_EQ(f.tcp.flags, wire::kTcpRst);
  EXPECT_EQ(f.tcp.seq, 99999u);
}

TEST(ConnPassive, ResetsAreRateLimited) {
  TempDir dir;
  ConnConfig c = test_config(dir.path());
  c.rst_burst = 10;
  c.rst_period = std::chrono::milliseconds(100);
  Harness h(c);
  h.start();
  for (uint16_t port = 1; port <= 25; ++port) {
    PeerSegment syn;
    syn.dst_port = 81;
    syn.src_port = port;
    h.segment(syn);
  }
  EXPECT_EQ(h.packet_outs().size(), 10u);
  EXPECT_EQ(h.actor->counters().rsts_rate_limited, 15u);
  EXPECT_EQ(h.actor->counters().syns_to_closed_port, 25u);
  h.runner->advance(std::chrono::milliseconds(100));
  PeerSegment syn;
  syn.dst_port = 81;
  h.segment(syn);
  EXPECT_EQ(h.packet_outs().size(), 11u);
}

TEST(ConnPassive, FailedInstallGivesTheAcceptBack) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 0x42, 2);
  h.handshake(PeerSegment{});
  const uint32_t isn = h.last_syn_ack(PeerSegment{}).tcp.seq;
  auto installs = h.install_requests();
  ASSERT_EQ(installs.size(), 1u);
  h.clear();
  h.respond_installed(installs[0], 0, /*ok=*/false, -ENOMEM);
  EXPECT_EQ(h.actor->connections().size(), 0u);
  EXPECT_EQ(h.actor->counters().install_failures, 1u);
  EXPECT_TRUE(h.notifies().empty());  // the app was not bothered
  // The peer, connected as far as it knows, is reset at its RCV.NXT.
  ASSERT_EQ(h.packet_outs().size(), 1u);
  const wire::Frame rst = parse_sent(h.packet_outs()[0].frame());
  EXPECT_EQ(rst.tcp.flags, wire::kTcpRst);
  EXPECT_EQ(rst.tcp.seq, isn + 1);
  // The next connection takes the same accept.
  PeerSegment next;
  next.src_port = 40001;
  h.handshake(next);
  installs = h.install_requests();
  ASSERT_EQ(installs.size(), 1u);
  EXPECT_EQ(installs[0].install_flow().opaque(), 0x42u);
  EXPECT_EQ(installs[0].install_flow().notify().request_id(), 2u);
}

TEST(ConnPassive, UnansweredInstallIsRetriedThenGivenUp) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 0x42, 2);
  h.handshake(PeerSegment{});
  h.runner->advance(std::chrono::milliseconds(1001));
  h.runner->advance(std::chrono::milliseconds(1001));
  EXPECT_EQ(h.install_requests().size(), 3u);
  EXPECT_EQ(h.actor->counters().install_retries, 2u);
  h.runner->advance(std::chrono::milliseconds(1001));
  EXPECT_EQ(h.install_requests().size(), 3u);
  EXPECT_EQ(h.actor->connections().size(), 0u);
  EXPECT_EQ(h.actor->listeners().accepts_posted(), 1u);
  EXPECT_EQ(h.actor->counters().install_failures, 1u);
}

TEST(ConnPassive, ListenCloseDropsTheListener) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 1, 2);
  auto r = h.base_request(fastpath::AppRequestIn::TYPE_LISTEN_CLOSE, 3);
  r.set_listener_id(l);
  h.request(r);
  EXPECT_EQ(h.last_notify().type(), AppNotify::TYPE_LISTEN_CLOSED);
  EXPECT_EQ(h.last_notify().status(), 0);
  EXPECT_EQ(h.last_notify().listener_id(), l);
  EXPECT_EQ(h.actor->listeners().size(), 0u);
  h.segment(PeerSegment{});
  EXPECT_TRUE(h.install_requests().empty());
  EXPECT_EQ(h.packet_outs().size(), 1u);  // RST: the port is closed now
  // The port can be listened on again.
  h.listen(80, 4);
  EXPECT_EQ(h.last_notify().status(), 0);
}

TEST(ConnPassive, AnAcceptAskedAgainAfterItsLogEntryAgedOutIsNotPostedTwice) {
  // An accept can wait for minutes; the request log remembers the last few thousand
  // requests. A copy of a waiting accept that comes after its entry aged out must not post
  // it a second time: two connections would go to one connection object of the app.
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 0xa1, 2);
  for (uint32_t id = 3; id < 3 + 300; ++id) h.listen(80, id);  // refused, and logged
  h.accept(l, 0xa1, 2);
  EXPECT_EQ(h.actor->listeners().accepts_posted(), 1u);
  EXPECT_EQ(h.actor->counters().accepts_posted_twice, 1u);
}

}  // namespace
}  // namespace vtas::conn
