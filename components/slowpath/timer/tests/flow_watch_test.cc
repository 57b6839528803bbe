#include "components/slowpath/timer/flow_watch.h"

#include <gtest/gtest.h>

namespace vtas::timer {
namespace {

using Action = Verdict::Action;

// A flow with `sent` bytes in flight, RTT 1 ms: RTO = 8 ms with the default policy.
FlowSnapshot in_flight(uint32_t sent) {
  FlowSnapshot s;
  s.flags = abi::kFlowActive;
  s.identity = 42;
  s.tx_sent = sent;
  s.tx_next_seq = 10000 + sent;
  s.rx_remote_avail = 65535;
  s.rtt_us = 1000;
  return s;
}

constexpr uint64_t kT0 = 5000000;  // us
const RtoPolicy kPolicy{};

TEST(FlowWatch, ModesFollowTheFlowState) {
  FlowSnapshot s = in_flight(100);
  EXPECT_EQ(mode_of(s), WatchMode::kRetransmit);
  s.tx_sent = 0;
  EXPECT_EQ(mode_of(s), WatchMode::kIdle);
  s.tx_avail = 10;
  s.rx_remote_avail = 0;
  EXPECT_EQ(mode_of(s), WatchMode::kPersist);
  s = in_flight(0);
  s.flags |= abi::kFlowTxFinSent;  // a lone FIN in flight is timed too
  EXPECT_EQ(mode_of(s), WatchMode::kRetransmit);
  s.flags |= abi::kFlowTxFinAcked;
  EXPECT_EQ(mode_of(s), WatchMode::kIdle);
  for (uint32_t f :
       {0u, abi::kFlowActive | abi::kFlowReset, abi::kFlowActive | abi::kFlowSlowPath}) {
    s = in_flight(100);
    s.flags = f;
    EXPECT_EQ(mode_of(s), WatchMode::kIdle) << f;
  }
}

TEST(FlowWatch, TimesOutAfterTheRtoWithoutProgressAndBacksOff) {
  FlowWatch w;
  FlowSnapshot s = in_flight(1000);
  Verdict v = check_flow(w, s, kT0, kPolicy);
  EXPECT_EQ(v.action, Action::kNone);
  ASSERT_EQ(v.recheck_at_us, kT0 + 8000);

  v = check_flow(w, s, kT0 + 7999, kPolicy);  // early look: nothing yet
  EXPECT_EQ(v.action, Action::kNone);
  EXPECT_EQ(v.recheck_at_us, kT0 + 8000);

  v = check_flow(w, s, kT0 + 8000, kPolicy);
  EXPECT_EQ(v.action, Action::kRetransmit);
  EXPECT_TRUE(v.store_backoff);
  EXPECT_EQ(w.backoff, 1u);
  EXPECT_EQ(v.recheck_at_us, kT0 + 8000 + 16000);

  v = check_flow(w, s, kT0 + 24000, kPolicy);
  EXPECT_EQ(v.action, Action::kRetransmit);
  EXPECT_EQ(w.backoff, 2u);
  EXPECT_EQ(v.recheck_at_us, kT0 + 24000 + 32000);
}

TEST(FlowWatch, AckProgressResetsTheBackoffAndTimesFromTheAck) {
  FlowWatch w;
  FlowSnapshot s = in_flight(3000);
  check_flow(w, s, kT0, kPolicy);
  check_flow(w, s, kT0 + 8000, kPolicy);  // timeout 1
  ASSERT_EQ(w.backoff, 1u);
  // 1000 bytes acknowledged at kT0 + 9000 (fast-path clock), the rest still in flight.
  s.cnt_rx_ack_bytes = 1000;
  s.tx_sent = 2000;
  s.last_ack_us = static_cast<uint32_t>(kT0 + 9000);
  Verdict v = check_flow(w, s, kT0 + 10000, kPolicy);
  EXPECT_EQ(v.action, Action::kNone);
  EXPECT_TRUE(v.store_backoff);
  EXPECT_EQ(w.backoff, 0u);
  EXPECT_EQ(v.recheck_at_us, kT0 + 9000 + 8000);  // RFC 6298 5.3: restart at the ACK
}

TEST(FlowWatch, AckOfEverythingThenNewDataTimesFromTheLookNotTheOldAck) {
  FlowWatch w;
  FlowSnapshot s = in_flight(1000);
  check_flow(w, s, kT0, kPolicy);
  // All 1000 acked at +1 ms, then 500 new bytes sent at +7.9 ms; we look at +8 ms.
  s.cnt_rx_ack_bytes = 1000;
  s.last_ack_us = static_cast<uint32_t>(kT0 + 1000);
  s.tx_next_seq += 500;
  s.tx_sent = 500;
  Verdict v = check_flow(w, s, kT0 + 8000, kPolicy);
  // Timing from the old ACK would time out at once (spuriously): the pipe drained in between.
  EXPECT_EQ(v.action, Action::kNone);
  EXPECT_EQ(v.recheck_at_us, kT0 + 8000 + 8000);
}

TEST(FlowWatch, AnAckLongAgoWithDataStuckSinceTimesOutAtOnce) {
  FlowWatch w;
  FlowSnapshot s = in_flight(2000);
  check_flow(w, s, kT0, kPolicy);
  s.cnt_rx_ack_bytes = 1000;
  s.tx_sent = 1000;
  s.last_ack_us = static_cast<uint32_t>(kT0 + 100);
  // We look late (the wheel was busy): the remaining 1000 bytes are unacked since +100 us.
  Verdict v = check_flow(w, s, kT0 + 9000, kPolicy);
  EXPECT_EQ(v.action, Action::kRetransmit);
}

TEST(FlowWatch, AnAckTimeFromAnotherClockIsNotTrusted) {
  FlowWatch w;
  FlowSnapshot s = in_flight(2000);
  check_flow(w, s, kT0, kPolicy);
  s.cnt_rx_ack_bytes = 1000;
  s.tx_sent = 1000;
  s.last_ack_us = static_cast<uint32_t>(kT0 + 50000);  // "in the future"
  Verdict v = check_flow(w, s, kT0 + 3000, kPolicy);
  EXPECT_EQ(v.action, Action::kNone);
  EXPECT_EQ(v.recheck_at_us, kT0 + 3000 + 8000);
}

TEST(FlowWatch, IdleStopsWatchingAndClearsAStoredBackoff) {
  FlowWatch w;
  FlowSnapshot s = in_flight(1000);
  check_flow(w, s, kT0, kPolicy);
  check_flow(w, s, kT0 + 8000, kPolicy);
  s.tx_sent = 0;
  s.cnt_rx_ack_bytes = 1000;
  s.rto_backoff = 1;  // what the actor stored
  Verdict v = check_flow(w, s, kT0 + 9000, kPolicy);
  EXPECT_EQ(v.recheck_at_us, std::nullopt);
  EXPECT_TRUE(v.store_backoff);
  EXPECT_EQ(w.backoff, 0u);
  EXPECT_EQ(w.mode, WatchMode::kIdle);
}

TEST(FlowWatch, ANewEpisodeResumesTheStoredBackoff) {
  // A restarted timer actor finds a flow in flight with rto_backoff 3.
  FlowWatch w;
  FlowSnapshot s = in_flight(1000);
  s.rto_backoff = 3;
  Verdict v = check_flow(w, s, kT0, kPolicy);
  EXPECT_EQ(w.backoff, 3u);
  EXPECT_FALSE(v.store_backoff);
  EXPECT_EQ(v.recheck_at_us, kT0 + 8000 * 8);
}

TEST(FlowWatch, AFlowInAReusedSlotStartsOver) {
  FlowWatch w;
  FlowSnapshot s = in_flight(1000);
  check_flow(w, s, kT0, kPolicy);
  check_flow(w, s, kT0 + 8000, kPolicy);
  ASSERT_EQ(w.backoff, 1u);
  FlowSnapshot other = in_flight(10);
  other.identity = 43;
  Verdict v = check_flow(w, other, kT0 + 9000, kPolicy);
  EXPECT_EQ(v.action, Action::kNone);
  EXPECT_EQ(w.backoff, 0u);
  EXPECT_EQ(v.recheck_at_us, kT0 + 9000 + 8000);
}

TEST(FlowWatch, ZeroWindowIsProbedWithBackoffUntilItOpens) {
  FlowWatch w;
  FlowSnapshot s = in_flight(0);
  s.tx_avail = 5000;
  s.rx_remote_avail = 0;
  Verdict v = check_flow(w, s, kT0, kPolicy);
  EXPECT_EQ(v.action, Action::kNone);
  ASSERT_EQ(v.recheck_at_us, kT0 + 8000);
  v = check_flow(w, s, kT0 + 8000, kPolicy);
  EXPECT_EQ(v.action, Action::kWindowProbe);
  EXPECT_EQ(v.recheck_at_us, kT0 + 8000 + 16000);
  v = check_flow(w, s, kT0 + 24000, kPolicy);
  EXPECT_EQ(v.action, Action::kWindowProbe);
  EXPECT_EQ(w.backoff, 2u);
  // The window opens and data goes out: a new wait for ACKs, backoff reset.
  s.rx_remote_avail = 65535;
  s.tx_avail = 0;
  s.tx_sent = 5000;
  s.tx_next_seq += 5000;
  v = check_flow(w, s, kT0 + 30000, kPolicy);
  EXPECT_EQ(v.action, Action::kNone);
  EXPECT_EQ(w.mode, WatchMode::kRetransmit);
  EXPECT_EQ(w.backoff, 0u);
  EXPECT_EQ(v.recheck_at_us, kT0 + 30000 + 8000);
}

}  // namespace
}  // namespace vtas::timer
