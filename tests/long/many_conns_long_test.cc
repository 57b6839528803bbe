// Long suite: 100,000 concurrent established connections between Linux peers and apps on
// vtas, a small echoed message on each, held, then closed cleanly. Reports the setup rate and
// the memory vtas needs per connection.
//
// Limits that shape it (see the report of issue 8): the flow table has 131,072 entries
// (FastPathConfig::max_flows, not a manifest parameter) and each app's region is 64 MiB
// (FastPathConfig::app_region_size) holding every connection's rx and tx buffers, so one app
// holds at most 64 MiB / (tcp_rxbuf_len + tcp_txbuf_len) connections. Hence 8 server apps
// (one port each) and 2 KiB buffers each way; the peer uses two source addresses and a wide
// ephemeral port range so there are enough 4-tuples.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tests/long/long_fixture.h"

namespace vtas::testing {
namespace {

// VTAS_LONG_CONNECTIONS overrides the count (a quick check of the suite itself).
const int kConnections =
    std::getenv("VTAS_LONG_CONNECTIONS") ? std::atoi(std::getenv("VTAS_LONG_CONNECTIONS")) : 100000;
constexpr int kServers = 8;
constexpr int kFirstPort = 7300;
constexpr int kMessageBytes = 32;

// Proportional set size of a process in kB (shared memory divided among its users), 0 if gone.
uint64_t pss_kb(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/smaps_rollup");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Pss:", 0) == 0) return std::strtoull(line.c_str() + 4, nullptr, 10);
  }
  return 0;
}

class ManyConnections : public LongFixture {
 protected:
  // Pss of the supervisor, every actor and the server apps, in kB, and one line per process.
  uint64_t memory_kb(const std::vector<pid_t>& servers, std::string* detail) {
    const std::string status = vtas_->status_json();
    std::ostringstream out;
    uint64_t total = pss_kb(std::to_string(vtas_->pid()));
    out << "supervisor=" << total;
    for (const char* actor : {"fastpath", "arp", "timer", "conn", "cc"}) {
      const uint64_t kb = pss_kb(actor_field(status, actor, "pid"));
      out << " " << actor << "=" << kb;
      total += kb;
    }
    uint64_t apps = 0;
    for (pid_t pid : servers) apps += pss_kb(std::to_string(pid));
    out << " apps=" << apps;
    *detail = out.str();
    return total + apps;
  }
};

TEST_F(ManyConnections, HundredThousandEstablishedThenClosed) {
  start_direct("tcp_rxbuf_len: 2048 tcp_txbuf_len: 2048");
  std::vector<pid_t> servers;
  std::string ports;
  for (int i = 0; i < kServers; ++i) {
    const std::string port = std::to_string(kFirstPort + i);
    servers.push_back(spawn_app({port}, "server" + port, MANY_CONNS_SERVER));
    ports += (i ? "," : "") + port;
  }
  for (int i = 0; i < kServers; ++i) {
    const std::string name = "server" + std::to_string(kFirstPort + i);
    ASSERT_TRUE(wait_output(name, "listening")) << output(name + ".err");
  }
  // A second source address and the widest ephemeral range: 2 x 8 x 64,000 4-tuples.
  const std::string peer = peer_ip();
  const std::string second = peer.substr(0, peer.rfind('.') + 1) + "3";
  ASSERT_EQ(
      std::system(("ip netns exec " + peer_ns() + " sh -c 'ip addr add " + second +
                   "/24 dev $(ip -o -4 addr show | awk \"/" + peer +
                   "\\// {print \\$2}\")' && "
                   "ip netns exec " +
                   peer_ns() +
                   " sysctl -qw net.ipv4.ip_local_port_range=\"1024 65000\" "
                   // A SYN vtas cannot take fails in ~7 s, not after Linux's ~2 minutes of retries.
                   "net.ipv4.tcp_syn_retries=2")
                      .c_str()),
      0);

  std::string before_detail;
  const uint64_t before_kb = memory_kb(servers, &before_detail);
  const std::string release = dir_ + "/release";
  const pid_t client =
      spawn_in_peer({"/usr/bin/python3", MANY_CONNS_PEER, vtas_ip(), ports, peer + "," + second,
                     std::to_string(kConnections), std::to_string(kMessageBytes), release},
                    "client");
  const bool up = eventually(
      [&] { return output("client").find("per_s=") != std::string::npos || poll_pid(client) >= 0; },
      std::chrono::minutes(30));
  const std::string result = output("client");
  ASSERT_TRUE(up && result.find("per_s=") != std::string::npos)
      << "the peer gave up: " << result << output("client.err") << vtas_->ctl({"stats"}).out;
  std::string held_detail;
  const uint64_t held_kb = memory_kb(servers, &held_detail);
  const auto established = key_values(result, "established");
  const auto per_s = key_values(result, "per_s");
  std::cout << result;
  std::cout << "memory before: total_kb=" << before_kb << " " << before_detail << "\n";
  std::cout << "memory held:   total_kb=" << held_kb << " " << held_detail << "\n";
  ASSERT_FALSE(established.empty());
  const double held = std::max(1.0, std::stod(established.back()));
  std::cout << "memory per connection: "
            << (held_kb > before_kb ? (held_kb - before_kb) * 1024.0 / held : 0)
            << " bytes (Pss of vtas and the server apps, over " << established.back()
            << " connections; 2 KiB rx + 2 KiB tx buffers each)\n";
  EXPECT_EQ(established.back(), std::to_string(kConnections)) << result << output("client.err");
  EXPECT_EQ(key_values(result, "failed").back(), "0");
  EXPECT_EQ(key_values(result, "echo_bad").back(), "0");

  // Close them all; every server sees its connections closed.
  std::ofstream(release) << "go\n";
  EXPECT_EQ(wait_pid(client, std::chrono::minutes(5)), 0) << output("client.err");
  auto closed_total = [&] {
    uint64_t sum = 0;
    for (int i = 0; i < kServers; ++i) {
      const auto c = key_values(output("server" + std::to_string(kFirstPort + i)), "closed");
      if (!c.empty()) sum += std::stoull(c.back());
    }
    return sum;
  };
  // Servers report their closes whenever they go idle.
  // Every connection that was established closes (if fewer than kConnections came up, the
  // failure above says so; the close is still checked for those that did).
  const uint64_t up_count = std::stoull(established.back());
  EXPECT_TRUE(eventually([&] { return closed_total() >= up_count; }, std::chrono::minutes(5)))
      << "closed " << closed_total() << " of " << up_count << "\n"
      << vtas_->ctl({"stats"}).out;
  for (pid_t pid : servers) ::kill(pid, SIGTERM);
  uint64_t exact = 0;
  for (int i = 0; i < kServers; ++i) {
    EXPECT_EQ(wait_pid(servers[i], std::chrono::seconds(30)), 0);
    const auto c = key_values(output("server" + std::to_string(kFirstPort + i)), "closed_total");
    if (!c.empty()) exact += std::stoull(c.back());
  }
  std::cout << "closed by the servers: " << exact << "\n";
  EXPECT_EQ(exact, up_count);
}

}  // namespace
}  // namespace vtas::testing
