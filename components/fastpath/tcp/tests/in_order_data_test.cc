// Receiving in-order data on an established flow: delivery into the circular rx buffer, the
// ACK for it, trimming of old bytes, and segments outside the window.
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(InOrderData);

TEST_P(InOrderData, SegmentIsDeliveredAndAcked) {
  Flow f(setup());
  RxOutcome out = f.recv_data(0, "hello");
  EXPECT_EQ(out.app_rx_bump, 5u);
  EXPECT_EQ(out.app_rx_pos, 0u);
  EXPECT_EQ(f.delivered, "hello");
  EXPECT_EQ(out.drop, DropReason::kNone);
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.seq, f.lseq(0));
  EXPECT_EQ(out.ack.ack, f.rseq(5));
  EXPECT_EQ(out.ack.flags, kTcpAck);
  EXPECT_EQ(out.ack.window, 4096 - 5);
  EXPECT_FALSE(out.ack.has_ts);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(5));
  EXPECT_EQ(f.fs.rx_next_pos, 5u);
  EXPECT_EQ(f.fs.rx_avail, 4096u - 5);
  EXPECT_EQ(out.flow_event, FlowEvent::kNone);
}

TEST_P(InOrderData, ConsecutiveSegmentsAreAppended) {
  Flow f(setup());
  f.recv_data(0, "hel");
  RxOutcome out = f.recv_data(3, "lo world");
  EXPECT_EQ(out.app_rx_pos, 3u);
  EXPECT_EQ(out.app_rx_bump, 8u);
  EXPECT_EQ(f.delivered, "hello world");
  EXPECT_EQ(out.ack.ack, f.rseq(11));
}

TEST_P(InOrderData, PureAckIsNotAnswered) {
  Flow f(setup());
  RxOutcome out = f.recv_ack(0);
  EXPECT_FALSE(out.send_ack);
  EXPECT_FALSE(out.has_app_event());
  EXPECT_EQ(out.drop, DropReason::kNone);
}

TEST_P(InOrderData, SegmentWithoutAckBitIsDropped) {
  Flow f(setup());
  RxOutcome out = f.recv(f.peer(0).data("abc").no_ack());
  EXPECT_EQ(out.drop, DropReason::kNoAck);
  EXPECT_FALSE(out.send_ack);
  EXPECT_EQ(f.delivered, "");
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(0));
}

TEST_P(InOrderData, DataWrapsAroundTheEndOfTheBuffer) {
  FlowSetup s = setup();
  s.rx_len = 16;
  s.rx_start_pos = 13;
  Flow f(s);
  RxOutcome out = f.recv_data(0, "abcdefgh");
  EXPECT_EQ(out.app_rx_pos, 13u);
  EXPECT_EQ(out.app_rx_bump, 8u);
  EXPECT_EQ(f.fs.rx_next_pos, 5u);
  EXPECT_EQ(f.delivered, "abcdefgh");
  EXPECT_EQ(std::string(f.rx_buf.begin() + 13, f.rx_buf.end()), "abc");
  EXPECT_EQ(std::string(f.rx_buf.begin(), f.rx_buf.begin() + 5), "defgh");
}

TEST_P(InOrderData, BufferIsReusedAfterTheAppReads) {
  FlowSetup s = setup();
  s.rx_len = 10;
  Flow f(s);
  f.recv_data(0, "0123456789");
  EXPECT_EQ(f.fs.rx_avail, 0u);
  EXPECT_EQ(f.fs.rx_next_pos, 0u);
  ASSERT_TRUE(f.app_read(6).accepted());
  RxOutcome out = f.recv_data(10, "abcdef");
  EXPECT_EQ(out.app_rx_pos, 0u);
  EXPECT_EQ(out.app_rx_bump, 6u);
  f.app_read(10);
  out = f.recv_data(16, "ghijklmnop");  // crosses the end of the buffer
  EXPECT_EQ(out.app_rx_pos, 6u);
  EXPECT_EQ(out.app_rx_bump, 10u);
  EXPECT_EQ(f.fs.rx_next_pos, 6u);
  EXPECT_EQ(f.delivered, "0123456789abcdefghijklmnop");
}

TEST_P(InOrderData, SegmentStartingWithOldBytesDeliversOnlyTheNewOnes) {
  Flow f(setup());
  f.recv_data(0, "hello");
  RxOutcome out = f.recv_data(2, "llo world");
  EXPECT_EQ(out.app_rx_pos, 5u);
  EXPECT_EQ(out.app_rx_bump, 6u);
  EXPECT_EQ(f.delivered, "hello world");
  EXPECT_EQ(out.ack.ack, f.rseq(11));
}

TEST_P(InOrderData, DuplicateSegmentIsAckedAndDropped) {
  Flow f(setup());
  f.recv_data(0, "hello");
  RxOutcome out = f.recv_data(0, "hello");
  EXPECT_EQ(out.drop, DropReason::kDuplicate);
  EXPECT_EQ(out.app_rx_bump, 0u);
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.ack, f.rseq(5));
  out = f.recv_data(1, "ell");  // entirely old, ends before RCV.NXT
  EXPECT_EQ(out.drop, DropReason::kDuplicate);
  EXPECT_TRUE(out.send_ack);
  EXPECT_EQ(f.delivered, "hello");
  EXPECT_EQ(f.fs.rx_avail, 4096u - 5);
}

TEST_P(InOrderData, SegmentBeyondTheWindowIsAckedAndDropped) {
  FlowSetup s = setup();
  s.rx_len = 100;
  Flow f(s);
  RxOutcome out = f.recv_data(100, "x");
  EXPECT_EQ(out.drop, DropReason::kOutOfWindow);
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.ack, f.rseq(0));
  EXPECT_EQ(out.ack.window, 100);
  out = f.recv_data(0x7FFFFFF0u, "far away");
  EXPECT_EQ(out.drop, DropReason::kOutOfWindow);
  out = f.recv_data(0x90000000u, "far behind");  // "before" RCV.NXT by more than 2^30
  EXPECT_EQ(out.drop, DropReason::kDuplicate);
  EXPECT_EQ(f.fs.rx_ooo_count, 0u);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(0));
  EXPECT_EQ(f.delivered, "");
}

TEST_P(InOrderData, SegmentCrossingTheRightEdgeIsTrimmed) {
  FlowSetup s = setup();
  s.rx_len = 10;
  Flow f(s);
  RxOutcome out = f.recv_data(0, "0123456789abcde");
  EXPECT_EQ(out.app_rx_bump, 10u);
  EXPECT_EQ(out.drop, DropReason::kTrimmed);
  EXPECT_EQ(f.delivered, "0123456789");
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.ack, f.rseq(10));
  EXPECT_EQ(out.ack.window, 0);
}

TEST_P(InOrderData, OldAckFieldDoesNotStopTheData) {
  Flow f(setup());
  f.app_write("0123456789");
  f.send();
  f.recv_ack(10);
  RxOutcome out = f.recv(f.peer(0).data("abc").ack(f.lseq(4)));  // reordered, older ACK
  EXPECT_EQ(out.app_rx_bump, 3u);
  EXPECT_EQ(out.app_tx_bump, 0u);
  EXPECT_EQ(out.drop, DropReason::kNone);
  EXPECT_EQ(snd_una(f.fs), f.lseq(10));
}

TEST_P(InOrderData, MalformedInputIsRejectedWithoutChange) {
  Flow f(setup());
  Segment seg = f.peer(0).segment();
  seg.payload_len = 70000;
  static uint8_t big[70000];
  seg.payload = big;
  RxOutcome out = receive(f.fs, seg, f.now, RxBuffer{f.rx_buf.data(), f.fs.rx_len});
  EXPECT_EQ(out.drop, DropReason::kMalformed);
  seg.payload = nullptr;
  seg.payload_len = 5;
  out = receive(f.fs, seg, f.now, RxBuffer{f.rx_buf.data(), f.fs.rx_len});
  EXPECT_EQ(out.drop, DropReason::kMalformed);
  seg = f.peer(0).data("abc").segment();
  out = receive(f.fs, seg, f.now, RxBuffer{f.rx_buf.data(), f.fs.rx_len - 1});
  EXPECT_EQ(out.drop, DropReason::kBadBuffer);
  EXPECT_FALSE(out.send_ack);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(0));
}

}  // namespace
}  // namespace vtas::tcp::testing
