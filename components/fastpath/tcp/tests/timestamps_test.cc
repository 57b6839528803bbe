// TCP timestamps (RFC 7323): TS.Recent, PAWS, and the options on what we send.
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(Timestamps);

FlowSetup with_timestamps(FlowSetup s) {
  s.extra_flags |= abi::kFlowTimestamps;
  s.ts_recent = 100;
  return s;
}

TEST_P(Timestamps, InOrderSegmentUpdatesTsRecentAndIsEchoed) {
  Flow f(with_timestamps(setup()));
  RxOutcome out = f.recv(f.peer(0).data("abc").ts(150, 0));
  EXPECT_EQ(f.fs.ts_recent, 150u);
  ASSERT_TRUE(out.ack.has_ts);
  EXPECT_EQ(out.ack.tsval, f.now);
  EXPECT_EQ(out.ack.tsecr, 150u);
}

TEST_P(Timestamps, OutOfOrderSegmentDoesNotUpdateTsRecent) {
  Flow f(with_timestamps(setup()));
  RxOutcome out = f.recv(f.peer(5).data("fgh").ts(200, 0));
  EXPECT_EQ(f.fs.ts_recent, 100u);
  EXPECT_EQ(out.ack.tsecr, 100u);
}

TEST_P(Timestamps, SegmentCoveringRcvNxtUpdatesTsRecent) {
  Flow f(with_timestamps(setup()));
  f.recv(f.peer(0).data("abc").ts(150, 0));
  f.recv(f.peer(1).data("bcdef").ts(300, 0));  // starts before RCV.NXT, covers it
  EXPECT_EQ(f.fs.ts_recent, 300u);
  EXPECT_EQ(f.delivered, "abcdef");
}

TEST_P(Timestamps, PawsDropsOldSegmentsAndAcks) {
  Flow f(with_timestamps(setup()));
  RxOutcome out = f.recv(f.peer(0).data("abc").ts(99, 0));
  EXPECT_EQ(out.drop, DropReason::kPaws);
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.tsecr, 100u);
  EXPECT_EQ(f.delivered, "");
  EXPECT_EQ(f.fs.ts_recent, 100u);
  out = f.recv(f.peer(0).data("abc").ts(100, 0));  // equal is not older
  EXPECT_EQ(out.drop, DropReason::kNone);
  EXPECT_EQ(f.delivered, "abc");
}

TEST_P(Timestamps, PawsIsWrapSafe) {
  FlowSetup s = with_timestamps(setup());
  s.ts_recent = 0xFFFFFFF0u;
  Flow f(s);
  f.recv(f.peer(0).data("a").ts(5, 0));  // after the peer's clock wrapped
  EXPECT_EQ(f.fs.ts_recent, 5u);
  EXPECT_EQ(f.recv(f.peer(1).data("b").ts(0xFFFFFF00u, 0)).drop, DropReason::kPaws);
  EXPECT_EQ(f.delivered, "a");
}

TEST_P(Timestamps, SegmentWithoutTheOptionIsAccepted) {
  Flow f(with_timestamps(setup()));
  RxOutcome out = f.recv(f.peer(0).data("abc"));  // RFC 7323 says SHOULD drop; Linux accepts
  EXPECT_EQ(out.app_rx_bump, 3u);
  EXPECT_EQ(f.fs.ts_recent, 100u);
}

TEST_P(Timestamps, ResetIsNotSubjectToPaws) {
  Flow f(with_timestamps(setup()));
  RxOutcome out = f.recv(f.peer(0).flags(kTcpRst).ts(1, 0));
  EXPECT_EQ(out.flow_event, FlowEvent::kReset);
}

TEST_P(Timestamps, FlowsWithoutTimestampsIgnoreTheOption) {
  Flow f(setup());
  RxOutcome out = f.recv(f.peer(0).data("abc").ts(1, 0));  // older than ts_recent: no PAWS
  EXPECT_EQ(out.app_rx_bump, 3u);
  EXPECT_FALSE(out.ack.has_ts);
  f.app_write("x");
  EXPECT_FALSE(f.send().hdr.has_ts);
}

TEST_P(Timestamps, SentSegmentsCarryTheOption) {
  Flow f(with_timestamps(setup()));
  f.recv(f.peer(0).data("abc").ts(777, 0));
  f.now += 42;
  f.app_write("xyz");
  TxSegment seg = f.send();
  ASSERT_TRUE(seg.hdr.has_ts);
  EXPECT_EQ(seg.hdr.tsval, f.now);
  EXPECT_EQ(seg.hdr.tsecr, 777u);
  AckFields ack = pure_ack(f.fs, f.now + 1);
  EXPECT_TRUE(ack.has_ts);
  EXPECT_EQ(ack.tsval, f.now + 1);
  EXPECT_EQ(ack.tsecr, 777u);
  AckFields probe = window_probe(f.fs, f.now + 2);
  EXPECT_TRUE(probe.has_ts);
  EXPECT_EQ(probe.tsval, f.now + 2);
}

}  // namespace
}  // namespace vtas::tcp::testing
