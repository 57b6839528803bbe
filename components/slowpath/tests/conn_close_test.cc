// The conn actor end to end, the end of connections: graceful closes from either side,
// TIME_WAIT (FIN retransmissions, reuse of the tuple, expiry), resets, abortive closes, the
// close timeout, and app detach.
#include <gtest/gtest.h>

#include <cerrno>

#include "components/fastpath/abi/flow_state.h"
#include "components/slowpath/tests/conn_test_support.h"

namespace vtas::conn {
namespace {

using namespace vtas::conn::testing;
using fastpath::AppNotify;
using fastpath::FlowEvent;
using std::chrono::seconds;

constexpr uint32_t kFlow = 11;

void respond_flow_info(Harness& h, uint32_t flow_id, uint32_t tx_next, uint32_t rx_next) {
  auto queries = h.envelopes(Envelope::kFlowQuery);
  ASSERT_FALSE(queries.empty());
  EXPECT_EQ(queries.back().flow_query().flow_id(), flow_id);
  fastpath::FlowInfo info;
  info.set_ok(true);
  info.set_flow_id(flow_id);
  info.set_tx_next_seq(tx_next);
  info.set_rx_next_seq(rx_next);
  h.runner->respond(queries.back(), info);
}

// We close first: our FIN is acknowledged before the peer's arrives.
void close_actively(Harness& h, uint32_t flow_id, uint32_t request_id) {
  h.close(flow_id, request_id);
  h.flow_event(flow_id, FlowEvent::KIND_TX_FIN_ACKED);
  h.flow_event(flow_id, FlowEvent::KIND_RX_FIN);
  h.flow_event(flow_id, FlowEvent::KIND_CLOSED);
}

TEST(ConnClose, ActiveCloseEndsInTimeWait) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.clear();
  h.close(kFlow, 50, false, /*context=*/2);
  EXPECT_TRUE(h.removes().empty());  // graceful: wait for the FINs
  h.flow_event(kFlow, FlowEvent::KIND_TX_FIN_ACKED);
  h.flow_event(kFlow, FlowEvent::KIND_RX_FIN);
  EXPECT_TRUE(h.removes().empty());
  h.flow_event(kFlow, FlowEvent::KIND_CLOSED);
  EXPECT_TRUE(h.removes().empty());  // first the sequence numbers for TIME_WAIT
  respond_flow_info(h, kFlow, 7001, 3001);
  auto removes = h.removes();
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].flow_id(), kFlow);
  EXPECT_FALSE(removes[0].send_reset());
  EXPECT_EQ(removes[0].notify().type(), AppNotify::TYPE_CONN_CLOSED);
  EXPECT_EQ(removes[0].notify().status(), 0);
  EXPECT_EQ(removes[0].notify().request_id(), 50u);
  EXPECT_EQ(removes[0].notify().context_id(), 2u);
  EXPECT_EQ(h.actor->connections().size(), 1u) << "kept until the fast path confirms";
  h.ack_removals();
  EXPECT_EQ(h.actor->connections().size(), 0u);
  ASSERT_EQ(h.actor->time_wait().size(), 1u);
  EXPECT_EQ(h.actor->counters().time_wait_entered, 1u);

  // The peer did not get our last ACK: its FIN comes again and is answered.
  h.clear();
  PeerSegment fin;
  fin.flags = wire::kTcpFin | wire::kTcpAck;
  fin.seq = 3000;
  fin.ack = 7001;
  fin.tsval = 900;
  fin.mss = fin.wscale = fin.sack_permitted = false;
  h.segment(fin, 4);
  auto outs = h.packet_outs();
  ASSERT_EQ(outs.size(), 1u);
  wire::Frame ack = parse_sent(outs[0].frame());
  EXPECT_EQ(ack.tcp.flags, wire::kTcpAck);
  EXPECT_EQ(ack.tcp.seq, 7001u);
  EXPECT_EQ(ack.tcp.ack, 3001u);
  EXPECT_TRUE(ack.tcp.options.has_timestamps);
  EXPECT_EQ(ack.tcp.options.tsecr, 900u);
  EXPECT_TRUE(outs[0].stamp_timestamp());
  EXPECT_EQ(outs[0].flow_group(), 4u);
  EXPECT_EQ(h.actor->counters().time_wait_acks, 1u);

  // An old SYN for the tuple is not a new connection: it gets our ACK, not a SYN-ACK.
  h.accept(h.listener_80, 0x5, 60);
  PeerSegment old_syn;
  old_syn.seq = 1000;
  old_syn.tsval = 777;
  h.segment(old_syn);
  EXPECT_TRUE(h.install_requests().empty());
  EXPECT_EQ(h.packet_outs().size(), 2u);
  EXPECT_EQ(parse_sent(h.packet_outs()[1].frame()).tcp.flags, wire::kTcpAck);

  // After 2*MSL the tuple is free: a late FIN now finds nobody (RST).
  h.runner->advance(h.config.time_wait + seconds(1));
  EXPECT_EQ(h.actor->time_wait().size(), 0u);
  h.segment(fin);
  ASSERT_EQ(h.packet_outs().size(), 3u);
  EXPECT_EQ(parse_sent(h.packet_outs()[2].frame()).tcp.flags, wire::kTcpRst);
}

TEST(ConnClose, NewerSynReopensATimeWaitTuple) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  close_actively(h, kFlow, 50);
  respond_flow_info(h, kFlow, 7001, 3001);
  h.ack_removals();
  ASSERT_EQ(h.actor->time_wait().size(), 1u);
  h.accept(h.listener_80, 0x6, 61);
  PeerSegment syn;
  syn.seq = 90000;
  syn.tsval = 5000;  // newer than anything the old connection saw
  h.handshake(syn);
  EXPECT_EQ(h.actor->time_wait().size(), 0u);
  EXPECT_EQ(h.actor->counters().time_wait_reopened, 1u);
  auto installs = h.install_requests();
  ASSERT_EQ(installs.size(), 2u);
  EXPECT_EQ(installs[1].install_flow().rx_next_seq(), 90001u);
}

TEST(ConnClose, FlowQueryWithoutAnswerStillEndsInTimeWait) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  close_actively(h, kFlow, 50);
  h.runner->advance(h.config.flow_query_timeout + std::chrono::milliseconds(1));
  EXPECT_EQ(h.removes().size(), 1u);
  h.ack_removals();
  ASSERT_EQ(h.actor->time_wait().size(), 1u);
  // It answers from the peer's segment.
  h.clear();
  PeerSegment fin;
  fin.flags = wire::kTcpFin | wire::kTcpAck;
  fin.seq = 3000;
  fin.ack = 7001;
  h.segment(fin);
  ASSERT_EQ(h.packet_outs().size(), 1u);
  wire::Frame ack = parse_sent(h.packet_outs()[0].frame());
  EXPECT_EQ(ack.tcp.seq, 7001u);
  EXPECT_EQ(ack.tcp.ack, 3001u);
}

TEST(ConnClose, PassiveCloseHasNoTimeWaitOnlyAShortLinger) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.flow_event(kFlow, FlowEvent::KIND_RX_FIN);  // the peer closes first
  h.close(kFlow, 51);
  h.flow_event(kFlow, FlowEvent::KIND_TX_FIN_ACKED);
  h.flow_event(kFlow, FlowEvent::KIND_CLOSED);
  auto removes = h.removes();
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_FALSE(removes[0].send_reset());
  EXPECT_EQ(removes[0].notify().request_id(), 51u);
  EXPECT_TRUE(h.envelopes(Envelope::kFlowQuery).empty());
  EXPECT_EQ(h.actor->counters().time_wait_entered, 0u);
  EXPECT_EQ(h.actor->counters().close_lingers, 1u);
  h.ack_removals();

  // The peer's TIME_WAIT answering a FIN our timer resent: dropped, no RST.
  h.clear();
  PeerSegment late_ack;
  late_ack.flags = wire::kTcpAck;
  late_ack.seq = 3001;
  late_ack.ack = 7001;
  h.segment(late_ack);
  EXPECT_TRUE(h.packet_outs().empty());
  // The peer's FIN again (our ACK of it was lost): acknowledged.
  PeerSegment fin = late_ack;
  fin.flags = wire::kTcpFin | wire::kTcpAck;
  fin.seq = 3000;
  h.segment(fin);
  ASSERT_EQ(h.packet_outs().size(), 1u);
  wire::Frame ack = parse_sent(h.packet_outs()[0].frame());
  EXPECT_EQ(ack.tcp.flags & wire::kTcpRst, 0);
  EXPECT_EQ(ack.tcp.ack, 3001u);
  // A new SYN on the tuple opens a new connection at once (tested in ConnTimeWait for real
  // TIME_WAITs). The linger ends after kPassiveCloseLinger; then the tuple is unknown again.
  h.runner->advance(kPassiveCloseLinger + std::chrono::seconds(2));
  EXPECT_EQ(h.actor->time_wait().size(), 0u);
}

TEST(ConnClose, ASynReusingTheTupleDuringTheRemovalIsHandedBackAfterIt) {
  // The peer (in TIME_WAIT after our passive close) reuses the tuple before the fast path
  // dropped the flow (conn was restarting, say): the fast path hands the SYN over; conn
  // keeps it until the removal is confirmed, then replays it as a new connection's SYN.
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.flow_event(kFlow, FlowEvent::KIND_RX_FIN);
  h.close(kFlow, 51);
  h.flow_event(kFlow, FlowEvent::KIND_CLOSED);
  ASSERT_EQ(h.removes().size(), 1u);
  const size_t before = h.packet_outs().size();
  PeerSegment syn;  // same tuple as establish_passive's, a new ISN
  syn.seq = 900000;
  h.segment(syn, 3, kFlow);
  EXPECT_EQ(h.packet_outs().size(), before) << "no answer while the old flow is still there";
  h.ack_removals();
  const auto outs = h.packet_outs();
  ASSERT_EQ(outs.size(), before + 1);
  EXPECT_TRUE(outs.back().receive());
  const wire::Frame replayed = parse_sent(outs.back().frame());
  EXPECT_EQ(replayed.tcp.flags, wire::kTcpSyn);
  EXPECT_EQ(replayed.tcp.seq, 900000u);
  EXPECT_EQ(h.actor->connections().size(), 0u);
}

TEST(ConnClose, AStaleCloseForAReusedFlowIdClosesNothing) {
  // A close relayed again after a restart, seconds old: its flow id belongs to another
  // connection of the same app now (the cookie tells them apart).
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.close(kFlow, 60, false, 0, kAppId, /*opaque=*/0xdead);
  EXPECT_EQ(h.last_notify().type(), AppNotify::TYPE_CONN_CLOSED);
  EXPECT_EQ(h.last_notify().status(), -EBADF);
  EXPECT_EQ(h.actor->connections().count(ConnState::kEstablished), 1u);
  EXPECT_EQ(h.actor->counters().stale_closes, 1u);
  EXPECT_TRUE(h.removes().empty());
  h.close(kFlow, 61);  // the connection's own close still works
  EXPECT_EQ(h.actor->connections().count(ConnState::kClosing), 1u);
}

TEST(ConnClose, ACloseAfterTheRemovalStartedIsAnsweredAtOnce) {
  // The peer reset the connection: its removal (which answers no close) is under way when
  // the app's close comes. Unanswered, the close would stay in the fast path and be relayed
  // again after every conn restart, until its flow id named another connection.
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.flow_event(kFlow, FlowEvent::KIND_RESET);
  ASSERT_EQ(h.removes().size(), 1u);
  EXPECT_EQ(h.removes()[0].notify().request_id(), 0u);
  h.close(kFlow, 62);
  EXPECT_EQ(h.last_notify().type(), AppNotify::TYPE_CONN_CLOSED);
  EXPECT_EQ(h.last_notify().request_id(), 62u);
  EXPECT_EQ(h.last_notify().status(), 0);
  EXPECT_EQ(h.removes().size(), 1u);
}

TEST(ConnClose, ClosedFlowWaitsForTheAppBeforeItsBuffersGo) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.flow_event(kFlow, FlowEvent::KIND_RX_FIN);
  h.flow_event(kFlow, FlowEvent::KIND_TX_FIN_ACKED);
  h.flow_event(kFlow, FlowEvent::KIND_CLOSED);
  EXPECT_TRUE(h.removes().empty());  // the app may still read what arrived
  h.close(kFlow, 52);
  ASSERT_EQ(h.removes().size(), 1u);
  EXPECT_EQ(h.removes()[0].notify().request_id(), 52u);
}

TEST(ConnClose, PeerResetRemovesTheFlowAndTellsTheApp) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.flow_event(kFlow, FlowEvent::KIND_RESET);
  auto removes = h.removes();
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_FALSE(removes[0].send_reset());
  EXPECT_EQ(removes[0].notify().type(), AppNotify::TYPE_CONN_CLOSED);
  EXPECT_EQ(removes[0].notify().status(), -ECONNRESET);
  EXPECT_EQ(removes[0].notify().request_id(), 0u);
  EXPECT_EQ(removes[0].notify().opaque(), 0xacce0000u + kFlow);
  EXPECT_EQ(h.actor->time_wait().size(), 0u);
  EXPECT_EQ(h.actor->counters().resets_by_peer, 1u);
}

TEST(ConnClose, AbortiveCloseSendsRst) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.close(kFlow, 53, /*reset=*/true);
  auto removes = h.removes();
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_TRUE(removes[0].send_reset());
  EXPECT_EQ(removes[0].notify().status(), 0);
  EXPECT_EQ(removes[0].notify().request_id(), 53u);
  EXPECT_EQ(h.actor->time_wait().size(), 0u);
  EXPECT_EQ(h.actor->counters().aborts, 1u);
}

TEST(ConnClose, PeerThatNeverFinishesIsResetAfterTheCloseTimeout) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.close(kFlow, 54);
  h.flow_event(kFlow, FlowEvent::KIND_TX_FIN_ACKED);  // FIN_WAIT_2 forever
  h.runner->advance(h.config.close_timeout - seconds(2));
  EXPECT_TRUE(h.removes().empty());
  h.runner->advance(seconds(3));
  auto removes = h.removes();
  ASSERT_GE(removes.size(), 1u);  // and asked again each second until the fast path answers
  EXPECT_FALSE(removes[0].resend());
  EXPECT_TRUE(removes[0].send_reset());
  EXPECT_EQ(removes[0].notify().request_id(), 54u);
  EXPECT_EQ(h.actor->counters().close_timeouts, 1u);
}

// Advances the clock in 100 ms steps (at most 4 s) until conn sent a FlowQuery; returns them.
// What the fast path answers for a flow whose FINs both went through (the events were lost).
fastpath::FlowInfo both_fins_done(uint32_t flow_id) {
  fastpath::FlowInfo info;
  info.set_ok(true);
  info.set_flow_id(flow_id);
  info.set_flags(vtas::abi::kFlowActive | vtas::abi::kFlowTxFin | vtas::abi::kFlowTxFinSent |
                 vtas::abi::kFlowTxFinAcked | vtas::abi::kFlowRxFin);
  return info;
}

std::vector<Envelope> advance_until_flow_query(Harness& h) {
  for (int i = 0; i < 40 && h.envelopes(Envelope::kFlowQuery).empty(); ++i) {
    h.runner->advance(std::chrono::milliseconds(100));
  }
  return h.envelopes(Envelope::kFlowQuery);
}

// The FIN and CLOSED events were sent while conn was restarting and never arrived: the flow
// is closed on the fast path, the connection waits. After 2 s of closing conn asks the fast
// path and finishes the close from the flow's flags, long before the close timeout.
TEST(ConnClose, AFlowEventLostDuringARestartIsRecoveredFromTheFlow) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.close(kFlow, 55);
  h.clear();
  h.runner->advance(seconds(1));
  EXPECT_TRUE(h.envelopes(Envelope::kFlowQuery).empty()) << "a close may take a while";
  auto queries = advance_until_flow_query(h);
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_EQ(queries[0].flow_query().flow_id(), kFlow);
  EXPECT_EQ(h.actor->counters().flow_reconciles, 1u);
  fastpath::FlowInfo info = both_fins_done(kFlow);
  info.set_tx_next_seq(7001);
  info.set_rx_next_seq(3001);
  h.runner->respond(queries[0], info);
  EXPECT_EQ(h.actor->counters().flow_events_recovered, 1u);
  // Who closed first is unknown: TIME_WAIT is kept, after the usual sequence-number query.
  respond_flow_info(h, kFlow, 7001, 3001);
  auto removes = h.removes();
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_FALSE(removes[0].send_reset());
  EXPECT_EQ(removes[0].notify().status(), 0);
  EXPECT_EQ(removes[0].notify().request_id(), 55u);
  EXPECT_EQ(h.actor->time_wait().size(), 1u);
  EXPECT_EQ(h.actor->counters().close_timeouts, 0u);
}

// A close waiting for its flow when conn restarts: the events it waits for may have been sent
// while conn was down, so the new incarnation asks the fast path at once (not 2 s later:
// the peer may reuse the port by then and meet the old flow).
TEST(ConnClose, AClosingConnectionIsReconciledRightAfterARestart) {
  TempDir dir;
  auto h = std::make_unique<Harness>(dir);
  h->start();
  h->establish_passive(kFlow);
  h->close(kFlow, 57);
  auto h2 = restart(dir, *h, std::chrono::milliseconds(30));
  auto queries = h2->envelopes(Envelope::kFlowQuery);
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_EQ(queries[0].flow_query().flow_id(), kFlow);
  // It names the connection: if the id was reused meanwhile, the fast path says "no flow".
  EXPECT_EQ(queries[0].flow_query().expect().remote_port(), 40000u);
  EXPECT_EQ(queries[0].flow_query().expect().local_port(), 80u);
  fastpath::FlowInfo info = both_fins_done(kFlow);
  h2->runner->respond(queries[0], info);
  EXPECT_EQ(h2->actor->counters().flow_events_recovered, 1u);
  respond_flow_info(*h2, kFlow, 7001, 3001);
  ASSERT_EQ(h2->removes().size(), 1u);
  EXPECT_EQ(h2->removes()[0].notify().request_id(), 57u);
  EXPECT_EQ(h2->removes()[0].expect().remote_port(), 40000u);
}

// The fast path no longer has the flow at all: the close cannot finish; the app is told at
// once instead of after the close timeout.
TEST(ConnClose, AFlowTheFastPathNoLongerHasEndsTheClose) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.close(kFlow, 56);
  h.clear();
  auto queries = advance_until_flow_query(h);
  ASSERT_EQ(queries.size(), 1u);
  fastpath::FlowInfo info;
  info.set_ok(false);
  h.runner->respond(queries[0], info);
  auto removes = h.removes();
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].notify().request_id(), 56u);
  EXPECT_EQ(h.actor->counters().close_timeouts, 0u);
}

TEST(ConnClose, BadClosesAreAnsweredWithErrors) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  h.close(999, 70);
  EXPECT_EQ(h.last_notify().type(), AppNotify::TYPE_CONN_CLOSED);
  EXPECT_EQ(h.last_notify().status(), -EBADF);
  h.close(kFlow, 71, false, 0, /*app=*/77);  // not this app's connection
  EXPECT_EQ(h.last_notify().status(), -EBADF);
  EXPECT_EQ(h.last_notify().app_id(), 77u);
  h.close(kFlow, 72);
  h.close(kFlow, 73);
  EXPECT_EQ(h.last_notify().status(), -EALREADY);
  EXPECT_EQ(h.last_notify().request_id(), 73u);
}

TEST(ConnClose, ClosingAnOpenInProgressAbortsIt) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.open(kPeerIp, 80, 0xbeef, 1);
  h.respond_resolved(h.envelopes(Envelope::kResolveRequest)[0], kPeerMac);
  auto r = h.base_request(fastpath::AppRequestIn::TYPE_CONN_CLOSE, 2);
  r.set_opaque(0xbeef);
  h.request(r);
  auto n = h.notifies();
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].type(), AppNotify::TYPE_CONN_OPENED);
  EXPECT_EQ(n[0].status(), -ECONNABORTED);
  EXPECT_EQ(n[0].request_id(), 1u);
  EXPECT_EQ(n[1].type(), AppNotify::TYPE_CONN_CLOSED);
  EXPECT_EQ(n[1].status(), 0);
  EXPECT_EQ(h.actor->connections().size(), 0u);
  auto outs = h.packet_outs();
  ASSERT_EQ(outs.size(), 2u);  // SYN, then RST
  EXPECT_EQ(parse_sent(outs[1].frame()).tcp.flags, wire::kTcpRst);
}

TEST(ConnClose, UnknownFlowEventsDoNotLeakFlows) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.flow_event(44, FlowEvent::KIND_RX_FIN);
  EXPECT_TRUE(h.removes().empty());
  h.flow_event(44, FlowEvent::KIND_CLOSED);
  ASSERT_EQ(h.removes().size(), 1u);
  EXPECT_EQ(h.removes()[0].flow_id(), 44u);
  EXPECT_EQ(h.actor->counters().flow_events_unknown, 2u);
  h.flow_event(44, static_cast<FlowEvent::Kind>(42));
  EXPECT_EQ(h.actor->counters().flow_events_unknown, 3u);
}

TEST(ConnClose, AFlowEventOvertakingItsInstallAnswerEstablishesTheConnection) {
  // The fast path answers InstallFlow and sends FlowEvents over different sockets: a short
  // connection's events can arrive before the answer. conn once took such a flow for one it
  // had no record of and removed it: the app's connection vanished without a word, and its
  // close waited for ever.
  TempDir dir;
  Harness h(dir);
  h.start();
  const Envelope install = h.passive_open_installing(40300, 0xace, 2);
  h.flow_event(kFlow, FlowEvent::KIND_RX_FIN, peer_tuple(40300));
  EXPECT_TRUE(h.removes().empty());
  EXPECT_EQ(h.actor->counters().installs_learned_from_events, 1u);
  const Connection* conn = h.actor->connections().find_flow(kFlow);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(tuple_of(conn->record), peer_tuple(40300));
  EXPECT_TRUE(conn->has(kConnRxFin));
  // The answer comes later and changes nothing.
  h.respond_installed(install, kFlow);
  EXPECT_TRUE(h.removes().empty());
  EXPECT_EQ(h.actor->connections().count(ConnState::kEstablished), 1u);
  // The app's close ends it normally, answered with the removal.
  h.close(kFlow, 3);
  h.flow_event(kFlow, FlowEvent::KIND_CLOSED);
  ASSERT_EQ(h.removes().size(), 1u);
  EXPECT_EQ(h.removes()[0].notify().request_id(), 3u);
  EXPECT_EQ(h.removes()[0].expect().remote_port(), 40300u);
}

TEST(ConnClose, ALateFlowEventOfAReusedFlowIdLeavesItsNewConnectionAlone) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow, 40000);
  h.clear();
  // A reset of the flow's previous connection (port 39999), reported after the id went to
  // this one: not this connection's, and any removal must name the old tuple.
  h.flow_event(kFlow, FlowEvent::KIND_RESET, peer_tuple(39999));
  EXPECT_EQ(h.actor->connections().count(ConnState::kEstablished), 1u);
  EXPECT_FALSE(h.actor->connections().find_flow(kFlow)->has(kConnFlowReset));
  EXPECT_TRUE(h.notifies().empty());
  ASSERT_EQ(h.removes().size(), 1u);
  EXPECT_EQ(h.removes()[0].expect().remote_port(), 39999u);
  EXPECT_EQ(h.actor->counters().flow_events_unknown, 1u);
}

TEST(ConnClose, ARecordWhoseFlowIdWentToAnotherConnectionTellsItsApp) {
  // The fast path gave the id of connection A's flow to B: A's flow is gone. Its app must
  // hear so (the answer to its close, here), or it waits for ever.
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow, 40000);  // A
  h.close(kFlow, 70);
  const uint64_t a_cookie = h.actor->connections().find_flow(kFlow)->record.opaque;
  const Envelope install = h.passive_open_installing(40400, 0xb, 71);  // B
  h.clear();
  h.respond_installed(install, kFlow);
  EXPECT_EQ(h.actor->counters().stale_records_dropped, 1u);
  EXPECT_EQ(h.actor->connections().size(), 1u);
  auto n = h.notifies();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].type(), AppNotify::TYPE_CONN_CLOSED);
  EXPECT_EQ(n[0].opaque(), a_cookie);
  EXPECT_EQ(n[0].request_id(), 70u);
}

TEST(ConnClose, AppDetachDropsListenersAcceptsAndFlows) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.establish_passive(kFlow);
  // A passive open still installing when the app goes.
  const Envelope installing = h.passive_open_installing(40100, 0x9, 80);
  ASSERT_EQ(h.install_requests().size(), 2u);
  h.clear();
  fastpath::AppDetached gone;
  gone.set_app_id(kAppId);
  h.runner->deliver_event("fastpath", gone);
  EXPECT_EQ(h.actor->listeners().size(), 0u);
  EXPECT_EQ(h.actor->connections().size(), 0u);
  auto removes = h.removes();
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].flow_id(), kFlow);
  EXPECT_TRUE(removes[0].send_reset());
  // The install answered afterwards: its flow is taken out again.
  h.respond_installed(installing, 12);
  removes = h.removes();
  ASSERT_EQ(removes.size(), 2u);
  EXPECT_EQ(removes[1].flow_id(), 12u);
  EXPECT_TRUE(removes[1].send_reset());
  // SYNs to the port now find it closed.
  PeerSegment later;
  later.src_port = 40200;
  h.segment(later);
  EXPECT_EQ(parse_sent(h.packet_outs().back().frame()).tcp.flags, wire::kTcpRst | wire::kTcpAck);
  // A request that crossed the detach creates nothing.
  h.listen(80, 99);
  EXPECT_EQ(h.actor->listeners().size(), 0u);
  // Once the id is attached again (a new app), it works.
  fastpath::AppAttached again;
  again.set_app_id(kAppId);
  again.set_pid(321);
  h.runner->deliver_event("fastpath", again);
  h.listen(80, 100);
  EXPECT_EQ(h.last_notify().status(), 0);
}

}  // namespace
}  // namespace vtas::conn
