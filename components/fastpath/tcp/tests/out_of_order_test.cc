// Out-of-order data: one interval kept in the rx buffer at its final position, merged with
// overlapping or adjacent segments, the interval closest to RCV.NXT preferred, and delivered at
// once when the hole before it is filled.
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(OutOfOrder);

// The stored interval, as peer offsets [start, end).
std::pair<uint32_t, uint32_t> interval(const Flow& f) {
  uint32_t start = f.fs.rx_ooo_start - f.rseq(0);
  return {start, start + f.fs.rx_ooo_len};
}
using Interval = std::pair<uint32_t, uint32_t>;

TEST_P(OutOfOrder, SegmentAfterAHoleIsStoredAndDuplicateAcked) {
  Flow f(setup());
  RxOutcome out = f.recv_data(5, "fghij");
  EXPECT_EQ(out.app_rx_bump, 0u);
  ASSERT_TRUE(out.send_ack);  // a duplicate ACK: the peer's fast retransmit needs it
  EXPECT_EQ(out.ack.ack, f.rseq(0));
  EXPECT_EQ(out.ack.window, 4096);
  EXPECT_EQ(interval(f), Interval(5, 10));
  EXPECT_EQ(std::string(f.rx_buf.begin() + 5, f.rx_buf.begin() + 10), "fghij");
  EXPECT_EQ(f.fs.rx_avail, 4096u);  // not the app's yet
}

TEST_P(OutOfOrder, FillingTheHoleDeliversTheIntervalAtOnce) {
  Flow f(setup());
  f.recv_data(5, "fghij");
  RxOutcome out = f.recv_data(0, "abcde");
  EXPECT_EQ(out.app_rx_pos, 0u);
  EXPECT_EQ(out.app_rx_bump, 10u);
  EXPECT_EQ(f.delivered, "abcdefghij");
  EXPECT_EQ(f.fs.rx_ooo_len, 0u);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(10));
  EXPECT_EQ(out.ack.ack, f.rseq(10));
  EXPECT_EQ(f.fs.rx_avail, 4096u - 10);
}

TEST_P(OutOfOrder, SegmentRightAfterTheIntervalExtendsIt) {
  Flow f(setup());
  f.recv_data(5, "fghij");
  f.recv_data(10, "klm");
  EXPECT_EQ(interval(f), Interval(5, 13));
  f.recv_data(0, "abcde");
  EXPECT_EQ(f.delivered, "abcdefghijklm");
}

TEST_P(OutOfOrder, SegmentRightBeforeTheIntervalExtendsIt) {
  Flow f(setup());
  f.recv_data(8, "ijk");
  f.recv_data(3, "defgh");
  EXPECT_EQ(interval(f), Interval(3, 11));
  f.recv_data(0, "abc");
  EXPECT_EQ(f.delivered, "abcdefghijk");
}

TEST_P(OutOfOrder, OverlappingSegmentsAreMerged) {
  Flow f(setup());
  f.recv_data(5, "fghij");
  f.recv_data(8, "ijklm");  // overlaps the tail
  EXPECT_EQ(interval(f), Interval(5, 13));
  f.recv_data(3, "defg");  // overlaps the head
  EXPECT_EQ(interval(f), Interval(3, 13));
  f.recv_data(6, "gh");  // inside
  EXPECT_EQ(interval(f), Interval(3, 13));
  f.recv_data(2, "cdefghijklmnop");  // covers it
  EXPECT_EQ(interval(f), Interval(2, 16));
  RxOutcome out = f.recv_data(0, "ab");
  EXPECT_EQ(out.app_rx_bump, 16u);
  EXPECT_EQ(f.delivered, "abcdefghijklmnop");
}

TEST_P(OutOfOrder, DuplicateOfTheIntervalChangesNothing) {
  Flow f(setup());
  f.recv_data(5, "fghij");
  RxOutcome out = f.recv_data(5, "fghij");
  EXPECT_TRUE(out.send_ack);
  EXPECT_EQ(out.drop, DropReason::kNone);
  EXPECT_EQ(interval(f), Interval(5, 10));
}

TEST_P(OutOfOrder, CloserSegmentReplacesAFartherInterval) {
  Flow f(setup());
  f.recv_data(10, "klmno");
  RxOutcome out = f.recv_data(3, "de");  // not adjacent, but closer to RCV.NXT
  EXPECT_EQ(out.drop, DropReason::kNone);
  EXPECT_EQ(interval(f), Interval(3, 5));
  out = f.recv_data(0, "abc");
  EXPECT_EQ(out.app_rx_bump, 5u);
  EXPECT_EQ(f.delivered, "abcde");
  EXPECT_EQ(f.fs.rx_ooo_len, 0u);  // the far interval was forgotten: the peer resends it
  f.recv_data(10, "klmno");
  f.recv_data(5, "fghij");
  EXPECT_EQ(f.delivered, "abcdefghijklmno");
}

TEST_P(OutOfOrder, FartherSegmentIsDroppedWhenNotAdjacent) {
  Flow f(setup());
  f.recv_data(3, "de");
  RxOutcome out = f.recv_data(10, "klmno");
  EXPECT_EQ(out.drop, DropReason::kOooDropped);
  EXPECT_TRUE(out.send_ack);
  EXPECT_EQ(interval(f), Interval(3, 5));
}

TEST_P(OutOfOrder, InOrderSegmentReachingIntoTheIntervalDeliversAll) {
  Flow f(setup());
  f.recv_data(5, "fghij");
  RxOutcome out = f.recv_data(0, "abcdefg");
  EXPECT_EQ(out.app_rx_bump, 10u);
  EXPECT_EQ(f.delivered, "abcdefghij");
  EXPECT_EQ(f.fs.rx_ooo_len, 0u);
}

TEST_P(OutOfOrder, InOrderSegmentCoveringTheIntervalDropsIt) {
  Flow f(setup());
  f.recv_data(5, "fghij");
  RxOutcome out = f.recv_data(0, "abcdefghijkl");
  EXPECT_EQ(out.app_rx_bump, 12u);
  EXPECT_EQ(f.delivered, "abcdefghijkl");
  EXPECT_EQ(f.fs.rx_ooo_len, 0u);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(12));
}

TEST_P(OutOfOrder, InOrderSegmentShortOfTheIntervalKeepsIt) {
  Flow f(setup());
  f.recv_data(5, "fghij");
  RxOutcome out = f.recv_data(0, "abc");
  EXPECT_EQ(out.app_rx_bump, 3u);
  EXPECT_EQ(interval(f), Interval(5, 10));
  out = f.recv_data(3, "de");
  EXPECT_EQ(out.app_rx_bump, 7u);
  EXPECT_EQ(f.delivered, "abcdefghij");
}

TEST_P(OutOfOrder, IntervalIsLimitedToTheFreeBuffer) {
  FlowSetup s = setup();
  s.rx_len = 20;
  Flow f(s);
  RxOutcome out = f.recv_data(15, "pqrstuvwxy");
  EXPECT_EQ(out.drop, DropReason::kTrimmed);
  EXPECT_EQ(interval(f), Interval(15, 20));
  out = f.recv_data(20, "u");  // at the right edge: outside the window
  EXPECT_EQ(out.drop, DropReason::kOutOfWindow);
  f.recv_data(0, "abcdefghijklmno");
  EXPECT_EQ(f.delivered, "abcdefghijklmnopqrst");
  EXPECT_EQ(f.fs.rx_avail, 0u);
}

TEST_P(OutOfOrder, IntervalWrapsAroundTheEndOfTheBuffer) {
  FlowSetup s = setup();
  s.rx_len = 16;
  s.rx_start_pos = 12;
  Flow f(s);
  f.recv_data(2, "cdefgh");  // buffer positions 14, 15, 0, 1, 2, 3
  EXPECT_EQ(std::string(f.rx_buf.begin() + 14, f.rx_buf.end()), "cd");
  EXPECT_EQ(std::string(f.rx_buf.begin(), f.rx_buf.begin() + 4), "efgh");
  RxOutcome out = f.recv_data(0, "ab");
  EXPECT_EQ(out.app_rx_pos, 12u);
  EXPECT_EQ(out.app_rx_bump, 8u);
  EXPECT_EQ(f.fs.rx_next_pos, 4u);
  EXPECT_EQ(f.delivered, "abcdefgh");
}

TEST_P(OutOfOrder, FinAfterAHoleWaitsForItsRetransmission) {
  Flow f(setup());
  RxOutcome out = f.recv(f.peer(5).data("fghij").fin());
  EXPECT_EQ(out.app_flags, 0);
  EXPECT_EQ(interval(f), Interval(5, 10));
  out = f.recv_data(0, "abcde");
  EXPECT_EQ(f.delivered, "abcdefghij");
  EXPECT_EQ(out.app_flags, 0);  // the FIN was not kept
  EXPECT_EQ(load_flags(f.fs) & abi::kFlowRxFin, 0u);
  out = f.recv(f.peer(10).fin());
  EXPECT_EQ(out.app_flags, abi::kArxRxFin);
  EXPECT_EQ(out.ack.ack, f.rseq(11));
}

TEST_P(OutOfOrder, InOrderFinIsIgnoredWhileDataBeyondItIsStored) {
  Flow f(setup());
  f.recv_data(8, "xyz");
  RxOutcome out = f.recv(f.peer(0).data("abc").fin());  // FIN at 3, but bytes at 8..11?
  EXPECT_EQ(out.app_rx_bump, 3u);
  EXPECT_EQ(out.app_flags, 0);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(3));
}

}  // namespace
}  // namespace vtas::tcp::testing
