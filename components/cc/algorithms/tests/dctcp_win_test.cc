// dctcp-win against hand-computed traces. Defaults: --tcp-rtt-init 50 us, --tcp-link-bw 10
// Gbit/s, g = 1/16. window_to_rate = min(window * 8000 / rtt_us, link_gbps * 10^6) kbps.
#include "components/cc/algorithms/dctcp_win.h"

#include <gtest/gtest.h>

#include "components/cc/algorithms/tests/flow_trace.h"

namespace vtas::cc {
namespace {

using testing::acked;
using testing::FlowTrace;

TEST(DctcpWin, WindowToRateIsAWindowPerRttUpToTheLink) {
  EXPECT_EQ(window_to_rate_kbps(2800, 50, 10), 448000u);    // 2800 * 8000 / 50
  EXPECT_EQ(window_to_rate_kbps(11025, 100, 10), 882000u);  // 11025 * 80
  // 62500 bytes per 50 us is exactly 10 Gbit/s = 10,000,000 kbps.
  EXPECT_EQ(window_to_rate_kbps(62500, 50, 10), 10000000u);
  // 1,000,000 bytes per 50 us would be 160,000,000 kbps: the link caps it.
  EXPECT_EQ(window_to_rate_kbps(1000000, 50, 10), 10000000u);
  EXPECT_EQ(window_to_rate_kbps(1000000, 50, 1), 1000000u);
  EXPECT_EQ(window_to_rate_kbps(1000000, 50, 1000), 160000000u);  // 1000 Gbit/s does not bind
  // 1400 bytes per 60 s is 0.19 kbps: 1, because 0 would mean unlimited.
  EXPECT_EQ(window_to_rate_kbps(1400, 60000000, 10), 1u);
  EXPECT_EQ(rate_to_window_bytes(500000, 50), 3125u);  // 500000 * 50 / 8000
}

TEST(DctcpWin, StartsWithTwoSegmentsAtTheInitialRtt) {
  FlowTrace f(Params{}, Algorithm::kDctcpWin);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 2800u);  // 2 * TAS's 1400
  EXPECT_EQ(f.rate(), 448000u);                             // 2800 * 8000 / 50
  EXPECT_TRUE(f.slow_start());

  FlowTrace g(Params{}, Algorithm::kDctcpWin, FlowSample{.counters = {}, .mss = 1448});
  EXPECT_EQ(g.state().algo.dctcp_win.window_bytes, 2896u);  // 2 * 1448
  EXPECT_EQ(g.rate(), 463360u);                             // 2896 * 8000 / 50
}

TEST(DctcpWin, SlowStartGrowsByAckedBytesUntilEcn) {
  FlowTrace f(Params{}, Algorithm::kDctcpWin);
  // rtt 100 us: rate = window * 80.
  f.after(200, acked(2, 2800), 100);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 5600u);  // 2800 + 2800
  EXPECT_EQ(f.rate(), 448000u);
  f.after(200, acked(4, 5600), 100);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 11200u);
  EXPECT_EQ(f.rate(), 896000u);
  // ECN on half: leave slow start, alpha = 1/32, window = 11200 * (1 - 1/64) = 11025.
  f.after(200, acked(8, 11200, 5600), 100);
  EXPECT_FALSE(f.slow_start());
  EXPECT_EQ(f.state().algo.dctcp_win.alpha_q32, uint64_t{1} << 27);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 11025u);
  EXPECT_EQ(f.rate(), 882000u);  // 11025 * 80
}

TEST(DctcpWin, CongestionAvoidanceAddsAboutOneSegmentPerWindow) {
  FlowTrace f(Params{}, Algorithm::kDctcpWin);
  set_slow_start(f.state(), false);
  f.state().algo.dctcp_win.window_bytes = 14000;
  // + acked * MSS / window: 14000 * 1400 / 14000 = 1400.
  f.after(200, acked(10, 14000), 100, 1400);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 15400u);
  EXPECT_EQ(f.rate(), 1232000u);  // 15400 * 80
  f.after(200, acked(11, 15400), 100, 1400);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 16800u);  // + 15400 * 1400 / 15400
  // Half a window acked: + 7000 * 1400 / 16800 = 583.3 -> 583.
  f.after(200, acked(5, 7000), 100, 1400);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 17383u);
  EXPECT_EQ(f.rate(), 1390640u);  // 17383 * 80
}

TEST(DctcpWin, HalvesPerLossEventDownToOneSegment) {
  FlowTrace f(Params{}, Algorithm::kDctcpWin);
  set_slow_start(f.state(), false);
  f.state().algo.dctcp_win.window_bytes = 40000;
  f.after(200, acked(10, 14000, 0, 2), 100, 1400);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 10000u);  // 40000 / 2 / 2
  EXPECT_EQ(f.rate(), 800000u);                              // 10000 * 80
  f.after(200, acked(10, 14000, 0, 1), 100, 1400);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 5000u);
  EXPECT_EQ(f.rate(), 400000u);
  // The floor: one MSS per RTT. 5000 / 8 = 625 < 1400.
  f.after(200, acked(10, 14000, 0, 3), 100, 1400);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 1400u);
  EXPECT_EQ(f.rate(), 112000u);  // 1400 * 80
}

TEST(DctcpWin, WindowNeverExceedsTheSendBuffer) {
  FlowTrace f(Params{}, Algorithm::kDctcpWin);
  // Slow start: 2800 + 20000 = 22800, but the send buffer holds 8192.
  f.after(200, acked(15, 20000), 100, 1400, 8192);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 8192u);
  EXPECT_EQ(f.rate(), 655360u);  // 8192 * 80
  // A buffer smaller than a segment: one segment wins (the window never drops below one).
  f.after(200, acked(1, 100), 100, 1400, 1000);
  EXPECT_EQ(f.state().algo.dctcp_win.window_bytes, 1400u);
}

TEST(DctcpWin, TheLinkBandwidthCapsTheRate) {
  FlowTrace f(Params{}, Algorithm::kDctcpWin);
  set_slow_start(f.state(), false);
  f.state().algo.dctcp_win.window_bytes = 1000000;
  // + 0 acked: the window stays; 1,000,000 * 8000 / 50 = 160,000,000 > 10 Gbit/s.
  f.after(200, acked(0, 0), 50);
  EXPECT_EQ(f.rate(), 10000000u);
  f.params().link_bw_gbps = 40;
  f.after(200, acked(0, 0), 50);
  EXPECT_EQ(f.rate(), 40000000u);
}

TEST(DctcpWin, UsesTheInitialRttUntilASampleArrives) {
  FlowTrace f(Params{}, Algorithm::kDctcpWin);
  set_slow_start(f.state(), false);
  f.state().algo.dctcp_win.window_bytes = 10000;
  f.after(200, acked(0, 0), 0);
  EXPECT_EQ(f.rate(), 1600000u);  // 10000 * 8000 / 50
  EXPECT_EQ(f.state().rtt_us, 50u);
}

}  // namespace
}  // namespace vtas::cc
