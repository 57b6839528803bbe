// Loss recovery: duplicate ACKs -> go-back-N, the RFC 6582 recover point, ACKs beyond SND.NXT
// after a go-back-N, the FIN in flight, and the rate halving per loss event.
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(LossRecovery);

std::string bytes(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

// A flow that sent five 100-byte segments; the peer acknowledged the first.
Flow five_segments_in_flight(FlowSetup s) {
  s.mss = 100;
  Flow f(s);
  f.app_write(bytes(500));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.send().len, 100u);
  f.recv_ack(100);
  return f;
}

TEST_P(LossRecovery, ThirdDuplicateAckGoesBackN) {
  FlowSetup s = setup();
  s.tx_rate_kbps = 1000;
  Flow f = five_segments_in_flight(s);
  EXPECT_FALSE(f.recv_ack(100).went_back_n);
  EXPECT_FALSE(f.recv_ack(100).went_back_n);
  RxOutcome out = f.recv_ack(100);
  EXPECT_TRUE(out.went_back_n);
  EXPECT_EQ(out.tx_newly_sendable, 400u);
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(100));
  EXPECT_EQ(f.fs.tx_next_pos, 100u);
  EXPECT_EQ(f.fs.tx_sent, 0u);
  EXPECT_EQ(f.fs.tx_avail, 400u);
  EXPECT_EQ(f.fs.tx_resend_ahead, 400u);
  EXPECT_EQ(f.fs.dupack_count, 0u);
  EXPECT_EQ(f.fs.cnt_tx_drops, 1u);
  EXPECT_EQ(f.fs.tx_rate_kbps, 500u);
  EXPECT_EQ(f.fs.rx_remote_avail, 0xFFFFu);  // TAS PR #17: the peer window is not touched
  EXPECT_EQ(f.fs.recover_seq, f.lseq(500));

  TxSegment seg = f.send();
  EXPECT_EQ(seg.hdr.seq, f.lseq(100));
  EXPECT_TRUE(seg.retransmission);
  EXPECT_EQ(f.payload(seg), bytes(500).substr(100, 100));
}

TEST_P(LossRecovery, OnlyTrueDuplicatesCount) {
  Flow f = five_segments_in_flight(setup());
  f.recv(f.peer(0).data("x").ack(f.lseq(100)));           // carries data
  f.recv_ack(100, 1000);                                  // changes the window
  f.recv(f.peer(1).fin().ack(f.lseq(100)).window(1000));  // carries a FIN
  EXPECT_EQ(f.fs.dupack_count, 0u);
  f.recv_ack(100, 1000);
  EXPECT_EQ(f.fs.dupack_count, 1u);
}

TEST_P(LossRecovery, NoDuplicatesWithoutDataInFlight) {
  Flow f(setup());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(f.recv_ack(0).went_back_n);
  EXPECT_EQ(f.fs.dupack_count, 0u);
  EXPECT_EQ(f.fs.cnt_tx_drops, 0u);
}

TEST_P(LossRecovery, DuplicatesOfResentSegmentsDoNotRestartRecovery) {
  Flow f = five_segments_in_flight(setup());
  for (int i = 0; i < 3; ++i) f.recv_ack(100);
  ASSERT_EQ(f.fs.cnt_tx_drops, 1u);
  for (int i = 0; i < 4; ++i) f.send();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(f.recv_ack(100).went_back_n);
  EXPECT_EQ(f.fs.cnt_tx_drops, 1u);
  // Everything up to SND.MAX arrives: that alone does not re-arm fast retransmit (an ACK
  // must cover more than recover, RFC 6582)...
  f.recv_ack(500);
  f.app_write(bytes(300));
  for (int i = 0; i < 3; ++i) f.send();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(f.recv_ack(500).went_back_n);
  // ...an ACK beyond it does.
  f.recv_ack(600);
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(f.recv_ack(600).went_back_n);
  EXPECT_TRUE(f.recv_ack(600).went_back_n);
  EXPECT_EQ(f.fs.cnt_tx_drops, 2u);
}

TEST_P(LossRecovery, RateHalvesOnEveryLossEvent) {
  FlowSetup s = setup();
  s.tx_rate_kbps = 1000;
  Flow f = five_segments_in_flight(s);
  for (int i = 0; i < 3; ++i) f.recv_ack(100);
  EXPECT_EQ(f.fs.tx_rate_kbps, 500u);
  f.send();
  EXPECT_TRUE(go_back_n(f.fs, f.now));  // a retransmission timeout
  EXPECT_EQ(f.fs.tx_rate_kbps, 250u);
  EXPECT_EQ(f.fs.cnt_tx_drops, 2u);
  f.send();
  f.fs.tx_rate_kbps = 1;
  EXPECT_TRUE(go_back_n(f.fs, f.now));
  EXPECT_EQ(f.fs.tx_rate_kbps, 1u);  // never to 0, which means unlimited
  f.send();
  f.fs.tx_rate_kbps = 0;
  EXPECT_TRUE(go_back_n(f.fs, f.now));
  EXPECT_EQ(f.fs.tx_rate_kbps, 0u);
}

TEST_P(LossRecovery, GoBackNWithNothingInFlightChangesNothing) {
  FlowSetup s = setup();
  s.tx_rate_kbps = 1000;
  Flow f(s);
  f.app_write(bytes(100));
  EXPECT_FALSE(go_back_n(f.fs, f.now));
  EXPECT_EQ(f.fs.cnt_tx_drops, 0u);
  EXPECT_EQ(f.fs.tx_rate_kbps, 1000u);
  EXPECT_EQ(f.fs.tx_avail, 100u);
}

TEST_P(LossRecovery, AckBeyondSndNxtSkipsWhatThePeerHas) {
  Flow f = five_segments_in_flight(setup());
  for (int i = 0; i < 3; ++i) f.recv_ack(100);
  f.send();                         // resends 100..200
  RxOutcome out = f.recv_ack(300);  // the peer had 200..300 already
  EXPECT_EQ(out.drop, DropReason::kNone);
  EXPECT_EQ(out.app_tx_bump, 200u);
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(300));
  EXPECT_EQ(f.fs.tx_next_pos, 300u);
  EXPECT_EQ(f.fs.tx_avail, 200u);
  EXPECT_EQ(f.fs.tx_sent, 0u);
  EXPECT_EQ(f.fs.tx_resend_ahead, 200u);
  out = f.recv_ack(500);
  EXPECT_EQ(out.app_tx_bump, 200u);
  EXPECT_EQ(f.fs.tx_avail, 0u);
  EXPECT_EQ(f.fs.tx_resend_ahead, 0u);
  EXPECT_FALSE(f.send().valid);
  EXPECT_EQ(f.fs.cnt_rx_ack_bytes, 500u);
}

TEST_P(LossRecovery, AckBeyondSndMaxIsStillUnsent) {
  Flow f = five_segments_in_flight(setup());
  for (int i = 0; i < 3; ++i) f.recv_ack(100);
  EXPECT_EQ(f.recv_ack(501).drop, DropReason::kAckUnsent);
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(100));
}

TEST_P(LossRecovery, GoBackNResendsTheFin) {
  Flow f(setup());
  f.app_write("abc", /*close=*/true);
  TxSegment seg = f.send();
  EXPECT_EQ(seg.hdr.flags & kTcpFin, kTcpFin);
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(4));
  EXPECT_TRUE(go_back_n(f.fs, f.now));
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(0));
  EXPECT_EQ(load_flags(f.fs) & abi::kFlowTxFinSent, 0u);
  EXPECT_EQ(f.fs.tx_resend_ahead, 4u);
  seg = f.send();
  EXPECT_EQ(seg.hdr.seq, f.lseq(0));
  EXPECT_EQ(seg.len, 3u);
  EXPECT_EQ(seg.hdr.flags & kTcpFin, kTcpFin);
  EXPECT_EQ(f.fs.tx_resend_ahead, 0u);
  RxOutcome out = f.recv_ack(4);
  EXPECT_EQ(out.app_flags, abi::kArxTxFinAcked);
  EXPECT_EQ(out.flow_event, FlowEvent::kTxFinAcked);
}

TEST_P(LossRecovery, LostBareFinIsResent) {
  Flow f(setup());
  f.app_write("abc");
  f.send();
  f.recv_ack(3);
  f.app_close();
  TxSegment seg = f.send();
  EXPECT_EQ(seg.len, 0u);
  EXPECT_EQ(seg.hdr.flags, kTcpAck | kTcpFin);
  EXPECT_EQ(f.fs.tx_sent, 0u);  // only the FIN is in flight
  EXPECT_EQ(snd_una(f.fs), f.lseq(3));
  EXPECT_TRUE(go_back_n(f.fs, f.now));  // the timer's RTO must resend it
  seg = f.send();
  EXPECT_EQ(seg.hdr.seq, f.lseq(3));
  EXPECT_EQ(seg.hdr.flags, kTcpAck | kTcpFin);
}

TEST_P(LossRecovery, AckCoveringTheFinAfterGoBackN) {
  Flow f(setup());
  f.app_write("abc", /*close=*/true);
  f.send();
  go_back_n(f.fs, f.now);
  RxOutcome out = f.recv_ack(4);  // the first transmission arrived after all
  EXPECT_EQ(out.app_tx_bump, 3u);
  EXPECT_EQ(out.app_flags, abi::kArxTxFinAcked);
  EXPECT_EQ(out.flow_event, FlowEvent::kTxFinAcked);
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(4));
  EXPECT_EQ(f.fs.tx_resend_ahead, 0u);
  EXPECT_EQ(load_flags(f.fs) & (abi::kFlowTxFinSent | abi::kFlowTxFinAcked),
            abi::kFlowTxFinSent | abi::kFlowTxFinAcked);
  EXPECT_FALSE(f.send().valid);
}

TEST_P(LossRecovery, GoBackNAcrossTheEndOfTheTxBuffer) {
  FlowSetup s = setup();
  s.mss = 100;
  s.tx_start_pos = 4096 - 50;
  Flow f(s);
  f.app_write(bytes(200));
  f.send();
  f.send();
  EXPECT_EQ(f.fs.tx_next_pos, 150u);
  go_back_n(f.fs, f.now);
  EXPECT_EQ(f.fs.tx_next_pos, 4096u - 50);
  TxSegment seg = f.send();
  EXPECT_EQ(seg.payload[0].pos, 4096u - 50);
  EXPECT_EQ(seg.payload[0].len, 50u);
  EXPECT_EQ(seg.payload[1].pos, 0u);
  EXPECT_EQ(seg.payload[1].len, 50u);
  EXPECT_EQ(f.payload(seg), bytes(100));
}

}  // namespace
}  // namespace vtas::tcp::testing
