// Sending: next_segment (size limits, buffer wrap, header fields), pure ACKs and zero-window
// probes.
#include <cstring>

#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(Transmit);

TEST_P(Transmit, NothingQueuedNothingSent) {
  Flow f(setup());
  EXPECT_FALSE(f.send().valid);
  EXPECT_FALSE(has_sendable(f.fs));
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(0));
}

TEST_P(Transmit, SegmentCarriesTheQueuedBytes) {
  Flow f(setup());
  f.recv_data(0, "abc");
  f.app_write("hello");
  EXPECT_TRUE(has_sendable(f.fs));
  TxSegment seg = f.send();
  ASSERT_TRUE(seg.valid);
  EXPECT_EQ(seg.hdr.seq, f.lseq(0));
  EXPECT_EQ(seg.hdr.ack, f.rseq(3));
  EXPECT_EQ(seg.hdr.flags, kTcpAck | kTcpPsh);
  EXPECT_EQ(seg.hdr.window, 4096 - 3);
  EXPECT_FALSE(seg.hdr.has_ts);
  EXPECT_FALSE(seg.ect);
  EXPECT_FALSE(seg.retransmission);
  EXPECT_EQ(seg.len, 5u);
  EXPECT_EQ(f.payload(seg), "hello");
  EXPECT_EQ(seg.payload[1].len, 0u);
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(5));
  EXPECT_EQ(f.fs.tx_next_pos, 5u);
  EXPECT_EQ(f.fs.tx_avail, 0u);
  EXPECT_EQ(f.fs.tx_sent, 5u);
  EXPECT_FALSE(has_sendable(f.fs));
}

TEST_P(Transmit, SegmentsAreCutAtTheMss) {
  FlowSetup s = setup();
  s.mss = 100;
  Flow f(s);
  std::string data(250, 'q');
  f.app_write(data);
  EXPECT_EQ(tx_sendable(f.fs), 250u);
  TxSegment a = f.send();
  TxSegment b = f.send();
  TxSegment c = f.send();
  EXPECT_EQ(a.len, 100u);
  EXPECT_EQ(b.len, 100u);
  EXPECT_EQ(c.len, 50u);
  EXPECT_EQ(b.hdr.seq, f.lseq(100));
  EXPECT_EQ(c.hdr.seq, f.lseq(200));
  EXPECT_FALSE(f.send().valid);
}

TEST_P(Transmit, LimitedByThePeersWindow) {
  FlowSetup s = setup();
  s.peer_window = 100;
  s.snd_wscale = 2;
  Flow f(s);
  f.app_write(std::string(1000, 'w'));
  EXPECT_EQ(tx_sendable(f.fs), 400u);
  EXPECT_EQ(f.send().len, 400u);
  EXPECT_FALSE(f.send().valid);
  EXPECT_FALSE(has_sendable(f.fs));
  EXPECT_EQ(f.fs.tx_avail, 600u);
}

TEST_P(Transmit, PayloadWrapsAroundTheTxBuffer) {
  FlowSetup s = setup();
  s.tx_start_pos = 4090;
  Flow f(s);
  f.app_write("0123456789");
  TxSegment seg = f.send();
  EXPECT_EQ(seg.payload[0].pos, 4090u);
  EXPECT_EQ(seg.payload[0].len, 6u);
  EXPECT_EQ(seg.payload[1].pos, 0u);
  EXPECT_EQ(seg.payload[1].len, 4u);
  EXPECT_EQ(f.payload(seg), "0123456789");
  EXPECT_EQ(f.fs.tx_next_pos, 4u);
}

TEST_P(Transmit, PureAckFields) {
  Flow f(setup());
  f.recv_data(0, "abc");
  f.app_write("xy");
  f.send();
  AckFields ack = pure_ack(f.fs, f.now);
  EXPECT_EQ(ack.seq, f.lseq(2));
  EXPECT_EQ(ack.ack, f.rseq(3));
  EXPECT_EQ(ack.flags, kTcpAck);
  EXPECT_EQ(ack.window, 4093);
}

TEST_P(Transmit, WindowProbeUsesAnOldSequenceNumberAndChangesNoSendState) {
  FlowSetup s = setup();
  s.peer_window = 0;
  Flow f(s);
  f.app_write("queued");
  abi::FlowState before = f.fs;
  AckFields probe = window_probe(f.fs, f.now);
  EXPECT_EQ(probe.seq, f.lseq(0) - 1);
  EXPECT_EQ(probe.ack, f.rseq(0));
  EXPECT_EQ(probe.flags, kTcpAck);
  EXPECT_EQ(probe.window, 4096);
  EXPECT_EQ(std::memcmp(&before, &f.fs, sizeof before), 0);
  // The peer's answer opens the window.
  RxOutcome out = f.recv_ack(0, 100);
  EXPECT_EQ(out.tx_newly_sendable, 6u);
}

TEST_P(Transmit, ZeroMssSendsNoData) {
  FlowSetup s = setup();
  s.mss = 0;
  Flow f(s);
  f.app_write("abc");
  EXPECT_FALSE(has_sendable(f.fs));
  EXPECT_FALSE(f.send().valid);
}

}  // namespace
}  // namespace vtas::tcp::testing
