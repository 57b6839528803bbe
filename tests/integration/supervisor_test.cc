// The supervisor as users run it: the real `vtas` binary, real actor processes and threads,
// vtasctl as a real process.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "tests/integration/instance.h"

namespace vtas::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string three_actors(const std::string& placement) {
  return "supervision { heartbeat_interval_ms: 50 heartbeat_timeout_ms: 500 }\n"
         "actor { name: \"echo\" kind: \"diag-echo\" placement: " + placement + " }\n"
         "actor { name: \"ping-a\" kind: \"diag-pinger\" placement: " + placement +
         " diag { peer: \"echo\" rate_hz: 100 } }\n"
         "actor { name: \"ping-b\" kind: \"diag-pinger\" placement: " + placement +
         " diag { peer: \"ping-a\" rate_hz: 100 } }\n";
}

uint64_t counter(const Instance& instance, const std::string& actor, const std::string& name) {
  std::string json = instance.ctl({"--json", "stats"}).out;
  size_t at = json.find("\"actor\":\"" + actor + "\"");
  if (at == std::string::npos) return 0;
  size_t c = json.find("\"name\":\"" + name + "\",\"value\":\"", at);
  if (c == std::string::npos) return 0;
  c = json.find("\"value\":\"", c) + 9;
  return std::stoull(json.substr(c, json.find('"', c) - c));
}

void expect_request_response_flow(const std::string& placement) {
  Instance instance(three_actors(placement));
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  // Pings flow echo <- ping-a <- ping-b; ping-b's peer is a pinger, which answers pings too.
  EXPECT_TRUE(eventually([&] { return counter(instance, "ping-a", "pings_answered") >= 20; }))
      << instance.ctl({"stats"}).out;
  EXPECT_TRUE(eventually([&] { return counter(instance, "ping-b", "pings_answered") >= 20; }));
  EXPECT_EQ(counter(instance, "ping-a", "pings_lost"), 0u);
  std::string status = instance.status_json();
  for (const char* actor : {"echo", "ping-a", "ping-b"}) {
    EXPECT_EQ(actor_field(status, actor, "state"), "ACTOR_STATE_RUNNING") << actor;
    EXPECT_EQ(actor_field(status, actor, "restarts"), "0") << actor;
  }
  EXPECT_EQ(instance.stop(), 0) << instance.supervisor_stderr();
  EXPECT_FALSE(std::filesystem::exists(instance.runtime_dir()));
}

TEST(Supervisor, ThreeActorsExchangeRequestsAllInproc) {
  expect_request_response_flow("PLACEMENT_THREAD");
}

TEST(Supervisor, ThreeActorsExchangeRequestsAllIpc) {
  expect_request_response_flow("PLACEMENT_PROCESS");
}

TEST(Supervisor, KillNineRestartsTheActorAndMessagesFlowAgain) {
  Instance instance(three_actors("PLACEMENT_PROCESS"));
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  std::string pid = actor_field(instance.status_json(), "echo", "pid");
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(::kill(std::stoi(pid), SIGKILL), 0);
  ASSERT_TRUE(eventually([&] {
    std::string s = instance.status_json();
    return actor_field(s, "echo", "restarts") == "1" &&
           actor_field(s, "echo", "state") == "ACTOR_STATE_RUNNING";
  })) << instance.ctl({"status"}).out;
  std::string status = instance.status_json();
  EXPECT_NE(actor_field(status, "echo", "pid"), pid);
  EXPECT_NE(actor_field(status, "echo", "last_exit").find("killed by signal 9"), std::string::npos);
  EXPECT_LT(std::stoul(actor_field(status, "echo", "last_restart_ms")), 1000u);
  // The other actors were not touched.
  EXPECT_EQ(actor_field(status, "ping-a", "restarts"), "0");
  // Messages flow again: the pinger's answered count keeps growing after the restart.
  uint64_t before = counter(instance, "ping-a", "pings_answered");
  EXPECT_TRUE(eventually([&] { return counter(instance, "ping-a", "pings_answered") >= before + 20; }));
  EXPECT_NE(instance.ctl({"status"}).out.find("killed by signal 9"), std::string::npos);
  EXPECT_EQ(instance.stop(), 0);
}

TEST(Supervisor, RestartIntensityExceededShutsDownWithClearError) {
  Instance instance("supervision { max_restarts: 2 period_ms: 60000 }\n"
                    "actor { name: \"echo\" kind: \"diag-echo\" }\n"
                    "actor { name: \"other\" kind: \"diag-echo\" }\n");
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  for (int round = 1; round <= 3; ++round) {
    std::string pid = actor_field(instance.status_json(), "echo", "pid");
    ASSERT_FALSE(pid.empty()) << "round " << round;
    ASSERT_EQ(::kill(std::stoi(pid), SIGKILL), 0);
    if (round < 3) {
      ASSERT_TRUE(eventually([&] {
        return actor_field(instance.status_json(), "echo", "restarts") == std::to_string(round);
      }));
    }
  }
  EXPECT_EQ(instance.wait_exit(), 1);
  std::string err = instance.supervisor_stderr();
  EXPECT_NE(err.find("restart intensity exceeded: 3 restarts within 60000 ms (limit 2)"),
            std::string::npos) << err;
  EXPECT_NE(err.find("all actors stopped"), std::string::npos) << err;
}

TEST(Supervisor, StopsActorsInReverseOrderOnSigterm) {
  Instance instance("actor { name: \"first\" kind: \"diag-echo\" }\n"
                    "actor { name: \"second\" kind: \"diag-echo\" placement: PLACEMENT_THREAD }\n"
                    "actor { name: \"third\" kind: \"diag-echo\" }\n");
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  EXPECT_EQ(instance.stop(), 0);
  std::string err = instance.supervisor_stderr();
  size_t third = err.find("'third' (incarnation 1) exited with status 0");
  size_t second = err.find("'second' (incarnation 1) stopped");
  size_t first = err.find("'first' (incarnation 1) exited with status 0");
  ASSERT_NE(third, std::string::npos) << err;
  ASSERT_NE(second, std::string::npos) << err;
  ASSERT_NE(first, std::string::npos) << err;
  EXPECT_LT(third, second);
  EXPECT_LT(second, first);
}

TEST(Supervisor, HungActorIsKilledAndRestarted) {
  Instance instance("supervision { heartbeat_interval_ms: 20 heartbeat_timeout_ms: 300 }\n"
                    "actor { name: \"echo\" kind: \"diag-echo\" }\n");
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  // The call never gets its answer in time: the actor blocks its loop for 5 s.
  instance.ctl({"--timeout", "100", "call", "echo", "hang", "milliseconds: 5000"});
  ASSERT_TRUE(eventually([&] {
    std::string s = instance.status_json();
    return actor_field(s, "echo", "restarts") == "1" &&
           actor_field(s, "echo", "state") == "ACTOR_STATE_RUNNING";
  })) << instance.supervisor_stderr();
  EXPECT_NE(actor_field(instance.status_json(), "echo", "last_exit").find("hung"), std::string::npos);
  EXPECT_EQ(instance.stop(), 0);
}

TEST(Supervisor, ItsOwnStallKillsNoActor) {
  // A stalled supervisor (the VM's steal time, a blocked write) wakes up to heartbeats it
  // has not read yet: it once took every actor for hung and killed them all, the fast path
  // and its connections with them.
  Instance instance("supervision { heartbeat_interval_ms: 20 heartbeat_timeout_ms: 300 }\n"
                    "actor { name: \"echo\" kind: \"diag-echo\" }\n");
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  ASSERT_EQ(::kill(instance.pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // the stall itself
  ASSERT_EQ(::kill(instance.pid(), SIGCONT), 0);
  ASSERT_TRUE(eventually([&] {
    return instance.supervisor_stderr().find("own loop stalled") != std::string::npos;
  })) << instance.supervisor_stderr();
  // Well past another timeout: the actor, alive all along, is still its first incarnation.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const std::string s = instance.status_json();
  EXPECT_EQ(actor_field(s, "echo", "restarts"), "0") << instance.supervisor_stderr();
  EXPECT_EQ(actor_field(s, "echo", "state"), "ACTOR_STATE_RUNNING");
  EXPECT_EQ(instance.stop(), 0);
}

TEST(Supervisor, VtasctlStopStartRestartAndLogLevel) {
  Instance instance("actor { name: \"echo\" kind: \"diag-echo\" }\n"
                    "actor { name: \"tmp\" kind: \"diag-echo\" restart: RESTART_POLICY_TEMPORARY }\n");
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  auto r = instance.ctl({"stop", "echo"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(actor_field(instance.status_json(), "echo", "state"), "ACTOR_STATE_STOPPED");
  r = instance.ctl({"start", "echo"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(actor_field(instance.status_json(), "echo", "state"), "ACTOR_STATE_RUNNING");
  std::string old_pid = actor_field(instance.status_json(), "echo", "pid");
  r = instance.ctl({"restart", "echo"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string status = instance.status_json();
  EXPECT_EQ(actor_field(status, "echo", "state"), "ACTOR_STATE_RUNNING");
  EXPECT_NE(actor_field(status, "echo", "pid"), old_pid);
  EXPECT_EQ(actor_field(status, "echo", "restarts"), "1");
  r = instance.ctl({"log-level", "echo", "debug"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(actor_field(instance.status_json(), "echo", "log_level"), "debug");
  // A temporary actor killed stays down, and the instance keeps running.
  std::string tmp_pid = actor_field(instance.status_json(), "tmp", "pid");
  ASSERT_EQ(::kill(std::stoi(tmp_pid), SIGKILL), 0);
  EXPECT_TRUE(eventually([&] {
    return actor_field(instance.status_json(), "tmp", "state") == "ACTOR_STATE_FAILED";
  }));
  EXPECT_EQ(instance.stop(), 0);
}

TEST(Supervisor, VtasctlReportsUnknownActorAndMissingInstance) {
  Instance instance("actor { name: \"echo\" kind: \"diag-echo\" }\n");
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  auto r = instance.ctl({"restart", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no actor named 'nope'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("actors: echo"), std::string::npos) << r.err;
  EXPECT_EQ(instance.stop(), 0);
  r = instance.ctl({"status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no vtas instance is running"), std::string::npos) << r.err;
}

TEST(Supervisor, BadManifestIsRejectedWithLocationAndNothingStarts) {
  Instance instance("actor { name: \"echo\" kind: \"diag-echo\" }\n"
                    "actor { name: \"echo\" kind: \"diag-echo\" }\n");
  EXPECT_FALSE(instance.start());
  EXPECT_EQ(instance.wait_exit(), 1);
  std::string err = instance.supervisor_stderr();
  EXPECT_TRUE(std::regex_search(err, std::regex(R"(manifest\.txtpb:4:\d+: .*duplicate actor name)")))
      << err;
  EXPECT_FALSE(std::filesystem::exists(instance.runtime_dir()));
}

TEST(Supervisor, SecondSupervisorOnSameInstanceIsRefused) {
  Instance instance("actor { name: \"echo\" kind: \"diag-echo\" }\n");
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  auto r = run_command({vtas_binary(), "--manifest", instance.manifest_path()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already running"), std::string::npos) << r.err;
  EXPECT_EQ(actor_field(instance.status_json(), "echo", "state"), "ACTOR_STATE_RUNNING");
  EXPECT_EQ(instance.stop(), 0);
}

TEST(Supervisor, ControlSocketIsPrivate) {
  Instance instance("actor { name: \"echo\" kind: \"diag-echo\" }\n");
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  namespace fs = std::filesystem;
  auto perms = [](const std::string& p) { return fs::status(p).permissions() & fs::perms::all; };
  EXPECT_EQ(perms(instance.runtime_dir()), fs::perms::owner_all);
  EXPECT_EQ(perms(instance.runtime_dir() + "/ctl.sock"), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(perms(instance.runtime_dir() + "/trace.sock"), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(perms(instance.runtime_dir() + "/echo.sock"), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(instance.stop(), 0);
}

}  // namespace
}  // namespace vtas::testing
