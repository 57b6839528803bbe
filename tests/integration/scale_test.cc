// The `scale` actor on a real instance with two fast-path cores on this 2-CPU machine
// (correctness, not speed): idle, it brings the fast path down to one core; a bulk transfer
// from a vtas app to the Linux peer raises the load and it adds the second core while the
// transfer runs (flow groups move between cores under the transfer); when the transfer ends
// it goes back to one core. The transfer arrives complete (same SHA-256 on both ends).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>

#include "tests/integration/tcp_fixture.h"

namespace vtas::testing {
namespace {

uint64_t stats_counter(const std::string& stats, const std::string& name) {
  size_t at = stats.find("  " + name + " ");
  if (at == std::string::npos) return UINT64_MAX;
  return std::strtoull(stats.c_str() + at + name.size() + 2, nullptr, 10);
}

class ScaleFixture : public TcpFixture {
 protected:
  // TcpFixture's instance plus the scale actor.
  void start_with_scale(const std::string& extra_tas) {
    net_ = std::make_unique<TestNetwork>("s" + std::to_string(::getpid() % 10));
    ASSERT_TRUE(net_->ok()) << net_->error();
    vtas_ = std::make_unique<Instance>(
        "supervision { heartbeat_interval_ms: 100 heartbeat_timeout_ms: 2000 }\n" +
            net_->manifest_network() +
            "tas { fp_no_hugepages: true fp_poll_interval_tas: 2000 tcp_rxbuf_len: 262144 "
            "tcp_txbuf_len: 262144 " + extra_tas + " }\n"
            "actor { name: \"fastpath\" kind: \"fastpath\" }\n"
            "actor { name: \"arp\" kind: \"arp\" }\n"
            "actor { name: \"timer\" kind: \"timer\" }\n"
            "actor { name: \"conn\" kind: \"conn\" }\n"
            // Thresholds lower than TAS's (a core when the load passes 0.4 of a core, not 0.8):
            // on 2 CPUs shared with the app and the Linux peer this transfer loads the core 0.8
            // to 0.97, too close to TAS's threshold to prove anything reliably. Back to one
            // core below 0.3 of load on two.
            "actor { name: \"scale\" kind: \"scale\" scale { up_below_idle_cores: 0.6 "
            "down_above_idle_cores: 1.7 } }\n",
        "scale" + std::to_string(::getpid() % 100000));
    ASSERT_TRUE(vtas_->start()) << vtas_->supervisor_stderr();
    dir_ = vtas_->runtime_dir() + "/../out";
    std::filesystem::create_directories(dir_);
  }
  // Four connections, so some flow groups sit on each core (groups go round robin over the
  // cores serving). `during` runs while the transfer is under way; then every byte must have
  // arrived (same SHA-256 per connection on both ends).
  void transfer(const std::function<void()>& during) {
    constexpr uint64_t kBytes = 128ull << 20;
    constexpr size_t kConns = 4;
    spawn_peer({"sink-server", "9301", "--count", std::to_string(kConns)}, "sink");
    ASSERT_TRUE(wait_output("sink", "listening 9301"));
    pid_t app = spawn_app({"connect", net_->peer_ip(), "9301", "--bytes", std::to_string(kBytes), "--conns",
                           std::to_string(kConns)},
                          "app");
    during();
    EXPECT_TRUE(output("app").find("summary") == std::string::npos)
        << "the transfer ended before the check ran: the test proved nothing";
    ASSERT_EQ(wait_pid(app, std::chrono::seconds(120)), 0) << output("app") << output("app.err");
    ASSERT_TRUE(eventually([&] { return values_of(output("sink"), "sha256").size() == kConns; },
                           std::chrono::seconds(30)))
        << output("sink") << output("sink.err");
    EXPECT_EQ(values_of(output("sink"), "bytes"), std::vector<std::string>(kConns, std::to_string(kBytes)));
    auto received = values_of(output("sink"), "sha256");
    auto sent = values_of(output("app"), "sha256");
    std::sort(received.begin(), received.end());
    std::sort(sent.begin(), sent.end());
    EXPECT_EQ(received, sent);
  }
  uint64_t counter(const std::string& name) { return stats_counter(vtas_->ctl({"stats"}).out, name); }
};

TEST_F(ScaleFixture, LoadAddsTheSecondCoreAndIdleTakesItAwayWhileTheTransferCompletes) {
  start_with_scale("fp_cores_max: 2");
  // The fast path starts serving with both cores; idle, scale takes one away.
  ASSERT_TRUE(eventually([&] { return counter("cores_active") == 1; }, std::chrono::seconds(10)))
      << vtas_->ctl({"stats"}).out;
  EXPECT_GE(counter("scale_downs"), 1u);
  EXPECT_EQ(counter("scale_ups"), 0u);

  // Under a transfer the load rises: the second core comes in (flows move to it).
  transfer([&] {
    auto started = std::chrono::steady_clock::now();
    uint64_t max_load = 0;  // what the scale actor saw, for the failure message
    bool up = eventually(
        [&] {
          const std::string stats = vtas_->ctl({"stats"}).out;
          const uint64_t load = stats_counter(stats, "load_millicores");
          if (load != UINT64_MAX) max_load = std::max(max_load, load);
          return stats_counter(stats, "scale_ups") >= 1 && stats_counter(stats, "cores_active") == 2;
        },
        std::chrono::seconds(60));
    auto up_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    RecordProperty("scale_up_after_ms", static_cast<int>(up_ms.count()));
    std::cout << "second core after " << up_ms.count() << " ms of transfer; highest load seen "
              << max_load << " millicores\n";
    EXPECT_TRUE(up) << "no scale-up under load (highest load seen " << max_load
                    << " millicores): " << vtas_->ctl({"stats"}).out;
  });
  // Load gone: back to one core.
  EXPECT_TRUE(eventually([&] { return counter("cores_active") == 1; }, std::chrono::seconds(10)))
      << vtas_->ctl({"stats"}).out;
  EXPECT_GE(counter("scale_downs"), 2u);
  EXPECT_EQ(counter("set_cores_failed"), 0u);
}

TEST_F(ScaleFixture, NoAutoscalePinsTheMaximum) {
  start_with_scale("fp_cores_max: 2 fp_no_autoscale: true");
  // Idle for well over the monitor's hold (100 ms): still both cores.
  ASSERT_TRUE(eventually([&] { return counter("samples") != UINT64_MAX && counter("cores_active") == 2; },
                         std::chrono::seconds(10)))
      << vtas_->ctl({"stats"}).out;
  // Thirty more samples (300 ms, three times the hold): time for a wrong decision.
  uint64_t samples = counter("samples");
  ASSERT_TRUE(eventually([&] { uint64_t n = counter("samples"); return n != UINT64_MAX && n >= samples + 30; },
                         std::chrono::seconds(10)));
  EXPECT_EQ(counter("cores_active"), 2u);
  EXPECT_EQ(counter("scale_downs"), 0u);
  EXPECT_EQ(counter("autoscale"), 0u);
  // Both cores serve a transfer (flows on both, frames handed between them), nothing moves.
  transfer([] {});
  EXPECT_EQ(counter("cores_active"), 2u);
  EXPECT_EQ(counter("scale_ups") + counter("scale_downs"), 0u);
}

}  // namespace
}  // namespace vtas::testing
