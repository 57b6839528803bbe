// RST and SYN on an established flow (RFC 5961): exact RST resets, other in-window RSTs and
// SYNs get a challenge ACK, the peer's retransmitted SYN goes to the slow path. Also flows
// that are not the fast path's to process.
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(Reset);
VTAS_TCP_SUITE(SynOnEstablished);
VTAS_TCP_SUITE(NotForTheFastPath);

TEST_P(Reset, ExactRstResetsTheFlow) {
  Flow f(setup());
  f.recv_data(0, "abc");
  RxOutcome out = f.recv(f.peer(3).flags(kTcpRst));
  EXPECT_EQ(out.app_flags, abi::kArxReset);
  EXPECT_EQ(out.flow_event, FlowEvent::kReset);
  EXPECT_FALSE(out.send_ack);
  EXPECT_NE(load_flags(f.fs) & abi::kFlowReset, 0u);

  out = f.recv_data(3, "more");
  EXPECT_EQ(out.drop, DropReason::kFlowReset);
  EXPECT_FALSE(out.send_ack);
  EXPECT_FALSE(out.has_app_event());
  f.fs.tx_avail = 0;
  EXPECT_EQ(f.app_write("x").reject, BumpReject::kFlowClosed);
  f.fs.tx_avail = 10;  // even with data queued, nothing is sent any more
  EXPECT_FALSE(f.send().valid);
  EXPECT_FALSE(has_sendable(f.fs));
}

TEST_P(Reset, RstWithAckBitResetsToo) {
  Flow f(setup());
  EXPECT_EQ(f.recv(f.peer(0).add_flags(kTcpRst)).flow_event, FlowEvent::kReset);
}

TEST_P(Reset, InWindowRstGetsAChallengeAck) {
  Flow f(setup());
  for (uint32_t offset : {1u, 100u, 4095u}) {
    RxOutcome out = f.recv(f.peer(offset).flags(kTcpRst));
    EXPECT_EQ(out.drop, DropReason::kRstChallenged) << offset;
    ASSERT_TRUE(out.send_ack);
    EXPECT_EQ(out.ack.ack, f.rseq(0));
    EXPECT_EQ(out.ack.seq, f.lseq(0));
    EXPECT_EQ(out.flow_event, FlowEvent::kNone);
  }
  EXPECT_EQ(load_flags(f.fs) & abi::kFlowReset, 0u);
}

TEST_P(Reset, RstOutsideTheWindowIsIgnored) {
  Flow f(setup());
  for (uint32_t offset : {4096u, 0xFFFFFFFFu, 0x80000000u}) {
    RxOutcome out = f.recv(f.peer(offset).flags(kTcpRst));
    EXPECT_EQ(out.drop, DropReason::kRstOutOfWindow) << offset;
    EXPECT_FALSE(out.send_ack);
  }
  EXPECT_EQ(load_flags(f.fs) & abi::kFlowReset, 0u);
}

TEST_P(Reset, ZeroWindowAcceptsOnlyTheExactRst) {
  FlowSetup s = setup();
  s.rx_len = 3;
  Flow f(s);
  f.recv_data(0, "abc");
  EXPECT_EQ(f.recv(f.peer(4).flags(kTcpRst)).drop, DropReason::kRstOutOfWindow);
  EXPECT_EQ(f.recv(f.peer(3).flags(kTcpRst)).flow_event, FlowEvent::kReset);
}

TEST_P(SynOnEstablished, RetransmittedSynGoesToTheSlowPath) {
  Flow f(setup());
  RxOutcome out = f.recv(f.peer(0).seq(f.rseq(0) - 1).flags(kTcpSyn));
  EXPECT_TRUE(out.to_slow_path);
  EXPECT_FALSE(out.send_ack);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(0));
}

TEST_P(SynOnEstablished, RetransmittedSynAckGetsAnAck) {
  Flow f(setup());
  RxOutcome out = f.recv(f.peer(0).seq(f.rseq(0) - 1).flags(kTcpSyn | kTcpAck));
  EXPECT_FALSE(out.to_slow_path);
  EXPECT_EQ(out.drop, DropReason::kSynChallenged);
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.ack, f.rseq(0));
}

TEST_P(SynOnEstablished, OtherSynsGetAChallengeAck) {
  Flow f(setup());
  RxOutcome out = f.recv(f.peer(100).flags(kTcpSyn));
  EXPECT_EQ(out.drop, DropReason::kSynChallenged);
  EXPECT_TRUE(out.send_ack);
  f.recv_data(0, "abc");
  out = f.recv(f.peer(0).seq(f.rseq(0) - 1).flags(kTcpSyn));  // no longer RCV.NXT - 1
  EXPECT_EQ(out.drop, DropReason::kSynChallenged);
  EXPECT_FALSE(out.to_slow_path);
  out = f.recv(f.peer(3).flags(kTcpSyn | kTcpFin).data("zzz"));  // nonsense: nothing used
  EXPECT_EQ(out.drop, DropReason::kSynChallenged);
  EXPECT_EQ(f.delivered, "abc");
  EXPECT_EQ(load_flags(f.fs) & abi::kFlowRxFin, 0u);
}

TEST_P(NotForTheFastPath, SlowPathFlowHandsEverythingOver) {
  Flow f(setup());
  f.fs.flags |= abi::kFlowSlowPath;
  f.app_write("x");
  RxOutcome out = f.recv_data(0, "abc");
  EXPECT_TRUE(out.to_slow_path);
  EXPECT_FALSE(out.send_ack);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(0));
  EXPECT_FALSE(f.send().valid);
  EXPECT_FALSE(has_sendable(f.fs));
}

TEST_P(NotForTheFastPath, InactiveFlowGoesToTheSlowPath) {
  Flow f(setup());
  f.fs.flags &= ~abi::kFlowActive;
  EXPECT_TRUE(f.recv_data(0, "abc").to_slow_path);
  EXPECT_EQ(f.delivered, "");
}

}  // namespace
}  // namespace vtas::tcp::testing
