// Passive handshakes across a kill -9 of conn: a SYN-RECEIVED entry (our SYN-ACK is out) and
// a completed handshake waiting for the app's accept are in the registry, so the restarted
// conn completes them exactly as the first incarnation would have, instead of answering the
// peer's third ACK or first data with a RST (found by the 100-kill reliability suite).
#include <gtest/gtest.h>

#include "components/slowpath/tests/conn_test_support.h"

namespace vtas::conn {
namespace {

using namespace vtas::conn::testing;
using fastpath::AppNotify;
using std::chrono::milliseconds;

uint64_t rsts_in(const std::vector<fastpath::PacketOut>& outs) {
  uint64_t n = 0;
  for (const auto& o : outs) {
    if (!o.frame().empty() && (parse_sent(o.frame()).tcp.flags & wire::kTcpRst)) ++n;
  }
  return n;
}

TEST(ConnRestartHandshake, SynReceivedSurvivesAndTheThirdAckCompletesIt) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  const uint32_t l = h->open_listener(80, 1);
  h->accept(l, 0xfeed, 2, /*context=*/3);
  PeerSegment syn;
  h->segment(syn, 7);
  const uint32_t isn = h->last_syn_ack(syn).tcp.seq;
  const PeerSegment ack = h->third_ack(syn);

  auto h2 = restart(dir, *h, milliseconds(3));
  EXPECT_EQ(h2->actor->syn_received().size(), 1u);
  EXPECT_EQ(h2->actor->counters().registry_dropped, 0u);
  h2->segment(ack, 7);
  EXPECT_EQ(rsts_in(h2->packet_outs()), 0u);
  const auto installs = h2->install_requests();
  ASSERT_EQ(installs.size(), 1u);
  const auto& i = installs[0].install_flow();
  EXPECT_EQ(i.tx_next_seq(), isn + 1);
  EXPECT_EQ(i.rx_next_seq(), 1001u);
  EXPECT_EQ(i.snd_wscale(), 7u);  // the SYN's options, which the ACK does not repeat
  EXPECT_EQ(i.rcv_wscale(), 3u);
  EXPECT_TRUE(i.timestamps());
  EXPECT_EQ(i.ts_recent(), 778u);
  EXPECT_EQ(i.flow_group(), 7u);
  EXPECT_EQ(i.notify().type(), AppNotify::TYPE_ACCEPTED);
  EXPECT_EQ(i.notify().opaque(), 0xfeedu);
  EXPECT_EQ(i.notify().context_id(), 3u);
  EXPECT_EQ(h2->actor->syn_received().size(), 0u);

  // The record went with the handshake: a third incarnation has nothing half-open.
  auto h3 = restart(dir, *h2);
  EXPECT_EQ(h3->actor->syn_received().size(), 0u);
  EXPECT_EQ(h3->actor->connections().size(), 1u);
  EXPECT_EQ(h3->actor->counters().registry_dropped, 0u);
}

TEST(ConnRestartHandshake, SynAckRetransmissionResumesWhereItWas) {
  TempDir dir;
  ConnConfig c = test_config(dir.path());
  c.handshake_timeout_us = 10000;
  c.handshake_retries = 2;
  auto h = std::make_unique<Harness>(c);
  h->start();
  h->open_listener(80, 1);
  h->clear();
  PeerSegment syn;
  h->segment(syn);
  h->runner->advance(milliseconds(10));  // first retransmission; the next one waits 20 ms
  ASSERT_EQ(h->packet_outs().size(), 2u);
  const std::string syn_ack = h->packet_outs()[0].frame();

  auto h2 = restart(dir, *h, milliseconds(5), c);
  h2->runner->advance(milliseconds(14));
  EXPECT_TRUE(h2->packet_outs().empty()) << "due 20 ms after the first retransmission";
  h2->runner->advance(milliseconds(1));
  ASSERT_EQ(h2->packet_outs().size(), 1u);
  EXPECT_EQ(h2->packet_outs()[0].frame(), syn_ack);
  // The retry count went on too: that was the last one (2 retries), then the entry expires.
  h2->runner->advance(milliseconds(100));
  EXPECT_EQ(h2->packet_outs().size(), 1u);
  EXPECT_EQ(h2->actor->syn_received().size(), 0u);
  EXPECT_EQ(h2->actor->counters().half_open_expired, 1u);
  auto h3 = restart(dir, *h2, milliseconds(1), c);
  EXPECT_EQ(h3->actor->syn_received().size(), 0u);
}

TEST(ConnRestartHandshake, CompletedHandshakeWaitingForAnAcceptSurvives) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  const uint32_t l = h->open_listener(80, 1);
  PeerSegment syn;
  h->segment(syn, 7);
  const uint32_t isn = h->last_syn_ack(syn).tcp.seq;
  h->segment(h->third_ack(syn), 7);
  ASSERT_EQ(h->last_notify().type(), AppNotify::TYPE_LISTEN_NEW_CONN);
  PeerSegment data = h->third_ack(syn);
  data.payload = "early";

  auto h2 = restart(dir, *h);
  EXPECT_EQ(h2->actor->listeners().queued_syns(), 1u);
  // The peer's request before the accept: held, not reset.
  h2->segment(data, 7);
  EXPECT_EQ(rsts_in(h2->packet_outs()), 0u);
  h2->accept(l, 0xabc, 2);
  const auto installs = h2->install_requests();
  ASSERT_EQ(installs.size(), 1u);
  const auto& i = installs[0].install_flow();
  EXPECT_EQ(i.tx_next_seq(), isn + 1);
  EXPECT_EQ(i.rx_next_seq(), 1001u);
  EXPECT_EQ(i.snd_wscale(), 7u);
  EXPECT_EQ(i.ts_recent(), 778u);  // the third ACK's TSval
  EXPECT_EQ(i.notify().opaque(), 0xabcu);
  h2->clear();
  h2->respond_installed(installs[0], 11);
  const auto outs = h2->packet_outs();
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_TRUE(outs[0].receive());
  EXPECT_NE(outs[0].frame().find("early"), std::string::npos);
}

TEST(ConnRestartHandshake, CookieHandshakeWaitingForAnAcceptSurvives) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  const uint32_t l = h->open_listener(80, 1, /*backlog=*/2);
  PeerSegment a, b, cookie;
  a.src_port = 41000;
  b.src_port = 41001;
  cookie.src_port = 41002;
  h->segment(a);
  h->segment(b);
  h->segment(cookie);  // the SYN-RECEIVED share (2) is full: a cookie
  ASSERT_EQ(h->actor->counters().syn_cookies_sent, 1u);
  h->segment(h->third_ack(cookie));
  ASSERT_EQ(h->actor->counters().syn_cookies_accepted, 1u);

  auto h2 = restart(dir, *h);
  EXPECT_EQ(h2->actor->listeners().queued_syns(), 1u);
  EXPECT_EQ(h2->actor->syn_received().size(), 2u);
  h2->accept(l, 0xc0c, 2);
  const auto installs = h2->install_requests();
  ASSERT_EQ(installs.size(), 1u);
  EXPECT_EQ(installs[0].install_flow().rx_next_seq(), 1001u);
  EXPECT_EQ(installs[0].install_flow().remote_port(), 41002u);
  EXPECT_FALSE(installs[0].install_flow().timestamps());  // a cookie keeps the MSS only
}

TEST(ConnRestartHandshake, ClosedListenersAndExpiredEntriesLeaveNoRecords) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  const uint32_t l80 = h->open_listener(80, 1);
  h->open_listener(81, 2);
  PeerSegment half, done, waiting;
  half.src_port = 42000;
  done.src_port = 42001;
  h->segment(half);
  h->handshake(done);
  waiting.dst_port = 81;
  h->handshake(waiting);
  h->request([&] {
    auto r = h->base_request(fastpath::AppRequestIn::TYPE_LISTEN_CLOSE, 3);
    r.set_listener_id(l80);
    return r;
  }());
  // The backlog entry of port 81 expires (backlog_syn_lifetime) at a housekeeping round.
  h->runner->advance(h->config.backlog_syn_lifetime + std::chrono::seconds(2));
  ASSERT_EQ(h->actor->listeners().queued_syns(), 0u);

  auto h2 = restart(dir, *h);
  EXPECT_EQ(h2->actor->syn_received().size(), 0u);
  EXPECT_EQ(h2->actor->listeners().queued_syns(), 0u);
  EXPECT_EQ(h2->actor->counters().registry_dropped, 0u) << "erased, not left to be dropped";
}

TEST(ConnRestartHandshake, RecordLeftBesideItsConnectionIsDropped) {
  // conn died after writing the connection record and before erasing the handshake's.
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  const uint32_t l = h->open_listener(80, 1);
  h->accept(l, 0xfeed, 2);
  PeerSegment syn;
  h->segment(syn);
  h->segment(h->third_ack(syn));
  ASSERT_EQ(h->install_requests().size(), 1u);
  const auto before = h->runner->fake_clock.now();
  h->actor.reset();
  {
    auto r = ConnRegistry::open(dir.path() + "/conn.registry",
                                test_config(dir.path()).registry_capacity,
                                ConnRegistry::Mode::kResume);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->take_contents().handshakes.empty());
    BacklogSyn leftover;
    leftover.syn.tuple = peer_tuple();
    HandshakeRecord rec = handshake_record_of(leftover, l, HandshakeStage::kSynReceived);
    rec.rto_us = 10000;
    ASSERT_TRUE(r->handshakes().insert(rec));
  }
  Harness h2(dir);
  h2.start_time = before;
  h2.start(2);
  EXPECT_EQ(h2.actor->syn_received().size(), 0u);
  EXPECT_EQ(h2.actor->connections().size(), 1u);
  EXPECT_EQ(h2.actor->counters().registry_dropped, 1u);
}

}  // namespace
}  // namespace vtas::conn
