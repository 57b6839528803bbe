// A hostile app next to an honest one: while a Linux client streams through an echo app on
// vtas, tests/fault/hostile_app attaches and writes garbage into its own queues (random atx
// entries, bumps for other apps' flows, huge bumps, random and foreign control requests,
// corrupted ring indices). The honest transfer must come through byte for byte, no actor may
// die, the fast path must count the rejected bumps, and the hostile app must be cut off.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "tests/fault/fault_support.h"
#include "tests/integration/tcp_fixture.h"

namespace vtas::testing {
namespace {

using fault::core_counter;
using fault::stats_counter;

constexpr int kEchoPort = 7300, kLinuxSinkPort = 9300;

class HostileAppTest : public TcpFixture {
 protected:
  pid_t spawn_hostile(const std::string& name) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("VTAS_RUNTIME_DIR", vtas_->runtime_dir().c_str(), 1);
      FILE* out = std::freopen((dir_ + "/" + name).c_str(), "w", stdout);
      FILE* err = std::freopen((dir_ + "/" + name + ".err").c_str(), "w", stderr);
      if (!out || !err) ::_exit(127);
      std::string port = std::to_string(kLinuxSinkPort);
      ::execl(VTAS_HOSTILE_APP, VTAS_HOSTILE_APP, net_->peer_ip().c_str(), port.c_str(), "--seed", "8",
              "--linger-ms", "10000", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    apps_.push_back(pid);
    return pid;
  }
};

TEST_F(HostileAppTest, GarbageInOneAppsQueuesHurtsNobodyElse) {
  start_instance();
  spawn_app({"serve", std::to_string(kEchoPort), "--echo"}, "echo");
  ASSERT_TRUE(wait_output("echo", "listening")) << output("echo.err");
  spawn_peer({"sink-server", std::to_string(kLinuxSinkPort)}, "linux-sink");
  ASSERT_TRUE(wait_output("linux-sink", "listening"));
  const std::string before = vtas_->ctl({"stats"}).out;

  // The honest transfer runs all along (2 x 64 MiB echoed, checked byte for byte by the client);
  // the hostile app starts once both connections are in (their flow ids are then among the ones
  // it attacks).
  pid_t client = spawn_peer({"echo-client", net_->vtas_ip(), std::to_string(kEchoPort),
                             std::to_string(64 << 20), "--conns", "2"}, "client");
  ASSERT_TRUE(eventually([&] { return stats_counter(vtas_->ctl({"stats"}).out, "accepted") >= 2; }))
      << vtas_->ctl({"stats"}).out;
  pid_t hostile = spawn_hostile("hostile");
  ASSERT_TRUE(wait_output("hostile", "corrupted", std::chrono::seconds(60)))
      << output("hostile") << output("hostile.err");
  EXPECT_EQ(::waitpid(client, nullptr, WNOHANG), 0)
      << "the transfer ended before the attack did: the test proved nothing";
  // Cut off: the fast path detaches an app that corrupted its control ring.
  EXPECT_TRUE(eventually([&] { return stats_counter(vtas_->ctl({"stats"}).out, "apps") == 1; },
                         std::chrono::seconds(5)))
      << vtas_->ctl({"stats"}).out;
  int status = wait_pid(hostile, std::chrono::seconds(30));
  EXPECT_EQ(status, 0) << "the hostile app itself failed (a library crash is a bug too): "
                       << output("hostile") << output("hostile.err");
  std::cerr << "---- hostile app ----\n" << output("hostile");

  EXPECT_EQ(wait_pid(client), 0) << output("client.err");
  const std::string out = output("client");
  size_t ok = 0;
  for (size_t at = 0; (at = out.find("echo ok", at)) != std::string::npos; ++at) ++ok;
  EXPECT_EQ(ok, 2u) << out;
  EXPECT_TRUE(eventually([&] { return values_of(output("echo"), "sha256").size() == 2; }));
  auto server = values_of(output("echo"), "sha256");
  auto sent = values_of(out, "sha256");
  std::sort(server.begin(), server.end());
  std::sort(sent.begin(), sent.end());
  EXPECT_EQ(server, sent);

  EXPECT_EQ(fault::unhealthy_actors(vtas_->status_json()), "");
  const std::string after = vtas_->ctl({"stats"}).out;
  EXPECT_GT(core_counter(after, "bad_app_bumps"), core_counter(before, "bad_app_bumps")) << after;
  EXPECT_GT(stats_counter(after, "app_requests_rejected") + stats_counter(after, "app_requests_garbage"),
            stats_counter(before, "app_requests_rejected") + stats_counter(before, "app_requests_garbage"))
      << after;
  // And the service still serves new connections.
  auto fresh = run_peer({"echo-client", net_->vtas_ip(), std::to_string(kEchoPort), "100000"});
  EXPECT_NE(fresh.out.find("echo ok"), std::string::npos) << fresh.out << fresh.err;
}

}  // namespace
}  // namespace vtas::testing
