// Out-of-order data: up to kMaxOooIntervals intervals kept in the rx buffer at their final
// position, merged with overlapping or adjacent segments, never forgotten once kept (they may
// have been reported in SACK blocks), and delivered at once when the hole before them fills.
#include <vector>

#include "components/fastpath/tcp/out_of_order.h"
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(OutOfOrder);

using Interval = std::pair<uint32_t, uint32_t>;

// The stored intervals, as peer offsets [start, end), in sequence order.
std::vector<Interval> intervals(const Flow& f) {
  std::vector<Interval> all;
  for (uint32_t i = 0; i < f.fs.rx_ooo_count; ++i) {
    const uint32_t start = f.fs.rx_ooo[i].start - f.rseq(0);
    all.emplace_back(start, start + f.fs.rx_ooo[i].len);
  }
  return all;
}
// The only stored interval ({0, 0} when there is none or several).
Interval interval(const Flow& f) {
  const std::vector<Interval> all = intervals(f);
  return all.size() == 1 ? all[0] : Interval(0, 0);
}

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
  EXPECT_EQ(f.fs.rx_ooo_count, 0u);
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

TEST_P(OutOfOrder, SeveralHolesKeepSeveralIntervals) {
  Flow f(setup());
  f.recv_data(10, "klmno");
  RxOutcome out = f.recv_data(3, "de");  // not adjacent: a second interval, before the first
  EXPECT_EQ(out.drop, DropReason::kNone);
  f.recv_data(20, "uv");
  EXPECT_EQ(intervals(f), (std::vector<Interval>{{3, 5}, {10, 15}, {20, 22}}));
  out = f.recv_data(0, "abc");
  EXPECT_EQ(out.app_rx_bump, 5u);
  EXPECT_EQ(f.delivered, "abcde");
  EXPECT_EQ(intervals(f), (std::vector<Interval>{{10, 15}, {20, 22}}));
  out = f.recv_data(5, "fghij");
  EXPECT_EQ(out.app_rx_bump, 10u);
  EXPECT_EQ(f.delivered, "abcdefghijklmno");
  f.recv_data(15, "pqrst");
  EXPECT_EQ(f.delivered, "abcdefghijklmnopqrstuv");
  EXPECT_EQ(f.fs.rx_ooo_count, 0u);
}

TEST_P(OutOfOrder, ASegmentBridgingTwoIntervalsMergesThem) {
  Flow f(setup());
  f.recv_data(4, "ef");
  f.recv_data(10, "kl");
  f.recv_data(16, "qr");
  f.recv_data(6, "ghij");  // touches both [4, 6) and [10, 12)
  EXPECT_EQ(intervals(f), (std::vector<Interval>{{4, 12}, {16, 18}}));
  EXPECT_EQ(f.fs.rx_ooo_recent, 0u);
}

TEST_P(OutOfOrder, WithEverySlotTakenANewSegmentIsDroppedNotAKeptInterval) {
  Flow f(setup());
  for (uint32_t i = 0; i < abi::kMaxOooIntervals; ++i) f.recv_data(10 + 10 * i, "xx");
  ASSERT_EQ(f.fs.rx_ooo_count, abi::kMaxOooIntervals);
  RxOutcome out = f.recv_data(5, "f");  // closer, but keeping it would forget a kept interval
  EXPECT_EQ(out.drop, DropReason::kOooDropped);
  EXPECT_TRUE(out.send_ack);
  out = f.recv_data(12, "yy");  // adjacent to a kept one: merged, no slot needed
  EXPECT_EQ(out.drop, DropReason::kNone);
  EXPECT_EQ(intervals(f)[0], Interval(10, 14));
}

TEST_P(OutOfOrder, InOrderSegmentCoveringSeveralIntervalsDeliversThroughTheLast) {
  Flow f(setup());
  f.recv_data(3, "d");
  f.recv_data(6, "g");
  f.recv_data(9, "jkl");
  RxOutcome out = f.recv_data(0, "abcdefghij");  // reaches into [9, 12)
  EXPECT_EQ(out.app_rx_bump, 12u);
  EXPECT_EQ(f.delivered, "abcdefghijkl");
  EXPECT_EQ(f.fs.rx_ooo_count, 0u);
}

TEST_P(OutOfOrder, SackBlocksPutTheMostRecentIntervalFirst) {
  Flow f(setup());
  f.recv_data(10, "kl");
  f.recv_data(20, "uv");
  f.recv_data(4, "ef");
  f.recv_data(12, "m");  // grows [10, 12): now the most recent
  abi::OooInterval blocks[abi::kMaxOooIntervals];
  ASSERT_EQ(ooo_sack_blocks(f.fs, blocks, 3), 3u);
  EXPECT_EQ(blocks[0].start, f.rseq(10));
  EXPECT_EQ(blocks[0].len, 3u);
  EXPECT_EQ(blocks[1].start, f.rseq(4));
  EXPECT_EQ(blocks[2].start, f.rseq(20));
  EXPECT_EQ(ooo_sack_blocks(f.fs, blocks, 1), 1u);
  EXPECT_EQ(blocks[0].start, f.rseq(10));
}

TEST_P(OutOfOrder, InOrderSegmentReachingIntoTheIntervalDeliversAll) {
  Flow f(setup());
  f.recv_data(5, "fghij");
  RxOutcome out = f.recv_data(0, "abcdefg");
  EXPECT_EQ(out.app_rx_bump, 10u);
  EXPECT_EQ(f.delivered, "abcdefghij");
  EXPECT_EQ(f.fs.rx_ooo_count, 0u);
}

TEST_P(OutOfOrder, InOrderSegmentCoveringTheIntervalDropsIt) {
  Flow f(setup());
  f.recv_data(5, "fghij");
  RxOutcome out = f.recv_data(0, "abcdefghijkl");
  EXPECT_EQ(out.app_rx_bump, 12u);
  EXPECT_EQ(f.delivered, "abcdefghijkl");
  EXPECT_EQ(f.fs.rx_ooo_count, 0u);
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
