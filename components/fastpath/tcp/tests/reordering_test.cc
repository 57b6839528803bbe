// Reordering tolerance of the sender: a go-back-N that the peer's timestamps prove spurious
// (RFC 3522 Eifel detection) is undone (rate restored, counted in cnt_tx_undos) and the
// flow's duplicate-ACK threshold doubles, bounded by what the data in flight can produce.
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(Reordering);

constexpr uint32_t kSentAt = 2000000;       // fast-path time (TSval) of the original segments
constexpr uint32_t kWentBackAt = 2000500;   // ...and of the go-back-N
constexpr uint32_t kPeerTsval = 300;        // the peer's TSval (above the setup's ts_recent)

FlowSetup timestamped(FlowSetup s, uint32_t rate_kbps = 1000) {
  s.mss = 100;
  s.extra_flags = abi::kFlowTimestamps;
  s.tx_rate_kbps = rate_kbps;
  return s;
}

// Sends `segments` 100-byte segments at kSentAt; the peer acknowledges the first.
void send_segments(Flow& f, int segments) {
  f.app_write(std::string(100 * segments, 'x'));
  f.now = kSentAt;
  for (int i = 0; i < segments; ++i) ASSERT_EQ(f.send().len, 100u);
  f.recv(f.peer(0).ack(f.lseq(100)).ts(kPeerTsval, kSentAt));
}

// A duplicate ACK of lseq(100) echoing `tsecr`.
RxOutcome dup_ack(Flow& f, uint32_t tsecr) {
  return f.recv(f.peer(0).ack(f.lseq(100)).ts(kPeerTsval, tsecr));
}

// Three duplicate ACKs at kWentBackAt: the go-back-N under test.
void go_back(Flow& f) {
  f.now = kWentBackAt;
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(dup_ack(f, kSentAt).went_back_n);
  ASSERT_TRUE(dup_ack(f, kSentAt).went_back_n);
  ASSERT_EQ(f.fs.tx_rate_kbps, 500u);
}

TEST_P(Reordering, AckOfTheOriginalSegmentsUndoesTheGoBackN) {
  Flow f(timestamped(setup()));
  send_segments(f, 5);
  go_back(f);
  f.send();  // the first resent segment, TSval kWentBackAt
  // The late segment arrived after all: the peer acknowledges everything, echoing the
  // TSval of the original transmission that filled its hole.
  RxOutcome out = f.recv(f.peer(0).ack(f.lseq(500)).ts(kPeerTsval, kSentAt));
  EXPECT_EQ(out.app_tx_bump, 400u);
  EXPECT_EQ(f.fs.tx_rate_kbps, 1000u);
  EXPECT_EQ(f.fs.cnt_tx_undos, 1u);
  EXPECT_EQ(f.fs.cnt_tx_drops, 1u);  // the loss event stays counted; cc discounts the undo
  EXPECT_EQ(f.fs.dupack_threshold, 6u);
  EXPECT_EQ(f.fs.tx_next_seq, f.lseq(500));
  EXPECT_EQ(f.fs.tx_avail, 0u);
}

TEST_P(Reordering, AckOfTheResentSegmentIsAGenuineLoss) {
  Flow f(timestamped(setup()));
  send_segments(f, 5);
  go_back(f);
  f.send();
  f.recv(f.peer(0).ack(f.lseq(200)).ts(kPeerTsval, kWentBackAt));
  EXPECT_EQ(f.fs.tx_rate_kbps, 500u);
  EXPECT_EQ(f.fs.cnt_tx_undos, 0u);
  EXPECT_EQ(f.fs.dupack_threshold, 0u);
  // Disarmed: a later ACK echoing an old TSval undoes nothing.
  f.recv(f.peer(0).ack(f.lseq(300)).ts(kPeerTsval, kSentAt));
  EXPECT_EQ(f.fs.tx_rate_kbps, 500u);
}

TEST_P(Reordering, UndoKeepsAHigherRateThatCcSetMeanwhile) {
  Flow f(timestamped(setup()));
  send_segments(f, 5);
  go_back(f);
  f.fs.tx_rate_kbps = 4000;  // cc's next step
  f.recv(f.peer(0).ack(f.lseq(500)).ts(kPeerTsval, kSentAt));
  EXPECT_EQ(f.fs.tx_rate_kbps, 4000u);
  EXPECT_EQ(f.fs.cnt_tx_undos, 1u);
}

TEST_P(Reordering, UnlimitedRateStaysUnlimited) {
  Flow f(timestamped(setup(), 0));
  f.app_write(std::string(500, 'x'));
  f.now = kSentAt;
  for (int i = 0; i < 5; ++i) f.send();
  f.recv(f.peer(0).ack(f.lseq(100)).ts(kPeerTsval, kSentAt));
  f.now = kWentBackAt;
  for (int i = 0; i < 3; ++i) dup_ack(f, kSentAt);
  f.recv(f.peer(0).ack(f.lseq(500)).ts(kPeerTsval, kSentAt));
  EXPECT_EQ(f.fs.tx_rate_kbps, 0u);
  EXPECT_EQ(f.fs.cnt_tx_undos, 1u);
}

TEST_P(Reordering, LearntThresholdNeedsMoreDuplicates) {
  Flow f(timestamped(setup()));
  f.fs.dupack_threshold = 6;
  send_segments(f, 12);  // 11 segments in flight can produce 10 duplicates
  f.now = kWentBackAt;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(dup_ack(f, kSentAt).went_back_n) << i;
  EXPECT_TRUE(dup_ack(f, kSentAt).went_back_n);
}

TEST_P(Reordering, ThresholdIsBoundedByWhatTheFlightCanProduce) {
  Flow f(timestamped(setup()));
  f.fs.dupack_threshold = kMaxDupAckThreshold;
  send_segments(f, 5);  // 4 in flight: a loss brings at most 3 duplicates
  EXPECT_EQ(dupack_threshold(f.fs), 3u);
  f.now = kWentBackAt;
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(dup_ack(f, kSentAt).went_back_n);
  EXPECT_TRUE(dup_ack(f, kSentAt).went_back_n);
}

TEST_P(Reordering, ThresholdStopsGrowingAtItsMaximum) {
  Flow f(timestamped(setup()));
  f.fs.dupack_threshold = kMaxDupAckThreshold - 1;
  send_segments(f, 5);
  go_back(f);
  f.recv(f.peer(0).ack(f.lseq(500)).ts(kPeerTsval, kSentAt));
  EXPECT_EQ(f.fs.dupack_threshold, kMaxDupAckThreshold);
}

TEST_P(Reordering, WithoutTimestampsNothingIsUndone) {
  FlowSetup s = setup();
  s.mss = 100;
  s.tx_rate_kbps = 1000;
  Flow f(s);
  f.app_write(std::string(500, 'x'));
  for (int i = 0; i < 5; ++i) f.send();
  f.recv_ack(100);
  for (int i = 0; i < 3; ++i) f.recv_ack(100);
  ASSERT_EQ(f.fs.tx_rate_kbps, 500u);
  f.recv_ack(500);
  EXPECT_EQ(f.fs.tx_rate_kbps, 500u);
  EXPECT_EQ(f.fs.cnt_tx_undos, 0u);
}

}  // namespace
}  // namespace vtas::tcp::testing
