// Hostile and odd frames from the Linux side at a running vtas (embedded default network:
// DPDK af_packet on a veth): tests/fault/probes.py sends each probe from a raw socket in the
// peer namespace and checks vtas's answer against the RFC (RST for closed ports, challenge
// ACKs of RFC 5961, silence for garbage). Afterwards: every actor runs, nothing restarted, a
// Linux connection that stayed open across all probes still echoes correctly (SHA-256), and the
// fast path counted the malformed frames it dropped.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <sstream>

#include "tests/fault/fault_support.h"
#include "tests/integration/tcp_fixture.h"

namespace vtas::testing {
namespace {

using fault::core_counter;
using fault::stats_counter;

constexpr int kSinkPort = 7100, kEchoPort = 7101, kClosedPort = 7102;

class ProbeTest : public TcpFixture {};

TEST_F(ProbeTest, HostileProbesGetTheirRfcAnswersAndTheServiceSurvives) {
  start_instance();
  spawn_app({"serve", std::to_string(kSinkPort), "--sink"}, "sink");
  spawn_app({"serve", std::to_string(kEchoPort), "--echo"}, "echo");
  ASSERT_TRUE(wait_output("sink", "listening")) << output("sink.err");
  ASSERT_TRUE(wait_output("echo", "listening")) << output("echo.err");
  // Oversized frames need a larger MTU on vtas's veth end (the script raises its own end).
  ASSERT_EQ(std::system(("ip link set " + net_->fast_path_interface() + " mtu 9000").c_str()), 0);
  const std::string before = vtas_->ctl({"stats"}).out;

  auto r = net_->run_in_peer(
      {"/usr/bin/python3", fault::fault_script("probes.py"), "run", "--iface", fault::peer_interface(*net_),
       "--vtas-mac", fault::fast_path_mac(*net_), "--vtas-ip", net_->vtas_ip(), "--peer-ip", net_->peer_ip(),
       "--sink-port", std::to_string(kSinkPort), "--closed-port", std::to_string(kClosedPort), "--echo-port",
       std::to_string(kEchoPort), "--bytes", std::to_string(1 << 20), "--jumbo"},
      std::chrono::seconds(150));
  std::cerr << r.out;  // the probe table, for the log of the run
  EXPECT_EQ(r.exit_code, 0) << r.err;

  std::set<std::string> probes;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("probe ", 0) != 0) continue;
    std::istringstream words(line.substr(6));
    std::string name, verdict;
    words >> name >> verdict;
    probes.insert(name);
    EXPECT_TRUE(verdict == "ok" || verdict == "xfail" || verdict == "xpass") << line;
  }
  EXPECT_GE(probes.size(), 30u) << r.out;
  EXPECT_NE(r.out.find("echo-conn before ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("echo-conn after ok"), std::string::npos) << r.out;

  // The service is whole: no actor died, a new connection works end to end.
  EXPECT_EQ(fault::unhealthy_actors(vtas_->status_json()), "");
  auto fresh = run_peer({"echo-client", net_->vtas_ip(), std::to_string(kEchoPort), std::to_string(1 << 20)});
  EXPECT_NE(fresh.out.find("echo ok"), std::string::npos) << fresh.out << fresh.err;

  // The fast path counted what it dropped; conn counted the frames with impossible addresses.
  const std::string after = vtas_->ctl({"stats"}).out;
  auto expected_bad = values_of(r.out, "expect_rx_bad");
  ASSERT_EQ(expected_bad.size(), 1u) << r.out;
  EXPECT_GE(core_counter(after, "rx_bad") - core_counter(before, "rx_bad"), std::stoull(expected_bad[0]))
      << after;
  EXPECT_GT(stats_counter(after, "frames_bad_address"), stats_counter(before, "frames_bad_address")) << after;
  EXPECT_GT(stats_counter(after, "rsts_sent"), stats_counter(before, "rsts_sent")) << after;
}

}  // namespace
}  // namespace vtas::testing
