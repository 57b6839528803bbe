// ACK processing: SND.UNA advancing, old / duplicate / unsent ACKs, counters for cc, and the
// peer's window (RFC 9293 SND.WL1/WL2 rule, window scaling).
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(AckProcessing);
VTAS_TCP_SUITE(PeerWindow);

std::string bytes(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

TEST_P(AckProcessing, AckAdvancesSndUnaAndFreesBufferSpace) {
  Flow f(setup());
  f.app_write(bytes(300));
  f.send();
  f.now += 50;
  RxOutcome out = f.recv_ack(100);
  EXPECT_EQ(out.app_tx_bump, 100u);
  EXPECT_FALSE(out.send_ack);
  EXPECT_EQ(f.fs.tx_sent, 200u);
  EXPECT_EQ(snd_una(f.fs), f.lseq(100));
  EXPECT_EQ(f.fs.cnt_rx_acks, 1u);
  EXPECT_EQ(f.fs.cnt_rx_ack_bytes, 100u);
  EXPECT_EQ(f.fs.last_ack_us, f.now);
  f.now += 50;
  out = f.recv_ack(300);
  EXPECT_EQ(out.app_tx_bump, 200u);
  EXPECT_EQ(f.fs.tx_sent, 0u);
  EXPECT_EQ(f.fs.cnt_rx_acks, 2u);
  EXPECT_EQ(f.fs.cnt_rx_ack_bytes, 300u);
  EXPECT_EQ(f.fs.last_ack_us, f.now);
}

TEST_P(AckProcessing, DuplicateAckFreesNothing) {
  Flow f(setup());
  f.app_write(bytes(300));
  f.send();
  f.recv_ack(100);
  uint32_t last_ack = f.fs.last_ack_us;
  f.now += 10;
  RxOutcome out = f.recv_ack(100);
  EXPECT_EQ(out.app_tx_bump, 0u);
  EXPECT_EQ(f.fs.dupack_count, 1u);
  EXPECT_EQ(f.fs.cnt_rx_acks, 2u);
  EXPECT_EQ(f.fs.cnt_rx_ack_bytes, 100u);
  EXPECT_EQ(f.fs.last_ack_us, last_ack);  // no progress
}

TEST_P(AckProcessing, AckForUnsentDataIsAnsweredAndTheSegmentDropped) {
  Flow f(setup());
  f.app_write(bytes(300));
  f.send();
  RxOutcome out = f.recv(f.peer(0).data("xyz").ack(f.lseq(301)));
  EXPECT_EQ(out.drop, DropReason::kAckUnsent);
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.seq, f.lseq(300));
  EXPECT_EQ(out.ack.ack, f.rseq(0));
  EXPECT_EQ(out.app_rx_bump, 0u);
  EXPECT_EQ(f.fs.tx_sent, 300u);
  EXPECT_EQ(f.fs.cnt_rx_acks, 0u);
}

TEST_P(AckProcessing, AckForQueuedButUnsentDataIsNotAccepted) {
  Flow f(setup());
  f.app_write(bytes(300));  // queued, nothing sent: TAS accepted such "future" ACKs
  RxOutcome out = f.recv_ack(100);
  EXPECT_EQ(out.drop, DropReason::kAckUnsent);
  EXPECT_EQ(f.fs.tx_avail, 300u);
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(0));
}

TEST_P(AckProcessing, AckOlderThanAWindowIsChallenged) {
  Flow f(setup());
  f.app_write(bytes(300));
  f.send();
  f.recv_ack(300);
  // RFC 5961 section 5: more than MAX.SND.WND (here the 65535 peer window) behind SND.UNA.
  RxOutcome out = f.recv(f.peer(0).data("abc").ack(f.lseq(300) - 70000));
  EXPECT_EQ(out.drop, DropReason::kAckTooOld);
  EXPECT_TRUE(out.send_ack);
  EXPECT_EQ(f.delivered, "");
  out = f.recv(f.peer(0).data("abc").ack(f.lseq(300) - 1000));  // merely old: data is used
  EXPECT_EQ(out.drop, DropReason::kNone);
  EXPECT_EQ(f.delivered, "abc");
}

TEST_P(AckProcessing, DataSegmentCarryingAnAckReportsBoth) {
  Flow f(setup());
  f.app_write(bytes(300));
  f.send();
  RxOutcome out = f.recv(f.peer(0).data("hello").ack(f.lseq(300)));
  EXPECT_EQ(out.app_rx_bump, 5u);
  EXPECT_EQ(out.app_tx_bump, 300u);
  EXPECT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.seq, f.lseq(300));
  EXPECT_EQ(f.fs.dupack_count, 0u);
}

TEST_P(PeerWindow, PureAckUpdatesTheWindow) {
  Flow f(setup());
  f.recv_ack(0, 1000);
  EXPECT_EQ(f.fs.rx_remote_avail, 1000u);
  EXPECT_EQ(f.fs.snd_wl1, f.rseq(0));
  EXPECT_EQ(f.fs.snd_wl2, f.lseq(0));
  f.recv_ack(0, 100);  // the peer may shrink it
  EXPECT_EQ(f.fs.rx_remote_avail, 100u);
}

TEST_P(PeerWindow, WindowIsScaled) {
  FlowSetup s = setup();
  s.snd_wscale = 3;
  Flow f(s);
  f.recv_ack(0, 1000);
  EXPECT_EQ(f.fs.rx_remote_avail, 8000u);
  f.fs.snd_wscale = 20;  // garbage from an installer: RFC 7323 caps the shift at 14
  f.recv_ack(0, 0xFFFF);
  EXPECT_EQ(f.fs.rx_remote_avail, 0xFFFFu << 14);
}

TEST_P(PeerWindow, OlderSegmentDoesNotUpdateTheWindow) {
  Flow f(setup());
  f.recv(f.peer(20).data("x").window(500));  // out of order, but acceptable: WL1 = 20
  EXPECT_EQ(f.fs.rx_remote_avail, 500u);
  EXPECT_EQ(f.fs.snd_wl1, f.rseq(20));
  f.recv(f.peer(0).window(9000));  // a pure ACK sent before that segment, reordered
  EXPECT_EQ(f.fs.rx_remote_avail, 500u);
  f.recv(f.peer(20).window(9000));  // same seq, same ack: newer
  EXPECT_EQ(f.fs.rx_remote_avail, 9000u);
}

TEST_P(PeerWindow, SameSeqOlderAckDoesNotUpdate) {
  Flow f(setup());
  f.app_write(bytes(300));
  f.send();
  f.recv_ack(200, 3000);
  f.recv(f.peer(0).ack(f.lseq(100)).window(10));  // reordered older ACK
  EXPECT_EQ(f.fs.rx_remote_avail, 3000u);
  EXPECT_EQ(f.fs.snd_wl2, f.lseq(200));
}

TEST_P(PeerWindow, UninitialisedWl1DoesNotFreezeTheWindow) {
  Flow f(setup());
  f.fs.snd_wl1 = f.rseq(0) + 0x40000000u;  // "newer" than anything the peer can send
  f.recv_ack(0, 1234);
  EXPECT_EQ(f.fs.rx_remote_avail, 1234u);
}

TEST_P(PeerWindow, OpeningWindowMakesQueuedDataSendable) {
  FlowSetup s = setup();
  s.peer_window = 0;
  Flow f(s);
  BumpOutcome bump = f.app_write(bytes(500));
  EXPECT_TRUE(bump.accepted());
  EXPECT_EQ(bump.tx_newly_sendable, 0u);
  EXPECT_FALSE(f.send().valid);
  RxOutcome out = f.recv_ack(0, 1000);
  EXPECT_EQ(out.tx_newly_sendable, 500u);
  TxSegment seg = f.send();
  EXPECT_EQ(seg.len, 500u);
}

TEST_P(PeerWindow, AckedBytesMakeRoomInAFullWindow) {
  FlowSetup s = setup();
  s.peer_window = 200;
  Flow f(s);
  f.app_write(bytes(500));
  EXPECT_EQ(f.send().len, 200u);
  EXPECT_FALSE(f.send().valid);
  RxOutcome out = f.recv_ack(150, 200);
  EXPECT_EQ(out.tx_newly_sendable, 150u);
  EXPECT_EQ(f.send().len, 150u);
}

}  // namespace
}  // namespace vtas::tcp::testing
