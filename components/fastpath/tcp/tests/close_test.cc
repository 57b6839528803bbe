// Closing: the peer's FIN, our FIN after the last byte, and the events for the slow path
// (RX_FIN, TX_FIN_ACKED, CLOSED when both happened).
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(PeerFin);
VTAS_TCP_SUITE(OurFin);
VTAS_TCP_SUITE(BothFins);

TEST_P(PeerFin, InOrderFinEndsTheStream) {
  Flow f(setup());
  RxOutcome out = f.recv(f.peer(0).data("abc").fin());
  EXPECT_EQ(out.app_rx_bump, 3u);
  EXPECT_EQ(out.app_flags, abi::kArxRxFin);
  EXPECT_EQ(out.flow_event, FlowEvent::kRxFin);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(4));
  EXPECT_EQ(f.fs.rx_avail, 4096u - 3);  // the FIN takes no buffer space
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.ack, f.rseq(4));
  EXPECT_NE(load_flags(f.fs) & abi::kFlowRxFin, 0u);
}

TEST_P(PeerFin, BareFin) {
  Flow f(setup());
  f.recv_data(0, "abc");
  RxOutcome out = f.recv(f.peer(3).fin());
  EXPECT_EQ(out.app_rx_bump, 0u);
  EXPECT_EQ(out.app_flags, abi::kArxRxFin);
  EXPECT_EQ(out.ack.ack, f.rseq(4));
}

TEST_P(PeerFin, RetransmittedFinIsAckedAgain) {
  Flow f(setup());
  f.recv(f.peer(0).data("abc").fin());
  RxOutcome out = f.recv(f.peer(0).data("abc").fin());
  EXPECT_EQ(out.drop, DropReason::kDuplicate);
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.ack, f.rseq(4));
  EXPECT_EQ(out.app_flags, 0);
  EXPECT_EQ(out.flow_event, FlowEvent::kNone);
}

TEST_P(PeerFin, DataAfterTheFinIsDropped) {
  Flow f(setup());
  f.recv(f.peer(0).data("abc").fin());
  RxOutcome out = f.recv_data(4, "zz");
  EXPECT_EQ(out.drop, DropReason::kDataAfterFin);
  EXPECT_EQ(out.app_rx_bump, 0u);
  EXPECT_TRUE(out.send_ack);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(4));
}

TEST_P(PeerFin, FinIsAcceptedIntoAZeroWindow) {
  FlowSetup s = setup();
  s.rx_len = 3;
  Flow f(s);
  f.recv_data(0, "abc");
  RxOutcome out = f.recv(f.peer(3).fin());
  EXPECT_EQ(out.app_flags, abi::kArxRxFin);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(4));
}

TEST_P(PeerFin, FinOfATrimmedSegmentIsNotAccepted) {
  FlowSetup s = setup();
  s.rx_len = 3;
  Flow f(s);
  RxOutcome out = f.recv(f.peer(0).data("abcd").fin());
  EXPECT_EQ(out.app_rx_bump, 3u);
  EXPECT_EQ(out.app_flags, 0);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(3));
}

TEST_P(OurFin, FinGoesWithTheLastByte) {
  FlowSetup s = setup();
  s.mss = 2;
  Flow f(s);
  f.app_write("hello", /*close=*/true);
  EXPECT_EQ(f.send().hdr.flags, kTcpAck | kTcpPsh);
  EXPECT_EQ(f.send().hdr.flags, kTcpAck | kTcpPsh);
  TxSegment last = f.send();
  EXPECT_EQ(last.len, 1u);
  EXPECT_EQ(last.hdr.flags, kTcpAck | kTcpPsh | kTcpFin);
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(6));
  EXPECT_EQ(f.fs.tx_sent, 5u);
  EXPECT_EQ(snd_una(f.fs), f.lseq(0));
  EXPECT_FALSE(f.send().valid);
}

TEST_P(OurFin, BareFinAfterAllDataWasSent) {
  Flow f(setup());
  f.app_write("ab");
  f.send();
  BumpOutcome bump = f.app_close();
  EXPECT_TRUE(bump.accepted());
  EXPECT_EQ(bump.tx_newly_sendable, 1u);
  EXPECT_TRUE(has_sendable(f.fs));
  TxSegment seg = f.send();
  EXPECT_EQ(seg.len, 0u);
  EXPECT_EQ(seg.hdr.seq, f.lseq(2));
  EXPECT_EQ(seg.hdr.flags, kTcpAck | kTcpFin);
  EXPECT_FALSE(has_sendable(f.fs));
}

TEST_P(OurFin, BareFinNeedsNoWindow) {
  FlowSetup s = setup();
  s.peer_window = 0;
  Flow f(s);
  f.app_close();
  TxSegment seg = f.send();
  ASSERT_TRUE(seg.valid);
  EXPECT_EQ(seg.hdr.flags, kTcpAck | kTcpFin);
}

TEST_P(OurFin, FinWaitsForDataTheWindowHoldsBack) {
  FlowSetup s = setup();
  s.peer_window = 2;
  Flow f(s);
  f.app_write("abcd", /*close=*/true);
  TxSegment seg = f.send();
  EXPECT_EQ(seg.len, 2u);
  EXPECT_EQ(seg.hdr.flags & kTcpFin, 0);
  EXPECT_FALSE(f.send().valid);
  f.recv_ack(2, 10);
  seg = f.send();
  EXPECT_EQ(seg.len, 2u);
  EXPECT_EQ(seg.hdr.flags & kTcpFin, kTcpFin);
}

TEST_P(OurFin, AckOfTheFinIsReported) {
  Flow f(setup());
  f.app_write("abc", /*close=*/true);
  f.send();
  RxOutcome out = f.recv_ack(3);  // the data, not the FIN
  EXPECT_EQ(out.app_tx_bump, 3u);
  EXPECT_EQ(out.app_flags, 0);
  EXPECT_EQ(out.flow_event, FlowEvent::kNone);
  out = f.recv_ack(4);
  EXPECT_EQ(out.app_tx_bump, 0u);
  EXPECT_EQ(out.app_flags, abi::kArxTxFinAcked);
  EXPECT_EQ(out.flow_event, FlowEvent::kTxFinAcked);
  EXPECT_EQ(snd_una(f.fs), f.lseq(4));
  EXPECT_EQ(f.recv_ack(4).flow_event, FlowEvent::kNone);  // reported once
}

TEST_P(OurFin, PureAckAfterTheFinUsesTheNextSequenceNumber) {
  Flow f(setup());
  f.app_close();
  f.send();
  EXPECT_EQ(pure_ack(f.fs, f.now).seq, f.lseq(1));
  EXPECT_EQ(window_probe(f.fs, f.now).seq, f.lseq(0) - 1);  // SND.UNA - 1
}

TEST_P(BothFins, OursFirstThenThePeers) {
  Flow f(setup());
  f.app_close();
  f.send();
  EXPECT_EQ(f.recv_ack(1).flow_event, FlowEvent::kTxFinAcked);
  RxOutcome out = f.recv(f.peer(0).fin().ack(f.lseq(1)));
  EXPECT_EQ(out.flow_event, FlowEvent::kClosed);
  EXPECT_EQ(out.app_flags, abi::kArxRxFin);
}

TEST_P(BothFins, ThePeersFirstThenOurs) {
  Flow f(setup());
  EXPECT_EQ(f.recv(f.peer(0).fin()).flow_event, FlowEvent::kRxFin);
  f.app_close();
  TxSegment seg = f.send();
  EXPECT_EQ(seg.hdr.ack, f.rseq(1));
  RxOutcome out = f.recv(f.peer(1).ack(f.lseq(1)));
  EXPECT_EQ(out.flow_event, FlowEvent::kClosed);
  EXPECT_EQ(out.app_flags, abi::kArxTxFinAcked);
}

TEST_P(BothFins, InOneSegment) {
  Flow f(setup());
  f.app_close();
  f.send();
  RxOutcome out = f.recv(f.peer(0).data("bye").fin().ack(f.lseq(1)));
  EXPECT_EQ(out.flow_event, FlowEvent::kClosed);
  EXPECT_EQ(out.app_flags, abi::kArxRxFin | abi::kArxTxFinAcked);
  EXPECT_EQ(f.delivered, "bye");
}

TEST_P(BothFins, ANewSynAfterBothFinsIsTheSlowPathsNotAChallenge) {
  // The peer reuses the tuple while the flow's removal is still under way: a challenge ACK
  // would reach its SYN-SENT and draw a RST.
  Flow f(setup());
  f.recv(f.peer(0).fin());
  f.app_close();
  f.send();
  ASSERT_EQ(f.recv(f.peer(1).ack(f.lseq(1))).flow_event, FlowEvent::kClosed);
  RxOutcome out = f.recv(f.peer(100000).flags(kTcpSyn));
  EXPECT_TRUE(out.to_slow_path);
  EXPECT_FALSE(out.send_ack);
  // A SYN-ACK is no connection request: still answered as before.
  out = f.recv(f.peer(100000).flags(kTcpSyn | kTcpAck));
  EXPECT_EQ(out.drop, DropReason::kSynChallenged);
}

TEST_P(BothFins, ASynWhileOnlyOneFinIsThroughIsStillChallenged) {
  Flow f(setup());
  f.recv(f.peer(0).fin());
  RxOutcome out = f.recv(f.peer(100000).flags(kTcpSyn));
  EXPECT_EQ(out.drop, DropReason::kSynChallenged);
  EXPECT_FALSE(out.to_slow_path);
}

}  // namespace
}  // namespace vtas::tcp::testing
