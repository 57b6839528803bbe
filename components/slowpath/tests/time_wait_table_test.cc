#include "components/slowpath/time_wait_table.h"

#include <gtest/gtest.h>

namespace vtas::conn {
namespace {

TimeWaitRecord rec(uint16_t remote_port, uint64_t expires, uint8_t flags = kTimeWaitSeqsKnown) {
  TimeWaitRecord r{};
  r.local_ip = 1;
  r.remote_ip = 2;
  r.local_port = 80;
  r.remote_port = remote_port;
  r.snd_nxt = 5001;
  r.rcv_nxt = 9001;
  r.ts_recent = 100;
  r.expires_ns = expires;
  r.flags = flags;
  return r;
}

FourTuple tuple(uint16_t remote_port) {
  return FourTuple{1, 2, 80, remote_port};
}

TEST(TimeWaitTable, AddFindRemoveAndBound) {
  TimeWaitTable t(2);
  EXPECT_TRUE(t.add(rec(1, 10), 0));
  EXPECT_TRUE(t.add(rec(2, 20), 1));
  EXPECT_TRUE(t.full());
  EXPECT_FALSE(t.add(rec(3, 30), 2));
  EXPECT_TRUE(t.add(rec(2, 25), 1));  // replacing an entry is fine when full
  ASSERT_NE(t.find(tuple(2)), nullptr);
  EXPECT_EQ(t.find(tuple(2))->record.expires_ns, 25u);
  auto removed = t.remove(tuple(1));
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->slot, 0u);
  EXPECT_EQ(t.find(tuple(1)), nullptr);
  EXPECT_EQ(t.size(), 1u);
}

TEST(TimeWaitTable, ExpiresInDeadlineOrderAndRespectsRestarts) {
  TimeWaitTable t(10);
  t.add(rec(1, 30), 0);
  t.add(rec(2, 10), 1);
  t.add(rec(3, 20), 2);
  t.set_expiry(tuple(2), 40);  // a retransmitted FIN restarted it
  EXPECT_EQ(t.next_expiry(), 20u);
  auto gone = t.expire(30);
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone[0].record.remote_port, 3);
  EXPECT_EQ(gone[1].record.remote_port, 1);
  EXPECT_NE(t.find(tuple(2)), nullptr);
  EXPECT_EQ(t.expire(40).size(), 1u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.next_expiry());
}

Segment seg(uint8_t flags, uint32_t seq, uint32_t ack, bool ts = false, uint32_t tsval = 0) {
  Segment s;
  s.tuple = tuple(1);
  s.flags = flags;
  s.seq = seq;
  s.ack = ack;
  s.options.has_timestamps = ts;
  s.options.tsval = tsval;
  return s;
}

TEST(TimeWaitAnswer, RetransmittedFinIsAckedAndRestartsTheWait) {
  auto a = time_wait_answer(rec(1, 0), seg(wire::kTcpFin | wire::kTcpAck, 9000, 5001), true);
  EXPECT_EQ(a.action, TimeWaitAction::kAckAndRestart);
  EXPECT_EQ(a.seq, 5001u);
  EXPECT_EQ(a.ack, 9001u);
}

TEST(TimeWaitAnswer, WithoutFlowInfoTheSegmentProvidesTheNumbers) {
  auto a = time_wait_answer(rec(1, 0, 0), seg(wire::kTcpFin | wire::kTcpAck, 700, 300), true);
  EXPECT_EQ(a.action, TimeWaitAction::kAckAndRestart);
  EXPECT_EQ(a.seq, 300u);
  EXPECT_EQ(a.ack, 701u);
}

TEST(TimeWaitAnswer, RstsAndSegmentsWithoutAckAreIgnored) {
  EXPECT_EQ(time_wait_answer(rec(1, 0), seg(wire::kTcpRst, 9001, 0), true).action,
            TimeWaitAction::kIgnore);
  EXPECT_EQ(
      time_wait_answer(rec(1, 0), seg(wire::kTcpRst | wire::kTcpAck, 9001, 5001), true).action,
      TimeWaitAction::kIgnore);
  EXPECT_EQ(time_wait_answer(rec(1, 0), seg(wire::kTcpFin, 9000, 0), true).action,
            TimeWaitAction::kIgnore);
}

TEST(TimeWaitAnswer, OtherAcksGetOurAck) {
  auto a = time_wait_answer(rec(1, 0), seg(wire::kTcpAck, 12345, 5001), true);
  EXPECT_EQ(a.action, TimeWaitAction::kAck);
  EXPECT_EQ(a.seq, 5001u);
  EXPECT_EQ(a.ack, 9001u);
}

TEST(TimeWaitAnswer, NewerSynReopensOlderSynIsAcked) {
  const TimeWaitRecord with_ts = rec(1, 0, kTimeWaitSeqsKnown | kTimeWaitTimestamps);
  EXPECT_EQ(time_wait_answer(with_ts, seg(wire::kTcpSyn, 1, 0, true, 101), true).action,
            TimeWaitAction::kReopen);
  auto old = time_wait_answer(with_ts, seg(wire::kTcpSyn, 99999, 0, true, 100), true);
  EXPECT_EQ(old.action, TimeWaitAction::kAck);
  EXPECT_EQ(old.seq, 5001u);
  // Without timestamps the sequence number decides (RFC 1122 4.2.2.13).
  EXPECT_EQ(time_wait_answer(rec(1, 0), seg(wire::kTcpSyn, 9002, 0), true).action,
            TimeWaitAction::kReopen);
  EXPECT_EQ(time_wait_answer(rec(1, 0), seg(wire::kTcpSyn, 8000, 0), true).action,
            TimeWaitAction::kAck);
  // Reopening switched off: every SYN is refused.
  EXPECT_EQ(time_wait_answer(with_ts, seg(wire::kTcpSyn, 1, 0, true, 101), false).action,
            TimeWaitAction::kAck);
  // Unknown sequence numbers: nothing to say.
  EXPECT_EQ(time_wait_answer(rec(1, 0, 0), seg(wire::kTcpSyn, 1, 0), true).action,
            TimeWaitAction::kIgnore);
}

TEST(TimeWaitAnswer, ALingerDropsLateAcksAcksFinsAndLetsAnySynIn) {
  const TimeWaitRecord linger = rec(1, 0, kTimeWaitLinger);
  EXPECT_EQ(time_wait_answer(linger, seg(wire::kTcpAck, 700, 300), true).action,
            TimeWaitAction::kIgnore);
  auto fin = time_wait_answer(linger, seg(wire::kTcpFin | wire::kTcpAck, 700, 300), true);
  EXPECT_EQ(fin.action, TimeWaitAction::kAck);  // answered, but the linger is not prolonged
  EXPECT_EQ(fin.ack, 701u);
  EXPECT_EQ(time_wait_answer(linger, seg(wire::kTcpSyn, 1, 0), false).action,
            TimeWaitAction::kReopen);
}

}  // namespace
}  // namespace vtas::conn
