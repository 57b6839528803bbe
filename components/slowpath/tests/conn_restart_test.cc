// The conn actor across a kill -9: a second instance on the same registry file resumes
// listeners, posted accepts, TIME_WAIT entries, handshakes in progress and installs in
// flight; requests the fast path relays again are not executed twice; a damaged registry
// loses only the damaged entries.
#include <gtest/gtest.h>

#include <cerrno>

#include "components/slowpath/tests/conn_test_support.h"

namespace vtas::conn {
namespace {

using namespace vtas::conn::testing;
using fastpath::AppNotify;
using fastpath::FlowEvent;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ConnRestart, ListenersAcceptsAndTimeWaitSurvive) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  const uint32_t l = h->open_listener(8080, 1, 16, false, /*context=*/3);
  h->accept(l, 0xa1, 2, /*context=*/4);
  h->accept(l, 0xa2, 3, /*context=*/4);
  h->establish_passive(11);  // listener 80, flow 11
  h->close(11, 20);
  h->flow_event(11, FlowEvent::KIND_TX_FIN_ACKED);
  h->flow_event(11, FlowEvent::KIND_RX_FIN);
  h->flow_event(11, FlowEvent::KIND_CLOSED);
  fastpath::FlowInfo info;
  info.set_ok(true);
  info.set_flow_id(11);
  info.set_tx_next_seq(7001);
  info.set_rx_next_seq(3001);
  h->runner->respond(h->envelopes(Envelope::kFlowQuery).back(), info);
  h->ack_removals();
  ASSERT_EQ(h->actor->time_wait().size(), 1u);

  auto h2 = restart(dir, *h);
  EXPECT_EQ(h2->actor->listeners().size(), 2u);
  EXPECT_EQ(h2->actor->listeners().accepts_posted(), 2u);
  EXPECT_EQ(h2->actor->time_wait().size(), 1u);
  EXPECT_EQ(h2->actor->connections().size(), 0u);
  EXPECT_GT(h2->actor->counters().registry_restored, 0u);
  EXPECT_EQ(h2->actor->counters().registry_dropped, 0u);

  // A SYN to the restored listener takes the first restored accept.
  PeerSegment syn;
  syn.dst_port = 8080;
  syn.src_port = 45000;
  h2->handshake(syn);
  auto installs = h2->install_requests();
  ASSERT_EQ(installs.size(), 1u);
  EXPECT_EQ(installs[0].install_flow().opaque(), 0xa1u);
  EXPECT_EQ(installs[0].install_flow().context_id(), 4u);
  EXPECT_EQ(installs[0].install_flow().notify().listener_id(), l);
  EXPECT_EQ(installs[0].install_flow().notify().request_id(), 2u);

  // The TIME_WAIT entry still answers a retransmitted FIN with the right numbers.
  PeerSegment fin;
  fin.flags = wire::kTcpFin | wire::kTcpAck;
  fin.seq = 3000;
  fin.ack = 7001;
  h2->clear();
  h2->segment(fin);
  auto outs = h2->packet_outs();
  ASSERT_EQ(outs.size(), 1u);
  wire::Frame ack = parse_sent(outs[0].frame());
  EXPECT_EQ(ack.tcp.flags, wire::kTcpAck);
  EXPECT_EQ(ack.tcp.seq, 7001u);
  EXPECT_EQ(ack.tcp.ack, 3001u);

  // Ids continue: a new listener gets an id never used before.
  const uint32_t l3 = h2->open_listener(9090, 30);
  EXPECT_GT(l3, l);
  EXPECT_GT(l3, h->listener_80);
}

TEST(ConnRestart, ARemovalNotConfirmedBeforeTheKillIsSentAgain) {
  // RemoveFlow is queued in ZeroMQ when conn dies: it may never have left. The record stays
  // until the fast path confirms, so the next incarnation sends it again (marked as a
  // repeat: the fast path tells the app only if this one removes the flow).
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->establish_passive(11);
  h->close(11, 20);
  h->flow_event(11, FlowEvent::KIND_RX_FIN);
  h->flow_event(11, FlowEvent::KIND_CLOSED);  // passive close: linger, then removal
  ASSERT_EQ(h->removes().size(), 1u);
  EXPECT_FALSE(h->removes()[0].resend());

  auto h2 = restart(dir, *h);
  EXPECT_EQ(h2->actor->counters().registry_dropped, 0u);
  EXPECT_EQ(h2->actor->time_wait().size(), 1u) << "the linger entry written beside it stays";
  auto removes = h2->removes();
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_TRUE(removes[0].resend());
  EXPECT_EQ(removes[0].flow_id(), 11u);
  EXPECT_EQ(removes[0].notify().request_id(), 20u);
  EXPECT_EQ(h2->actor->connections().size(), 1u);
  h2->ack_removals();
  EXPECT_EQ(h2->actor->connections().size(), 0u);
}

TEST(ConnRestart, OfTwoRecordsNamingOneFlowIdTheOneBeingRemovedIsStale) {
  // The fast path removed A's flow and reused the id for B; the answer to A's removal died
  // with conn, so the registry holds both. B is the live one: dropping it would leave its
  // flow installed for ever (its app's close would find A, "already closing").
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->establish_passive(11);
  h->close(11, 20);
  h->flow_event(11, FlowEvent::KIND_RX_FIN);
  h->flow_event(11, FlowEvent::KIND_CLOSED);
  ASSERT_EQ(h->removes().size(), 1u);
  h->actor.reset();
  {
    auto r = reopen_registry(dir);
    ASSERT_TRUE(r);
    auto contents = r->take_contents();
    ASSERT_EQ(contents.conns.size(), 1u);
    ConnRecord b = contents.conns[0].second;
    ASSERT_NE(b.flags & kConnRemoveSent, 0u);
    b.conn_id += 100;
    b.remote_port = 40111;
    b.opaque = 0xb;
    b.state = static_cast<uint8_t>(ConnState::kEstablished);
    b.flags &= ~(kConnRemoveSent | kConnAppClosed | kConnFlowClosed);
    ASSERT_TRUE(r->conns().insert(b));
  }
  auto h2 = restart(dir, *h);
  ASSERT_EQ(h2->actor->connections().size(), 1u);
  EXPECT_EQ(h2->actor->connections().count(ConnState::kEstablished), 1u);
  EXPECT_TRUE(h2->removes().empty()) << "A's removal is not sent again: B holds the id";
  h2->close(11, 30);  // B's close, with B's cookie
  EXPECT_EQ(h2->actor->connections().count(ConnState::kClosing), 1u);
  EXPECT_EQ(h2->actor->counters().stale_closes, 0u);
}

TEST(ConnRestart, AnAcceptAConnectionAlreadyUsedIsNotPostedAgain) {
  // A kill between writing a connection record and erasing the accept it used leaves both in
  // the registry: posted again, the accept would hand a second connection to the same
  // connection object of the app.
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->establish_passive(11);
  ASSERT_EQ(h->actor->listeners().accepts_posted(), 0u);
  AcceptRecord used{};
  used.listener_id = h->listener_80;
  used.app_id = kAppId;
  used.context_id = 0;
  used.request_id = 9000 + 11;  // establish_passive's accept
  used.opaque = 0xacce0000 + 11;
  used.order = 1;
  h->actor.reset();
  {
    auto r = reopen_registry(dir);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->accepts().insert(used));
  }
  auto h2 = restart(dir, *h);
  EXPECT_EQ(h2->actor->listeners().accepts_posted(), 0u);
  EXPECT_EQ(h2->actor->counters().registry_dropped, 1u);
  EXPECT_EQ(h2->actor->connections().size(), 1u);
}

TEST(ConnRestart, TwoRecordsOfOneAcceptRequestPostItOnce) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  const uint32_t l = h->open_listener(80, 1);
  h->accept(l, 0xa1, 2);
  h->actor.reset();
  {
    auto r = reopen_registry(dir);
    ASSERT_TRUE(r);
    auto contents = r->take_contents();
    ASSERT_EQ(contents.accepts.size(), 1u);
    AcceptRecord copy = contents.accepts[0].second;
    copy.order += 1;
    ASSERT_TRUE(r->accepts().insert(copy));
  }
  auto h2 = restart(dir, *h);
  EXPECT_EQ(h2->actor->listeners().accepts_posted(), 1u);
  EXPECT_EQ(h2->actor->counters().registry_dropped, 1u);
}

TEST(ConnRestart, FirstIncarnationStartsFresh) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->open_listener(8080, 1);
  auto h2 = std::make_unique<Harness>(dir);
  h2->start(/*incarnation=*/1);
  EXPECT_EQ(h2->actor->listeners().size(), 0u);
}

TEST(ConnRestart, HandshakeInProgressIsResumedWithItsTimer) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->open(kPeerIp, 80, 0x77, 5);
  h->respond_resolved(h->envelopes(Envelope::kResolveRequest)[0], kPeerMac);
  wire::Frame syn = parse_sent(h->packet_outs()[0].frame());
  const uint64_t key = h->arms()[0].key();

  auto h2 = restart(dir, *h, milliseconds(4));
  auto arms = h2->arms();
  ASSERT_EQ(arms.size(), 1u);
  EXPECT_EQ(arms[0].key(), key);
  EXPECT_EQ(arms[0].delay_us(), 6000u);  // 10 ms armed, 4 ms gone
  // The timer fires in the new incarnation: the same SYN again.
  h2->timer_fired(key);
  ASSERT_EQ(h2->packet_outs().size(), 1u);
  wire::Frame again = parse_sent(h2->packet_outs()[0].frame());
  EXPECT_EQ(again.tcp.seq, syn.tcp.seq);
  EXPECT_EQ(again.tcp.src_port, syn.tcp.src_port);
  // And the SYN-ACK completes the open the app asked the old incarnation for.
  PeerSegment sa;
  sa.src_port = 80;
  sa.dst_port = syn.tcp.src_port;
  sa.flags = wire::kTcpSyn | wire::kTcpAck;
  sa.seq = 1;
  sa.ack = syn.tcp.seq + 1;
  h2->segment(sa);
  auto installs = h2->install_requests();
  ASSERT_EQ(installs.size(), 1u);
  EXPECT_EQ(installs[0].install_flow().notify().type(), AppNotify::TYPE_CONN_OPENED);
  EXPECT_EQ(installs[0].install_flow().notify().request_id(), 5u);
  EXPECT_EQ(installs[0].install_flow().opaque(), 0x77u);
}

TEST(ConnRestart, ResolutionInProgressIsAskedAgain) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->open(kPeerIp, 80, 0x77, 5);
  auto h2 = restart(dir, *h);
  auto resolves = h2->envelopes(Envelope::kResolveRequest);
  ASSERT_EQ(resolves.size(), 1u);
  h2->respond_resolved(resolves[0], kPeerMac);
  EXPECT_EQ(h2->packet_outs().size(), 1u);
}

TEST(ConnRestart, InstallInFlightIsSentAgain) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  const uint32_t l = h->open_listener(80, 1);
  h->accept(l, 0xc1, 2);
  h->handshake(PeerSegment{});
  ASSERT_EQ(h->install_requests().size(), 1u);
  const auto first = h->install_requests()[0].install_flow();

  auto h2 = restart(dir, *h);
  auto installs = h2->install_requests();
  ASSERT_EQ(installs.size(), 1u);
  EXPECT_EQ(installs[0].install_flow().tx_next_seq(), first.tx_next_seq());
  EXPECT_EQ(installs[0].install_flow().packet().frame(), first.packet().frame());
  EXPECT_EQ(installs[0].install_flow().opaque(), 0xc1u);
  h2->respond_installed(installs[0], 31);
  EXPECT_EQ(h2->actor->connections().count(ConnState::kEstablished), 1u);
  // The established flow's events reach the new incarnation's record.
  h2->flow_event(31, FlowEvent::KIND_RESET);
  ASSERT_EQ(h2->removes().size(), 1u);
  EXPECT_EQ(h2->removes()[0].notify().opaque(), 0xc1u);
}

TEST(ConnRestart, ACloseBeforeTheRepeatedInstallIsAnsweredIsRefusedForNow) {
  // The app has its flow (the fast path installed it and told the app) but the answer went
  // to the killed incarnation: the new one does not know the flow id until its repeated
  // install is answered. A close meanwhile gets "ask again", not EBADF.
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  const uint32_t l = h->open_listener(80, 1);
  h->accept(l, 0xc1, 2);
  h->handshake(PeerSegment{});
  auto h2 = restart(dir, *h);
  h2->close(31, 40, false, 0, kAppId, /*opaque=*/0xc1);
  EXPECT_EQ(h2->last_notify().type(), AppNotify::TYPE_CONN_CLOSED);
  EXPECT_EQ(h2->last_notify().status(), -ENOBUFS);
  EXPECT_EQ(h2->actor->counters().closes_deferred, 1u);
  // A close of a connection conn does not know at all is EBADF, installs or not.
  h2->close(77, 42, false, 0, kAppId, /*opaque=*/0xbad);
  EXPECT_EQ(h2->last_notify().status(), -EBADF);
  h2->respond_installed(h2->install_requests()[0], 31);
  h2->close(31, 41);  // libvtas asks again
  EXPECT_EQ(h2->actor->connections().count(ConnState::kClosing), 1u);
}

TEST(ConnRestart, ACloseMeetingAStaleRecordOfItsFlowIdWaitsForTheInstall) {
  // After a restart, a record whose removal was under way can still hold a flow id the fast
  // path already gave the next connection, which conn knows only once its repeated install
  // is answered. The app's close for that connection names the id: it must not be taken as
  // stale (EBADF: the app would forget a connection conn then never closes).
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->establish_passive(11);  // A, cookie 0xacce000b
  h->close(11, 20);
  h->flow_event(11, FlowEvent::KIND_RX_FIN);
  h->flow_event(11, FlowEvent::KIND_CLOSED);  // A's removal sent, not confirmed
  h->accept(h->listener_80, 0xb0b, 21);
  PeerSegment syn;
  syn.src_port = 40200;
  h->handshake(syn);  // B, being installed when conn dies
  auto h2 = restart(dir, *h);
  h2->close(11, 50, false, 0, kAppId, /*opaque=*/0xb0b);  // B got flow 11
  EXPECT_EQ(h2->last_notify().status(), -ENOBUFS);
  EXPECT_EQ(h2->actor->counters().stale_closes, 0u);
}

TEST(ConnRestart, RelayedRequestsAreNotExecutedTwice) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->listen(80, 1);
  const uint32_t l = h->last_notify().listener_id();
  h->accept(l, 0xd1, 2);
  h->listen(80, 3);  // refused: the answer is logged too
  ASSERT_EQ(h->last_notify().status(), -EADDRINUSE);

  auto h2 = restart(dir, *h);
  // The fast path relays the three requests again (it never saw them answered).
  h2->listen(80, 1);
  auto n = h2->notifies();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].type(), AppNotify::TYPE_LISTEN_OPENED);
  EXPECT_EQ(n[0].status(), 0);
  EXPECT_EQ(n[0].listener_id(), l);  // the same listener, answered again
  EXPECT_EQ(h2->actor->listeners().size(), 1u);
  h2->accept(l, 0xd1, 2);
  EXPECT_EQ(h2->actor->listeners().accepts_posted(), 1u);
  h2->listen(80, 3);
  EXPECT_EQ(h2->last_notify().status(), -EADDRINUSE);
  EXPECT_EQ(h2->last_notify().request_id(), 3u);
  EXPECT_EQ(h2->actor->counters().app_requests_duplicate, 3u);
  // New requests still run.
  h2->accept(l, 0xd2, 4);
  EXPECT_EQ(h2->actor->listeners().accepts_posted(), 2u);
}

TEST(ConnRestart, RequestsDeduplicatedWithinOneIncarnationToo) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.open(kPeerIp, 80, 1, 7);
  h.open(kPeerIp, 80, 1, 7);
  EXPECT_EQ(h.actor->connections().size(), 1u);
  EXPECT_EQ(h.actor->counters().app_requests_duplicate, 1u);
}

TEST(ConnRestart, DamagedEntriesAreDroppedTheRestResumes) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->open_listener(8080, 1);
  h->open_listener(8081, 2);
  h->actor.reset();  // unmap (the file stays, as after a kill)
  {
    // Damage: the first listener's slot is torn in both copies; a whole but meaningless
    // connection record is added.
    auto r = reopen_registry(dir);
    ASSERT_TRUE(r);
    auto contents = r->take_contents();
    ASSERT_EQ(contents.listeners.size(), 2u);
    auto* raw = r->listeners().raw_slot(contents.listeners[0].first);
    raw->copies[0].record.local_port ^= 0xff;
    raw->copies[1].record.local_port ^= 0xff;
    ConnRecord garbage{};
    garbage.conn_id = 99;
    garbage.state = 42;
    ASSERT_TRUE(r->conns().insert(garbage));
  }
  Harness h2(dir);
  h2.start_time = h->runner->fake_clock.now();
  h2.start(2);
  EXPECT_EQ(h2.actor->listeners().size(), 1u);
  EXPECT_EQ(h2.actor->connections().size(), 0u);
  EXPECT_EQ(h2.actor->counters().registry_dropped, 2u);
  // The survivor works.
  PeerSegment syn;
  syn.dst_port = 8081;
  h2.handshake(syn);
  EXPECT_EQ(h2.notifies().size(), 1u);  // LISTEN_NEW_CONN
}

TEST(ConnRestart, ExpiredTimeWaitEntriesGoAtTheFirstHousekeeping) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->establish_passive(11);
  h->close(11, 20);
  h->flow_event(11, FlowEvent::KIND_TX_FIN_ACKED);
  h->flow_event(11, FlowEvent::KIND_CLOSED);
  h->runner->advance(h->config.flow_query_timeout + milliseconds(1));
  ASSERT_EQ(h->actor->time_wait().size(), 1u);
  auto h2 = restart(dir, *h, h->config.time_wait + seconds(1));
  EXPECT_EQ(h2->actor->time_wait().size(), 1u);
  h2->runner->advance(seconds(1));
  EXPECT_EQ(h2->actor->time_wait().size(), 0u);
}

}  // namespace
}  // namespace vtas::conn

namespace vtas::conn {
namespace {

using namespace vtas::conn::testing;

TEST(ConnRestartWindow, RequestExecutedButNotLoggedIsNotRunAgain) {
  // conn died after writing the listener but before its request-log entry.
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->listen(80, 1);
  const uint32_t l = h->last_notify().listener_id();
  const auto before = h->runner->fake_clock.now();
  h->actor.reset();
  ASSERT_TRUE(forget_request_log(dir));
  Harness h2(dir);
  h2.start_time = before;
  h2.start(2);
  h2.listen(80, 1);
  auto n = h2.notifies();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].status(), 0);
  EXPECT_EQ(n[0].listener_id(), l);
  EXPECT_EQ(h2.actor->listeners().size(), 1u);
  EXPECT_EQ(h2.actor->counters().app_requests_duplicate, 1u);
}

TEST(ConnRestartWindow, APendingAcceptWhoseLogEntryWasEvictedIsPostedOnceWhateverTheCopies) {
  // An accept waits long; meanwhile other requests push its log entry out (seen under
  // connection churn). After a restart the fast path relays it again, and ZeroMQ may deliver
  // the copy it held for the new incarnation as well: a second accept with the same
  // connection object would hand two connections to one flextcp_connection, and one of them
  // would never be read.
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  const uint32_t l = h->open_listener(80, 1);
  h->accept(l, 0xd1, 2);
  h->actor.reset();
  ASSERT_TRUE(forget_request_log(dir));
  auto h2 = restart(dir, *h);
  for (int copy = 0; copy < 3; ++copy) h2->accept(l, 0xd1, 2);
  EXPECT_EQ(h2->actor->listeners().accepts_posted(), 1u);
  EXPECT_EQ(h2->actor->counters().app_requests_duplicate, 3u);
  // The accept still works, once.
  PeerSegment syn;
  syn.src_port = 40001;
  h2->handshake(syn);
  EXPECT_EQ(h2->actor->connections().count(ConnState::kInstalling), 1u);
  EXPECT_EQ(h2->actor->listeners().accepts_posted(), 0u);
}

}  // namespace
}  // namespace vtas::conn
