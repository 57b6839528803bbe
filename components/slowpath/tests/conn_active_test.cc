// The conn actor end to end, active side: CONN_OPEN -> arp -> SYN with its handshake timer,
// retries with doubling timeouts on the fake clock, SYN-ACK -> InstallFlow, refusals and
// timeouts.
#include <gtest/gtest.h>

#include <cerrno>

#include "components/slowpath/tests/conn_test_support.h"

namespace vtas::conn {
namespace {

using namespace vtas::conn::testing;
using fastpath::AppNotify;
using std::chrono::milliseconds;
using std::chrono::seconds;

class ConnActive : public ::testing::Test {
 protected:
  void SetUp() override {
    ConnConfig c = test_config(dir.path());
    c.handshake_timeout_us = 10000;
    c.handshake_retries = 3;
    h = std::make_unique<Harness>(c);
    h->start();
  }

  // Opens to kPeerIp:80 and answers arp; returns the SYN sent.
  wire::Frame open_and_resolve(uint64_t opaque = 0x99, uint32_t request_id = 1) {
    h->open(kPeerIp, 80, opaque, request_id);
    auto resolves = h->envelopes(Envelope::kResolveRequest);
    EXPECT_EQ(resolves.size(), 1u);
    if (resolves.empty()) return {};
    EXPECT_EQ(resolves[0].header().receiver(), "arp");
    EXPECT_EQ(resolves[0].resolve_request().ip(), kPeerIp);
    h->respond_resolved(resolves[0], kPeerMac);
    auto outs = h->packet_outs();
    EXPECT_EQ(outs.size(), 1u);
    if (outs.empty()) return {};
    return parse_sent(outs.back().frame());
  }

  PeerSegment syn_ack_for(const wire::Frame& syn) {
    PeerSegment s;
    s.src_port = 80;
    s.dst_port = syn.tcp.src_port;
    s.seq = 50000;
    s.ack = syn.tcp.seq + 1;
    s.flags = wire::kTcpSyn | wire::kTcpAck | wire::kTcpEce;
    s.tsval = 31337;
    s.tsecr = 0;
    s.sack_permitted = false;
    return s;
  }

  TempDir dir;
  std::unique_ptr<Harness> h;
};

TEST_F(ConnActive, OpenSendsTheSynWithAllOptionsAndArmsTheTimer) {
  wire::Frame f = open_and_resolve();
  auto outs = h->packet_outs();
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_TRUE(outs[0].stamp_timestamp());
  EXPECT_EQ(f.eth.src, kLocalMac);
  EXPECT_EQ(f.eth.dst, kPeerMac);
  EXPECT_EQ(f.ip.src.value, kLocalIp);
  EXPECT_EQ(f.ip.dst.value, kPeerIp);
  EXPECT_EQ(f.tcp.dst_port, 80);
  EXPECT_GE(f.tcp.src_port, 32768);
  EXPECT_LE(f.tcp.src_port, 60999);
  EXPECT_EQ(f.tcp.flags, wire::kTcpSyn | wire::kTcpEce | wire::kTcpCwr);
  const FourTuple tuple{kLocalIp, kPeerIp, f.tcp.src_port, 80};
  EXPECT_EQ(f.tcp.seq, IsnGenerator(kTestKey).isn(tuple, h->start_time));
  EXPECT_EQ(f.tcp.options.mss, 1460);
  EXPECT_TRUE(f.tcp.options.has_wscale);
  EXPECT_EQ(f.tcp.options.wscale, 3);
  EXPECT_TRUE(f.tcp.options.has_timestamps);
  EXPECT_TRUE(f.tcp.options.sack_permitted);
  auto arms = h->arms();
  ASSERT_EQ(arms.size(), 1u);
  EXPECT_EQ(arms[0].delay_us(), 10000u);
  EXPECT_EQ(arms[0].kind(), kTimerKindHandshake);
  EXPECT_EQ(h->actor->connections().count(ConnState::kSynSent), 1u);
}

TEST_F(ConnActive, SynAckInstallsTheFlowWithOurAck) {
  wire::Frame syn = open_and_resolve(0x99, 1);
  const uint64_t key = h->arms()[0].key();
  h->clear();
  h->segment(syn_ack_for(syn), /*flow_group=*/9);
  auto cancels = h->runner->sent_of<timer::CancelTimer>("timer");
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].key(), key);
  auto installs = h->install_requests();
  ASSERT_EQ(installs.size(), 1u);
  const auto& i = installs[0].install_flow();
  EXPECT_EQ(i.local_port(), syn.tcp.src_port);
  EXPECT_EQ(i.remote_port(), 80u);
  EXPECT_EQ(i.rx_next_seq(), 50001u);
  EXPECT_EQ(i.tx_next_seq(), syn.tcp.seq + 1);
  EXPECT_EQ(i.mss(), 1448u);
  EXPECT_EQ(i.snd_wscale(), 7u);
  EXPECT_EQ(i.rcv_wscale(), 3u);
  EXPECT_TRUE(i.timestamps());
  EXPECT_FALSE(i.sack());  // this SYN-ACK did not offer SACK-permitted
  EXPECT_EQ(i.ts_recent(), 31337u);
  EXPECT_TRUE(i.ecn());  // ECE without CWR
  EXPECT_EQ(i.flow_group(), 9u);
  EXPECT_EQ(i.remote_mac(), std::string("\x02\0\0\0\0\x02", 6));
  wire::Frame ack = parse_sent(i.packet().frame());
  EXPECT_EQ(ack.tcp.flags, wire::kTcpAck);
  EXPECT_EQ(ack.tcp.seq, syn.tcp.seq + 1);
  EXPECT_EQ(ack.tcp.ack, 50001u);
  EXPECT_EQ(ack.tcp.window, 32768);  // 262144 >> 3
  EXPECT_TRUE(ack.tcp.options.has_timestamps);
  EXPECT_EQ(ack.tcp.options.tsecr, 31337u);
  EXPECT_TRUE(i.packet().stamp_timestamp());
  EXPECT_EQ(i.notify().type(), AppNotify::TYPE_CONN_OPENED);
  EXPECT_EQ(i.notify().status(), 0);
  EXPECT_EQ(i.notify().request_id(), 1u);
  EXPECT_EQ(i.notify().opaque(), 0x99u);
  h->respond_installed(installs[0], 21);
  EXPECT_EQ(h->actor->connections().count(ConnState::kEstablished), 1u);
  EXPECT_EQ(h->actor->counters().opened, 1u);
  // The SYN-ACK again (our ACK was lost) on the installed flow: the ACK again.
  h->clear();
  h->segment(syn_ack_for(syn), 9, 21);
  auto outs = h->packet_outs();
  ASSERT_EQ(outs.size(), 1u);
  wire::Frame again = parse_sent(outs[0].frame());
  EXPECT_EQ(again.tcp.flags, wire::kTcpAck);
  EXPECT_EQ(again.tcp.ack, 50001u);
}

TEST_F(ConnActive, PeerWithoutTimestampsWindowScaleOrEcn) {
  wire::Frame syn = open_and_resolve();
  PeerSegment sa = syn_ack_for(syn);
  sa.timestamps = false;
  sa.wscale = false;
  sa.flags = wire::kTcpSyn | wire::kTcpAck | wire::kTcpEce | wire::kTcpCwr;
  sa.mss_value = 1200;
  h->segment(sa);
  auto installs = h->install_requests();
  ASSERT_EQ(installs.size(), 1u);
  const auto& i = installs[0].install_flow();
  EXPECT_FALSE(i.timestamps());
  EXPECT_EQ(i.snd_wscale(), 0u);
  EXPECT_EQ(i.rcv_wscale(), 0u);
  EXPECT_FALSE(i.ecn());
  EXPECT_EQ(i.mss(), 1200u);
  EXPECT_FALSE(i.packet().stamp_timestamp());
  wire::Frame ack = parse_sent(i.packet().frame());
  EXPECT_FALSE(ack.tcp.options.has_timestamps);
  EXPECT_EQ(ack.tcp.window, 65535);  // unscaled: min(262144, 65535)
}

TEST_F(ConnActive, HandshakeRetriesDoubleAndThenTimeOut) {
  wire::Frame syn = open_and_resolve(0x55, 7);
  uint32_t expected_delay = 10000;
  for (int retry = 1; retry <= 3; ++retry) {
    auto arms = h->arms();
    ASSERT_EQ(arms.size(), static_cast<size_t>(retry));
    EXPECT_EQ(arms.back().delay_us(), expected_delay);
    h->runner->advance(std::chrono::microseconds(expected_delay));
    h->timer_fired(arms.back().key());
    auto outs = h->packet_outs();
    ASSERT_EQ(outs.size(), static_cast<size_t>(retry + 1));
    wire::Frame again = parse_sent(outs.back().frame());
    EXPECT_EQ(again.tcp.seq, syn.tcp.seq);  // the same SYN
    EXPECT_EQ(again.tcp.src_port, syn.tcp.src_port);
    expected_delay *= 2;
  }
  EXPECT_EQ(h->actor->counters().syn_retransmits, 3u);
  h->runner->advance(std::chrono::microseconds(expected_delay));
  h->timer_fired(h->arms().back().key());
  EXPECT_EQ(h->packet_outs().size(), 4u);  // no fifth SYN
  const auto& n = h->last_notify();
  EXPECT_EQ(n.type(), AppNotify::TYPE_CONN_OPENED);
  EXPECT_EQ(n.status(), -ETIMEDOUT);
  EXPECT_EQ(n.request_id(), 7u);
  EXPECT_EQ(n.opaque(), 0x55u);
  EXPECT_EQ(h->actor->counters().handshake_timeouts, 1u);
  EXPECT_EQ(h->actor->connections().size(), 0u);
}

TEST_F(ConnActive, StaleTimerExpiriesAreIgnored) {
  open_and_resolve();
  const uint64_t first = h->arms()[0].key();
  h->timer_fired(first);
  EXPECT_EQ(h->packet_outs().size(), 2u);
  h->timer_fired(first);  // the same expiry delivered twice
  EXPECT_EQ(h->packet_outs().size(), 2u);
  h->timer_fired(first + 1);  // a key of nothing
  h->timer_fired(first, 99);  // a kind of nothing
  EXPECT_EQ(h->packet_outs().size(), 2u);
}

TEST_F(ConnActive, LostTimerFiredIsCoveredByConnItself) {
  open_and_resolve();
  // `timer` never answers: after the deadline plus the grace period conn retransmits anyway.
  h->runner->advance(milliseconds(10) + h->config.timer_grace + seconds(1));
  EXPECT_EQ(h->packet_outs().size(), 2u);
  EXPECT_EQ(h->actor->counters().timer_fallbacks, 1u);
}

TEST_F(ConnActive, TimerRestartReArmsWithWhatIsLeft) {
  open_and_resolve();
  h->runner->advance(milliseconds(4));
  h->clear();
  supervisor::ActorEvent e;
  e.set_actor("timer");
  e.set_kind(supervisor::ActorEvent::KIND_STARTED);
  e.set_incarnation(2);
  h->runner->deliver_event("supervisor", e);
  auto arms = h->arms();
  ASSERT_EQ(arms.size(), 1u);
  EXPECT_EQ(arms[0].delay_us(), 6000u);
  EXPECT_EQ(arms[0].key(), ConnActor::handshake_timer_key(1, 1));
}

TEST_F(ConnActive, RstToOurSynIsConnectionRefused) {
  wire::Frame syn = open_and_resolve(0x1, 3);
  PeerSegment rst;
  rst.src_port = 80;
  rst.dst_port = syn.tcp.src_port;
  rst.flags = wire::kTcpRst | wire::kTcpAck;
  rst.seq = 0;
  rst.ack = syn.tcp.seq + 2;  // not our SYN: ignored
  rst.timestamps = rst.wscale = rst.mss = rst.sack_permitted = false;
  h->segment(rst);
  EXPECT_EQ(h->actor->connections().size(), 1u);
  rst.flags = wire::kTcpRst;  // no ACK: ignored in SYN-SENT
  h->segment(rst);
  EXPECT_EQ(h->actor->connections().size(), 1u);
  rst.flags = wire::kTcpRst | wire::kTcpAck;
  rst.ack = syn.tcp.seq + 1;
  h->segment(rst);
  const auto& n = h->last_notify();
  EXPECT_EQ(n.type(), AppNotify::TYPE_CONN_OPENED);
  EXPECT_EQ(n.status(), -ECONNREFUSED);
  EXPECT_EQ(n.request_id(), 3u);
  EXPECT_EQ(h->actor->connections().size(), 0u);
  EXPECT_EQ(h->packet_outs().size(), 1u);  // no RST answers a RST
  auto cancels = h->runner->sent_of<timer::CancelTimer>("timer");
  EXPECT_EQ(cancels.size(), 1u);
}

TEST_F(ConnActive, SynAckWithAWrongAckGetsARst) {
  wire::Frame syn = open_and_resolve();
  PeerSegment sa = syn_ack_for(syn);
  sa.ack = syn.tcp.seq + 1000;
  h->segment(sa);
  auto outs = h->packet_outs();
  ASSERT_EQ(outs.size(), 2u);
  wire::Frame rst = parse_sent(outs[1].frame());
  EXPECT_EQ(rst.tcp.flags, wire::kTcpRst);
  EXPECT_EQ(rst.tcp.seq, syn.tcp.seq + 1000);
  EXPECT_TRUE(h->install_requests().empty());
  EXPECT_EQ(h->actor->connections().count(ConnState::kSynSent), 1u);
}

TEST_F(ConnActive, SimultaneousOpenIsIgnored) {
  wire::Frame syn = open_and_resolve();
  PeerSegment bare = syn_ack_for(syn);
  bare.flags = wire::kTcpSyn;
  h->segment(bare);
  EXPECT_EQ(h->actor->counters().simultaneous_open_ignored, 1u);
  EXPECT_TRUE(h->install_requests().empty());
}

TEST_F(ConnActive, UnresolvableAddressFailsTheOpen) {
  h->open(kPeerIp, 80, 0x5, 4);
  h->respond_resolved(h->envelopes(Envelope::kResolveRequest)[0], kPeerMac, /*ok=*/false);
  EXPECT_EQ(h->last_notify().status(), -EHOSTUNREACH);
  EXPECT_EQ(h->last_notify().request_id(), 4u);
  // No answer from arp at all: the same, after the request timeout.
  h->open(kPeer2Ip, 80, 0x6, 5);
  h->runner->advance(h->config.arp_request_timeout + milliseconds(1));
  EXPECT_EQ(h->last_notify().status(), -EHOSTUNREACH);
  EXPECT_EQ(h->last_notify().request_id(), 5u);
  EXPECT_EQ(h->actor->connections().size(), 0u);
  EXPECT_EQ(h->actor->counters().resolve_failures, 2u);
}

TEST_F(ConnActive, ResolutionsAreSharedAndCached) {
  h->open(kPeerIp, 80, 1, 1);
  h->open(kPeerIp, 81, 2, 2);
  auto resolves = h->envelopes(Envelope::kResolveRequest);
  ASSERT_EQ(resolves.size(), 1u);
  h->respond_resolved(resolves[0], kPeerMac);
  EXPECT_EQ(h->packet_outs().size(), 2u);
  h->open(kPeerIp, 82, 3, 3);  // cached: no new request
  EXPECT_EQ(h->envelopes(Envelope::kResolveRequest).size(), 1u);
  EXPECT_EQ(h->packet_outs().size(), 3u);
  h->runner->advance(h->config.arp_cache_ttl);
  h->open(kPeerIp, 83, 4, 4);  // expired: ask again
  EXPECT_EQ(h->envelopes(Envelope::kResolveRequest).size(), 2u);
}

TEST_F(ConnActive, ArpRestartAsksAgain) {
  h->open(kPeerIp, 80, 1, 1);
  supervisor::ActorEvent e;
  e.set_actor("arp");
  e.set_kind(supervisor::ActorEvent::KIND_STARTED);
  h->runner->deliver_event("supervisor", e);
  auto resolves = h->envelopes(Envelope::kResolveRequest);
  ASSERT_EQ(resolves.size(), 2u);
  h->respond_resolved(resolves[1], kPeerMac);
  EXPECT_EQ(h->packet_outs().size(), 1u);
  // The first request timing out later does not fail the open.
  h->runner->advance(h->config.arp_request_timeout + milliseconds(1));
  EXPECT_EQ(h->actor->counters().resolve_failures, 0u);
  for (const auto& n : h->notifies()) EXPECT_NE(n.status(), -EHOSTUNREACH);
}

TEST(ConnActivePorts, PortsInUseAreSkippedAndExhaustionIsReported) {
  TempDir dir;
  ConnConfig c = test_config(dir.path());
  c.ephemeral_ports = {50000, 50001};
  Harness h(c);
  h.start();
  h.listen(50000, 1);  // a listener owns 50000
  h.open(kPeerIp, 80, 1, 2);
  h.respond_resolved(h.envelopes(Envelope::kResolveRequest)[0], kPeerMac);
  ASSERT_EQ(h.packet_outs().size(), 1u);
  EXPECT_EQ(parse_sent(h.packet_outs()[0].frame()).tcp.src_port, 50001);
  h.open(kPeerIp, 81, 2, 3);  // another destination may share 50001
  EXPECT_EQ(h.packet_outs().size(), 2u);
  EXPECT_EQ(parse_sent(h.packet_outs()[1].frame()).tcp.src_port, 50001);
  h.open(kPeerIp, 80, 3, 4);  // the same destination cannot
  EXPECT_EQ(h.last_notify().type(), AppNotify::TYPE_CONN_OPENED);
  EXPECT_EQ(h.last_notify().status(), -EADDRNOTAVAIL);
}

TEST(ConnActivePorts, PendingOpensPerAppAreBounded) {
  TempDir dir;
  ConnConfig c = test_config(dir.path());
  c.max_pending_opens_per_app = 2;
  Harness h(c);
  h.start();
  h.open(kPeerIp, 80, 1, 1);
  h.open(kPeerIp, 81, 2, 2);
  h.open(kPeerIp, 82, 3, 3);
  EXPECT_EQ(h.last_notify().status(), -ENOBUFS);
  EXPECT_EQ(h.actor->connections().size(), 2u);
}

}  // namespace
}  // namespace vtas::conn
