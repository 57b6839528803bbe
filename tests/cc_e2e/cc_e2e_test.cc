// Congestion control end to end: real vtas (with the cc actor) sending to Linux through
// vtas-relay, goodput measured at the Linux receiver.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <numeric>

#include "tests/cc_e2e/cc_fixture.h"

namespace vtas::testing {
namespace {

std::string mbps_list(const std::vector<double>& v) {
  std::string out;
  for (double x : v) {
    char text[32];
    std::snprintf(text, sizeof text, "%s%.1f", out.empty() ? "" : " ", x);
    out += text;
  }
  return out;
}

double sum(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0);
}

// const-rate paces the flow at --cc-const-rate; a run-time change (vtasctl call cc
// cc_set_params) moves it at once.
TEST_F(CcFixture, ConstRateHoldsTheFlowWithinFivePercentOfTheSetRate) {
  start({}, "cc: CONGESTION_CONTROL_CONST_RATE cc_const_rate: 50000");
  start_sink();
  start_senders(1);
  measure(1.0);  // warm-up
  const std::vector<double> at50 = measure(3.0);
  ASSERT_EQ(at50.size(), 1u);
  std::printf("[measured] const-rate 50 Mbit/s: goodput %.2f Mbit/s\n", at50[0]);
  RecordProperty("goodput_at_50mbps", std::to_string(at50[0]));
  EXPECT_NEAR(at50[0], 50.0, 2.5);

  // 100, not more: above ~140 Mbit/s the user-space relay and the peer, sharing 2 CPUs with
  // vtas, become the limit here (150 Mbit/s measured 141.5 in one run), which is not what this tests.
  const std::string policy = call_cc("cc_set_params", "tas { cc_const_rate: 100000 }");
  EXPECT_NE(policy.find("cc_const_rate: 100000"), std::string::npos) << policy;
  EXPECT_EQ(cc_rates(), std::vector<uint64_t>{100000});
  measure(1.0);
  const std::vector<double> at100 = measure(3.0);
  std::printf("[measured] const-rate 100 Mbit/s: goodput %.2f Mbit/s\n", at100[0]);
  RecordProperty("goodput_at_100mbps", std::to_string(at100[0]));
  EXPECT_NEAR(at100[0], 100.0, 5.0);
}

// Two dctcp-rate flows through a 200 Mbit/s bottleneck that marks CE above 20 queued frames.
// --cwr-unmarked lets the Linux receiver (classic RFC 3168 ECN, no tcp_dctcp in this kernel)
// echo ECE only for marked segments; see the relay's --help.
TEST_F(CcFixture, TwoDctcpFlowsConvergeToAFairShareOfAnEcnBottleneck) {
  start({"--a2b-rate-mbps=200", "--a2b-queue-frames=300", "--a2b-ce-threshold=20",
         "--a2b-cwr-unmarked"},
        "cc: CONGESTION_CONTROL_DCTCP_RATE");
  start_sink();
  start_senders(2);
  measure(5.0);  // warm-up: slow start, first marks, and time for AIMD to even them out
  const std::vector<double> g = measure(4.0);
  ASSERT_EQ(g.size(), 2u);
  const double jain = jain_index(g);
  std::printf("[measured] dctcp-rate two flows: %s Mbit/s, sum %.1f, Jain index %.4f\n",
              mbps_list(g).c_str(), sum(g), jain);
  RecordProperty("jain_index", std::to_string(jain));
  EXPECT_GE(jain, 0.9);
  // And not fair by both sitting at the 10 Mbit/s floor: they use most of the bottleneck.
  EXPECT_GE(sum(g), 100.0);
  const std::string stats = net_->relay_stats();
  EXPECT_GT(numbers_after(stats, "ce_marked=").at(0), 0u) << stats;
  // The flows negotiated ECN (else nothing would be ECT and nothing marked).
  EXPECT_GT(numbers_after(call_cc("cc_flow_query", ""), " rate_kbps: ").size(), 1u);
}

// timely cuts the rate when the RTT goes above --cc-timely-thigh: the relay adds 5 ms.
TEST_F(CcFixture, TimelyBacksOffWhenTheRelayAddsDelay) {
  start({}, "cc: CONGESTION_CONTROL_TIMELY cc_timely_tlow: 500 cc_timely_thigh: 2000");
  start_sink();
  start_senders(1);
  measure(2.0);
  const std::vector<double> before = measure(3.0);
  const std::vector<uint64_t> rate_before = cc_rates();
  ASSERT_TRUE(net_->set_relay("a2b-delay-us=5000"));
  measure(1.0);
  const std::vector<double> after = measure(3.0);
  const std::vector<uint64_t> rate_after = cc_rates();
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(after.size(), 1u);
  ASSERT_EQ(rate_after.size(), 1u);
  std::printf("[measured] timely: goodput %.1f -> %.1f Mbit/s, cc rate %llu -> %llu kbps\n",
              before[0], after[0], static_cast<unsigned long long>(rate_before.at(0)),
              static_cast<unsigned long long>(rate_after[0]));
  RecordProperty("goodput_before", std::to_string(before[0]));
  RecordProperty("goodput_after", std::to_string(after[0]));
  EXPECT_LT(after[0], before[0] / 2);
  // It is timely's doing: the rate sits at (or near) --cc-timely-minrate (10 Mbit/s).
  EXPECT_LE(rate_after[0], 20000u);
  const std::string flow = call_cc("cc_flow_query", "");
  EXPECT_GT(numbers_after(flow, "rtt_us: ").at(0), 2000u) << flow;
}

// kill -9 of cc during a transfer: the supervisor restarts it, it resumes the flow from its
// state file, and the rate does not collapse to the initial 10 Mbit/s.
TEST_F(CcFixture, ARestartedCcResumesTheFlowWithoutCollapsingItsRate) {
  start({"--a2b-rate-mbps=200", "--a2b-queue-frames=300", "--a2b-ce-threshold=20",
         "--a2b-cwr-unmarked"},
        "cc: CONGESTION_CONTROL_DCTCP_RATE");
  start_sink();
  start_senders(1);
  measure(2.0);
  const std::vector<double> before = measure(2.0);
  const std::string pid = actor_field(vtas_->status_json(), "cc", "pid");
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(::kill(std::stoi(pid), SIGKILL), 0);
  ASSERT_TRUE(eventually([&] {
    const std::string s = vtas_->status_json();
    return actor_field(s, "cc", "restarts") == "1" &&
           actor_field(s, "cc", "state") == "ACTOR_STATE_RUNNING";
  }));
  ASSERT_TRUE(eventually([&] { return cc_counter("flows_resumed") == 1; }))
      << vtas_->ctl({"stats"}).out;
  const uint64_t resumed_at = monotonic_us();
  const std::vector<double> after = measure(1.0);
  std::printf("[measured] cc restart: goodput %.1f Mbit/s before, %.1f in the second after\n",
              before.at(0), after.at(0));
  EXPECT_EQ(cc_counter("flows_started"), 0);  // not treated as a new connection
  EXPECT_NE(call_cc("cc_flow_query", "").find("resumed: true"), std::string::npos);
  EXPECT_GE(after.at(0), before[0] / 2) << "resumed at " << resumed_at;
}

}  // namespace
}  // namespace vtas::testing
