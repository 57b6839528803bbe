// ECN (DCTCP-style, as TAS): CE on a data segment is echoed as ECE on its ACK, ECE on ACKs
// counts acknowledged bytes for cc, new data is ECT(0), retransmissions are not.
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(Ecn);

FlowSetup with_ecn(FlowSetup s) {
  s.extra_flags |= abi::kFlowEcn;
  return s;
}

TEST_P(Ecn, CeOnDataIsEchoedOnItsAckOnly) {
  Flow f(with_ecn(setup()));
  RxOutcome out = f.recv(f.peer(0).data("a").ce());
  EXPECT_EQ(out.ack.flags, kTcpAck | kTcpEce);
  out = f.recv(f.peer(1).data("b"));
  EXPECT_EQ(out.ack.flags, kTcpAck);
  out = f.recv(f.peer(5).data("f").ce());  // out of order: the duplicate ACK echoes it
  EXPECT_EQ(out.ack.flags, kTcpAck | kTcpEce);
  f.app_write("x");
  EXPECT_EQ(f.send().hdr.flags & kTcpEce, 0);  // echoed once
}

TEST_P(Ecn, NoEchoWithoutEcnNegotiated) {
  Flow f(setup());
  RxOutcome out = f.recv(f.peer(0).data("a").ce());
  EXPECT_EQ(out.ack.flags, kTcpAck);
}

TEST_P(Ecn, EceOnAcksCountsEcnBytes) {
  Flow f(with_ecn(setup()));
  f.app_write(std::string(300, 'x'));
  f.send();
  f.recv(f.peer(0).ack(f.lseq(100)).add_flags(kTcpEce));
  EXPECT_EQ(f.fs.cnt_rx_ecn_bytes, 100u);
  f.recv_ack(300);
  EXPECT_EQ(f.fs.cnt_rx_ecn_bytes, 100u);
  EXPECT_EQ(f.fs.cnt_rx_ack_bytes, 300u);
}

TEST_P(Ecn, NewDataIsEctRetransmissionsAndFinsAreNot) {
  FlowSetup s = with_ecn(setup());
  s.mss = 100;
  Flow f(s);
  f.app_write(std::string(200, 'x'));
  EXPECT_TRUE(f.send().ect);
  go_back_n(f.fs, f.now);
  TxSegment seg = f.send();
  EXPECT_TRUE(seg.retransmission);
  EXPECT_FALSE(seg.ect);  // RFC 3168 section 6.1.5
  seg = f.send();
  EXPECT_FALSE(seg.retransmission);
  EXPECT_TRUE(seg.ect);
  f.app_close();
  seg = f.send();
  EXPECT_EQ(seg.hdr.flags, kTcpAck | kTcpFin);
  EXPECT_FALSE(seg.ect);
}

TEST_P(Ecn, NonEcnFlowSendsNotEct) {
  Flow f(setup());
  f.app_write("abc");
  EXPECT_FALSE(f.send().ect);
}

}  // namespace
}  // namespace vtas::tcp::testing
