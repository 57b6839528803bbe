// The shared-memory record: round trip through raw bytes, what check_resumable() makes of
// foreign or damaged records, robustness against arbitrary bytes, counter differences.
#include "components/cc/algorithms/cc_flow_state.h"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <random>

#include "components/cc/algorithms/congestion_control.h"
#include "components/cc/algorithms/tests/flow_trace.h"

namespace vtas::cc {
namespace {

using testing::acked;
using testing::FlowTrace;
using testing::kFlowKey;

using RawRecord = std::array<std::byte, sizeof(CcFlowState)>;

RawRecord to_bytes(const CcFlowState& s) {
  RawRecord raw;
  std::memcpy(raw.data(), &s, raw.size());
  return raw;
}

CcFlowState from_bytes(const RawRecord& raw) {
  CcFlowState s;
  std::memcpy(&s, raw.data(), raw.size());
  return s;
}

TEST(CcFlowState, SurvivesARoundTripThroughRawBytes) {
  for (Algorithm a :
       {Algorithm::kDctcpRate, Algorithm::kDctcpWin, Algorithm::kTimely, Algorithm::kConstRate}) {
    SCOPED_TRACE(std::string(algorithm_name(a)));
    FlowTrace f(Params{}, a);
    f.after(100, acked(60, 90000, 3000), 70);
    f.after(100, acked(60, 90000), 72);
    const RawRecord raw = to_bytes(f.state());
    const CcFlowState back = from_bytes(raw);
    EXPECT_EQ(to_bytes(back), raw);
    EXPECT_EQ(check_resumable(back, kFlowKey), ResumeCheck::kResumable);
    // The restored record continues exactly like the original.
    const StepInput next{.delta = acked(60, 90000, 9000), .rtt_us = 75, .now_us = f.now_us() + 100};
    const StepResult from_original = step(f.params(), f.state(), next);
    const StepResult from_copy = step(f.params(), back, next);
    EXPECT_EQ(to_bytes(from_copy.state), to_bytes(from_original.state));
    EXPECT_EQ(from_copy.rate_kbps, from_original.rate_kbps);
  }
}

TEST(CcFlowState, TellsWhoseRecordItFinds) {
  FlowTrace f(Params{}, Algorithm::kTimely);
  const CcFlowState good = f.state();
  EXPECT_EQ(good.magic, kCcStateMagic);
  EXPECT_EQ(good.version, kCcStateVersion);
  EXPECT_EQ(good.algorithm, 3u);  // proto CONGESTION_CONTROL_TIMELY

  EXPECT_EQ(check_resumable(CcFlowState{}, kFlowKey), ResumeCheck::kBlank);
  EXPECT_EQ(check_resumable(good, kFlowKey + 1), ResumeCheck::kOtherFlow);

  CcFlowState old_layout = good;
  old_layout.version = kCcStateVersion + 1;
  EXPECT_EQ(check_resumable(old_layout, kFlowKey), ResumeCheck::kForeignLayout);

  CcFlowState flipped = good;
  reinterpret_cast<unsigned char*>(&flipped)[100] ^= 0x10;  // one bit in the algorithm part
  EXPECT_EQ(check_resumable(flipped, kFlowKey), ResumeCheck::kTorn);

  CcFlowState unknown = good;
  unknown.algorithm = 9;
  unknown.checksum = state_checksum(unknown);
  EXPECT_EQ(check_resumable(unknown, kFlowKey), ResumeCheck::kUnknownAlgorithm);
  const StepResult r = step(Params{}, unknown, StepInput{.delta = {}, .now_us = 1});
  EXPECT_EQ(r.outcome, StepOutcome::kBadState);
  EXPECT_EQ(to_bytes(r.state), to_bytes(unknown));
}

TEST(CcFlowState, ArbitraryBytesNeverBreakAStep) {
  // A record is untrusted after a crash: every algorithm must cope with any bytes (the
  // sanitizer build turns overflow or a division by zero into a failure).
  std::mt19937_64 random(42);
  const Params p;
  for (int i = 0; i < 2000; ++i) {
    RawRecord raw;
    for (std::byte& b : raw) b = static_cast<std::byte>(random());
    CcFlowState s = from_bytes(raw);
    s.algorithm = static_cast<uint8_t>(1 + i % 4);
    const StepInput in{.delta = {.acks = static_cast<uint32_t>(random()),
                                 .ack_bytes = static_cast<uint32_t>(random()),
                                 .ecn_bytes = static_cast<uint32_t>(random()),
                                 .drops = static_cast<uint32_t>(random() % 3),
                                 .rexmit_timeouts = 0},
                       .rtt_us = static_cast<uint32_t>(random()),
                       .now_us = random(),
                       .mss = static_cast<uint32_t>(random() % 9000),
                       .tx_buffer_bytes = static_cast<uint32_t>(random())};
    const StepResult r = step(p, s, in);
    EXPECT_EQ(check_resumable(r.state, r.state.flow_key), ResumeCheck::kResumable);
    if (r.decided() && s.algorithm != static_cast<uint8_t>(Algorithm::kConstRate)) {
      EXPECT_NE(r.rate_kbps, 0u) << "a controlled flow must never become unlimited";
    }
  }
}

TEST(CounterDelta, DifferencesWrapModulo2To32) {
  const FlowCounters before{.acks = 0xffffff00u,
                            .ack_bytes = 0xfffff000u,
                            .ecn_bytes = 5,
                            .drops = 0xffffffffu,
                            .rexmit_timeouts = 2};
  const FlowCounters after{
      .acks = 0x100, .ack_bytes = 0x1000, .ecn_bytes = 5, .drops = 1, .rexmit_timeouts = 3};
  const CounterDelta d = counter_delta(before, after);
  EXPECT_EQ(d.acks, 0x200u);        // 0x100 + 2^32 - 0xffffff00
  EXPECT_EQ(d.ack_bytes, 0x2000u);  // 0x1000 + 2^32 - 0xfffff000
  EXPECT_EQ(d.ecn_bytes, 0u);
  EXPECT_EQ(d.drops, 2u);
  EXPECT_EQ(d.rexmit_timeouts, 1u);
  EXPECT_EQ(d.loss_events(), 2u);  // max(2, 1): the timeout is one of the two drops
}

TEST(CounterDelta, ANetDropCountThatSteppedBackIsNoLoss) {
  // drops is cnt_tx_drops - cnt_tx_undos: a go-back-N undone in a later interval.
  const FlowCounters before{.drops = 7};
  const FlowCounters after{.drops = 6};
  EXPECT_EQ(counter_delta(before, after).drops, 0u);
  EXPECT_EQ(counter_delta(after, before).drops, 1u);
}

TEST(ControlStep, TakesDifferencesAgainstTheSnapshotAndMovesIt) {
  const Params p;
  const FlowSample first{.counters = {.acks = 1000, .ack_bytes = 5000000}};
  CcFlowState s = start_flow(p, Algorithm::kDctcpRate, kFlowKey, first, 1000);
  s.rate_kbps = 400000;
  set_slow_start(s, false);
  // 100 us later: +50 ACKs, +100000 bytes, one drop: 400000 / 2.
  const FlowSample next{.counters = {.acks = 1050, .ack_bytes = 5100000, .drops = 1}, .rtt_us = 40};
  const StepResult r = control_step(p, s, next, 1100);
  EXPECT_EQ(r.rate_kbps, 200000u);
  EXPECT_EQ(r.state.seen, next.counters);
  EXPECT_EQ(r.state.last_step_us, 1100u);
  EXPECT_EQ(r.state.rtt_us, 40u);
  EXPECT_EQ(check_resumable(r.state, kFlowKey), ResumeCheck::kResumable);
  // Same counters again: nothing new, no loss, fewer than minpkts ACKs: nothing decided.
  const StepResult idle = control_step(p, r.state, next, 1200);
  EXPECT_EQ(idle.outcome, StepOutcome::kAccumulating);
  EXPECT_EQ(idle.rate_kbps, 200000u);
}

}  // namespace
}  // namespace vtas::cc
