// Policy changes at run time (switching a flow's algorithm, new parameters) and taking over
// flows after a restart: the rate continues, it never collapses to an initial value.
#include <gtest/gtest.h>

#include <cstring>

#include "components/cc/algorithms/congestion_control.h"
#include "components/cc/algorithms/dctcp_win.h"
#include "components/cc/algorithms/tests/flow_trace.h"

namespace vtas::cc {
namespace {

using testing::acked;
using testing::FlowTrace;
using testing::kFlowKey;

constexpr uint64_t kOneThirtySecond = uint64_t{1} << 27;  // 1/32 in Q32

// A dctcp-rate flow in congestion avoidance at 500,000 kbps with alpha = 1/32 and rtt 50.
FlowTrace congested_dctcp_rate() {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.in_congestion_avoidance_at(500000);
  f.state().algo.dctcp_rate.alpha_q32 = kOneThirtySecond;
  return f;
}

TEST(SwitchAlgorithm, DctcpRateToTimelyKeepsTheRate) {
  FlowTrace f = congested_dctcp_rate();
  const CcFlowState s = switch_algorithm(f.params(), f.state(), Algorithm::kTimely);
  EXPECT_EQ(s.algorithm, static_cast<uint8_t>(Algorithm::kTimely));
  EXPECT_EQ(s.rate_kbps, 500000u);  // not timely's init 10000
  EXPECT_FALSE(in_slow_start(s));   // dctcp had seen congestion: no doubling
  EXPECT_EQ(s.algo.timely.rtt_prev_us, 0u);
  EXPECT_EQ(s.algo.timely.hai_count, 0u);
  EXPECT_EQ(s.last_step_us, f.state().last_step_us);
  EXPECT_EQ(s.seen, f.state().seen);
  EXPECT_EQ(check_resumable(s, kFlowKey), ResumeCheck::kResumable);
}

TEST(SwitchAlgorithm, DctcpRateToWindowAndBackKeepsRateAndAlpha) {
  FlowTrace f = congested_dctcp_rate();
  // window = 500,000 kbps * 50 us / 8000 = 3125 bytes; back to a rate: 3125 * 8000 / 50.
  const CcFlowState w = switch_algorithm(f.params(), f.state(), Algorithm::kDctcpWin);
  EXPECT_EQ(w.algo.dctcp_win.window_bytes, 3125u);
  EXPECT_EQ(w.rate_kbps, 500000u);
  EXPECT_EQ(w.algo.dctcp_win.alpha_q32, kOneThirtySecond);
  EXPECT_FALSE(in_slow_start(w));
  const CcFlowState r = switch_algorithm(f.params(), w, Algorithm::kDctcpRate);
  EXPECT_EQ(r.rate_kbps, 500000u);
  EXPECT_EQ(r.algo.dctcp_rate.alpha_q32, kOneThirtySecond);
  EXPECT_EQ(r.algo.dctcp_rate.pending_acks, 0u);
}

TEST(SwitchAlgorithm, AnUnlimitedFlowContinuesAtItsMeasuredRate) {
  FlowTrace f(Params{}, Algorithm::kConstRate);  // unlimited
  f.after(100, acked(100, 250000), 50);          // act_avg = 2,500,000 (const-rate test)
  const CcFlowState s = switch_algorithm(f.params(), f.state(), Algorithm::kDctcpRate);
  EXPECT_EQ(s.rate_kbps, 2500000u);  // max(2,500,000, init 10000)
  EXPECT_TRUE(in_slow_start(s));     // a fixed rate says nothing about congestion: may probe
}

TEST(SwitchAlgorithm, AnUnmeasuredUnlimitedFlowStaysUnlimitedUntilItsFirstStep) {
  FlowTrace f(Params{}, Algorithm::kConstRate);
  f.state() = switch_algorithm(f.params(), f.state(), Algorithm::kDctcpRate);
  EXPECT_EQ(f.rate(), 0u);  // not 10000: nothing known yet, so nothing is taken away
  // First step: 50000 bytes in 100 us = act 4,000,000, clamp to 4,800,000, slow start * 2.
  f.after(100, acked(50, 50000), 50);
  EXPECT_EQ(f.rate(), 9600000u);
}

TEST(SwitchAlgorithm, ToConstRateAndToTheSameAlgorithm) {
  Params p;
  p.const_rate_kbps = 70000;
  FlowTrace f(p, Algorithm::kTimely);
  const CcFlowState c = switch_algorithm(p, f.state(), Algorithm::kConstRate);
  EXPECT_EQ(c.rate_kbps, 70000u);
  const CcFlowState same = switch_algorithm(p, f.state(), Algorithm::kTimely);
  EXPECT_EQ(std::memcmp(&same, &f.state(), sizeof same), 0);
  const CcFlowState bogus = switch_algorithm(p, f.state(), static_cast<Algorithm>(9));
  EXPECT_EQ(std::memcmp(&bogus, &f.state(), sizeof bogus), 0);
}

TEST(AdoptFlow, ARestartedCcContinuesFromTheFlowsRate) {
  const Params p;
  const FlowSample sample{.counters = {.acks = 7, .ack_bytes = 9000}, .rtt_us = 0};
  const CcFlowState r = adopt_flow(p, Algorithm::kDctcpRate, kFlowKey, 300000, sample, 5000);
  EXPECT_EQ(r.rate_kbps, 300000u);
  EXPECT_FALSE(in_slow_start(r));
  EXPECT_EQ(r.seen, sample.counters);  // deltas start from now
  EXPECT_EQ(r.last_step_us, 5000u);
  const CcFlowState t = adopt_flow(p, Algorithm::kTimely, kFlowKey, 300000, sample, 5000);
  EXPECT_EQ(t.rate_kbps, 300000u);
  // 300000 * 50 / 8000 = 1875 bytes, and back: 1875 * 8000 / 50 = 300000.
  const CcFlowState w = adopt_flow(p, Algorithm::kDctcpWin, kFlowKey, 300000, sample, 5000);
  EXPECT_EQ(w.algo.dctcp_win.window_bytes, 1875u);
  EXPECT_EQ(w.rate_kbps, 300000u);
}

TEST(AdoptFlow, AnUnlimitedWindowFlowIsBoundedByItsSendBufferAtTheFirstStep) {
  const Params p;
  CcFlowState s = adopt_flow(p, Algorithm::kDctcpWin, kFlowKey, 0, FlowSample{}, 1000);
  EXPECT_EQ(s.rate_kbps, 10000000u);  // the link: 10 Gbit/s
  const StepResult r =
      step(p, s,
           StepInput{
               .delta = acked(10, 14000), .rtt_us = 100, .now_us = 1200, .tx_buffer_bytes = 65536});
  EXPECT_EQ(r.state.algo.dctcp_win.window_bytes, 65536u);
  EXPECT_EQ(r.rate_kbps, 5242880u);  // 65536 * 8000 / 100
}

TEST(ResumeOrAdopt, ResumesItsOwnRecordAndAdoptsAnythingElse) {
  Params p;
  p.algorithm = Algorithm::kTimely;
  FlowTrace f = congested_dctcp_rate();
  f.after(100, acked(50, 100000), 50);  // a sealed record: 500000 + 10000
  const Attached mine = resume_or_adopt(p, f.state(), kFlowKey, 123, FlowSample{}, 9000);
  EXPECT_TRUE(mine.resumed());
  EXPECT_EQ(mine.state.rate_kbps, 510000u);
  EXPECT_EQ(mine.state.algorithm, static_cast<uint8_t>(Algorithm::kDctcpRate));

  CcFlowState torn = f.state();
  torn.rate_kbps = 1;  // half-written when cc was killed
  const Attached adopted = resume_or_adopt(p, torn, kFlowKey, 400000, FlowSample{}, 9000);
  EXPECT_EQ(adopted.found, ResumeCheck::kTorn);
  EXPECT_EQ(adopted.state.algorithm, static_cast<uint8_t>(Algorithm::kTimely));
  EXPECT_EQ(adopted.state.rate_kbps, 400000u);  // the rate the fast path enforces now

  const Attached other = resume_or_adopt(p, f.state(), kFlowKey + 1, 400000, FlowSample{}, 9000);
  EXPECT_EQ(other.found, ResumeCheck::kOtherFlow);
  EXPECT_EQ(other.state.flow_key, kFlowKey + 1);
}

TEST(Retune, RaisedFloorsAndANewLinkApplyAtOnce) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.in_congestion_avoidance_at(20000);
  Params p = f.params();
  p.dctcp_min_kbps = 50000;
  EXPECT_EQ(retune(p, f.state()).rate_kbps, 50000u);

  FlowTrace t(Params{}, Algorithm::kTimely);
  p = t.params();
  p.timely_min_rate_kbps = 30000;
  EXPECT_EQ(retune(p, t.state()).rate_kbps, 30000u);

  FlowTrace w(Params{}, Algorithm::kDctcpWin);
  w.state().algo.dctcp_win.window_bytes = 1000000;
  p = w.params();
  p.link_bw_gbps = 1;
  EXPECT_EQ(retune(p, w.state()).rate_kbps, 1000000u);  // 1 Gbit/s
}

TEST(Retune, OtherParametersTakeEffectAtTheNextStep) {
  FlowTrace f(Params{}, Algorithm::kDctcpRate);
  f.in_congestion_avoidance_at(100000);
  f.params().dctcp_step_kbps = 25000;
  f.after(100, acked(50, 100000), 50);
  EXPECT_EQ(f.rate(), 125000u);
}

}  // namespace
}  // namespace vtas::cc
