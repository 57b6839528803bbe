// An app on the real vtas when the fast path dies under it: vtas_ll_tool serving on vtas,
// the fastpath actor killed by its PID (the supervisor restarts it, but a new fast path does
// not take over the old one's apps). The app's flextcp_context_poll must fail with
// ECONNRESET within a bound, so it exits with the reason instead of hanging forever.
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "tests/integration/tcp_fixture.h"

namespace vtas::testing {
namespace {

TEST_F(TcpFixture, AnAppLearnsThatTheFastPathDied) {
  start_instance();
  const pid_t app = spawn_app({"serve", "7040", "--echo"}, "server");
  ASSERT_TRUE(wait_output("server", "listening 7040")) << "the app attached and listens";

  const std::string fastpath = actor_field(vtas_->status_json(), "fastpath", "pid");
  ASSERT_FALSE(fastpath.empty()) << vtas_->status_json();
  ASSERT_EQ(::kill(std::stoi(fastpath), SIGKILL), 0);

  // vtas_ll_tool blocks in flextcp_context_wait between polls and exits when a poll fails.
  const int status = wait_pid(app, std::chrono::seconds(10));
  EXPECT_NE(status, -1) << "the app still runs 10 s after its fast path died";
  EXPECT_NE(status, 0);
  EXPECT_NE(output("server.err").find(std::strerror(ECONNRESET)), std::string::npos)
      << output("server.err");
  // The supervisor brings the fast path back for new apps; TearDown stops vtas cleanly.
  ASSERT_TRUE(eventually([&] {
    const std::string pid = actor_field(vtas_->status_json(), "fastpath", "pid");
    return !pid.empty() && pid != fastpath;
  }));
}

}  // namespace
}  // namespace vtas::testing
