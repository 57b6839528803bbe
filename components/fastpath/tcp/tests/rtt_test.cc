// RTT estimation: from the timestamp echo when negotiated, otherwise from one timed segment per
// RTT that was never retransmitted (Karn); RFC 6298 smoothing; samples above 100 ms ignored.
#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(RttWithTimestamps);
VTAS_TCP_SUITE(RttWithoutTimestamps);

FlowSetup with_timestamps(FlowSetup s) {
  s.extra_flags |= abi::kFlowTimestamps;
  s.mss = 100;
  return s;
}

TEST_P(RttWithTimestamps, EchoOfOurTsvalGivesTheSample) {
  Flow f(with_timestamps(setup()));
  f.app_write(std::string(200, 'x'));
  uint32_t t0 = f.now;
  EXPECT_EQ(f.send().hdr.tsval, t0);
  f.now += 500;
  f.recv(f.peer(0).ack(f.lseq(100)).ts(200, t0));
  EXPECT_EQ(f.fs.rtt_us, 500u);
  EXPECT_EQ(f.fs.rtt_var_us, 250u);
  uint32_t t1 = f.now;
  f.send();
  f.now += 1000;
  f.recv(f.peer(0).ack(f.lseq(200)).ts(201, t1));
  EXPECT_EQ(f.fs.rtt_var_us, (3 * 250u + 500) / 4);
  EXPECT_EQ(f.fs.rtt_us, (7 * 500u + 1000) / 8);
}

TEST_P(RttWithTimestamps, NoSampleWithoutProgress) {
  Flow f(with_timestamps(setup()));
  f.app_write(std::string(200, 'x'));
  uint32_t t0 = f.now;
  f.send();
  f.send();
  f.now += 500;
  f.recv(f.peer(0).ack(f.lseq(0)).ts(200, t0));  // a duplicate ACK
  EXPECT_EQ(f.fs.rtt_us, 0u);
  f.recv(f.peer(0).ack(f.lseq(100)));  // no timestamps option on this one: no sample
  EXPECT_EQ(f.fs.rtt_us, 0u);
}

TEST_P(RttWithTimestamps, SamplesAbove100msAreIgnored) {
  Flow f(with_timestamps(setup()));
  f.app_write(std::string(200, 'x'));
  uint32_t t0 = f.now;
  f.send();
  f.send();
  f.now += 100001;
  f.recv(f.peer(0).ack(f.lseq(100)).ts(200, t0));
  EXPECT_EQ(f.fs.rtt_us, 0u);
  f.recv(f.peer(0).ack(f.lseq(200)).ts(201, f.now - 100000));
  EXPECT_EQ(f.fs.rtt_us, 100000u);
}

TEST_P(RttWithTimestamps, EchoFromTheFutureIsIgnored) {
  Flow f(with_timestamps(setup()));
  f.app_write(std::string(100, 'x'));
  f.send();
  f.recv(f.peer(0).ack(f.lseq(100)).ts(200, f.now + 5));  // garbage echo
  EXPECT_EQ(f.fs.rtt_us, 0u);
}

TEST_P(RttWithTimestamps, ZeroSampleCountsAsOneMicrosecond) {
  Flow f(with_timestamps(setup()));
  f.app_write(std::string(100, 'x'));
  f.send();
  f.recv(f.peer(0).ack(f.lseq(100)).ts(200, f.now));
  EXPECT_EQ(f.fs.rtt_us, 1u);
}

TEST_P(RttWithoutTimestamps, OneSegmentPerRttIsTimed) {
  FlowSetup s = setup();
  s.mss = 100;
  Flow f(s);
  f.app_write(std::string(200, 'x'));
  uint32_t t0 = f.now;
  f.send();  // timed
  EXPECT_EQ(f.fs.tcp_bits & kBitRttTiming, kBitRttTiming);
  EXPECT_EQ(f.fs.rtt_timed_end, f.lseq(100));
  f.now += 10;
  f.send();  // not timed: one is already
  EXPECT_EQ(f.fs.rtt_timed_end, f.lseq(100));
  f.now = t0 + 300;
  f.recv_ack(100);
  EXPECT_EQ(f.fs.rtt_us, 300u);
  EXPECT_EQ(f.fs.rtt_var_us, 150u);
  EXPECT_EQ(f.fs.tcp_bits & kBitRttTiming, 0);
  f.now = t0 + 400;
  f.recv_ack(200);  // the second segment was not timed
  EXPECT_EQ(f.fs.rtt_us, 300u);
  f.app_write(std::string(100, 'y'));
  uint32_t t2 = f.now;
  f.send();
  f.now = t2 + 600;
  f.recv_ack(300);
  EXPECT_EQ(f.fs.rtt_var_us, (3 * 150u + 300) / 4);
  EXPECT_EQ(f.fs.rtt_us, (7 * 300u + 600) / 8);
}

TEST_P(RttWithoutTimestamps, RetransmittedSegmentGivesNoSample) {
  FlowSetup s = setup();
  s.mss = 100;
  Flow f(s);
  f.app_write(std::string(100, 'x'));
  f.send();
  f.now += 1000;
  go_back_n(f.fs, f.now);  // RTO
  EXPECT_EQ(f.fs.tcp_bits & kBitRttTiming, 0);
  TxSegment seg = f.send();
  EXPECT_TRUE(seg.retransmission);
  EXPECT_EQ(f.fs.tcp_bits & kBitRttTiming, 0);  // Karn: a resent segment is never timed
  f.now += 100;
  f.recv_ack(100);
  EXPECT_EQ(f.fs.rtt_us, 0u);  // ambiguous: which transmission is acknowledged?
}

TEST_P(RttWithoutTimestamps, NewDataAfterRecoveryIsTimedAgain) {
  FlowSetup s = setup();
  s.mss = 100;
  Flow f(s);
  f.app_write(std::string(200, 'x'));
  f.send();
  f.send();
  go_back_n(f.fs, f.now);
  f.send();
  f.send();
  EXPECT_EQ(f.fs.tcp_bits & kBitRttTiming, 0);
  f.app_write(std::string(100, 'y'));
  uint32_t t_new = f.now;
  TxSegment seg = f.send();
  EXPECT_FALSE(seg.retransmission);
  EXPECT_EQ(f.fs.rtt_timed_end, f.lseq(300));
  f.now += 700;
  f.recv_ack(200);
  EXPECT_EQ(f.fs.rtt_us, 0u);
  f.recv_ack(300);
  EXPECT_EQ(f.fs.rtt_us, f.now - t_new);
}

}  // namespace
}  // namespace vtas::tcp::testing
