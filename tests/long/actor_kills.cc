#include "tests/long/actor_kills.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "proto/envelope.pb.h"
#include "tests/fault/fault_support.h"
#include "tests/long/stall_witness.h"
#include "tools/vtasctl/ctl_client.h"

namespace vtas::testing {
namespace {

constexpr int kEchoPort = 7100;
constexpr int kChurnPort = 7200;  // its own server: its output is not the transfers' hashes
constexpr int kSinkPort = 9100;
// Sizes so that each transfer spans several kills at this machine's speed.
constexpr uint64_t kEchoBytes = 8ull << 20;  // per connection, Linux -> vtas -> Linux
constexpr int kEchoConns = 2;
// A transfer runs for about a second; one that takes this long stalled somewhere.
constexpr double kStalledTransferSeconds = 20;
constexpr uint64_t kSendBytes = 16ull << 20;  // vtas -> Linux

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// A transfer program that runs in a loop: when one finishes, the next one connects anew.
struct TransferLoop {
  pid_t pid = -1;
  int started = 0;
  std::vector<std::string> outputs;  // names of finished runs
  std::vector<int> exit_codes;
};

}  // namespace

std::vector<KillRecord> ActorKillFixture::run_kills(const KillPlan& plan) {
  std::vector<KillRecord> records;
  // Each kill is a separate fault, not a crash loop: the actor worked normally in between. The
  // default backoff (reset only after 5 s up) would count kills of one actor a few seconds
  // apart as a loop and delay restarts up to backoff.max_ms (1 s) -- by design, and measured
  // apart in the report; here we measure the restart itself.
  slow_path_actor_options_ = "backoff { reset_after_ms: 20 }";
  StallWitness witness;
  start_direct();
  if (HasFatalFailure()) return records;
  // Count RSTs the Linux side sends or receives: there must be none. Each is also logged
  // (tuple, sequence numbers) to the kernel log when net.netfilter.nf_log_all_netns is 1.
  const int nft = std::system(
      ("ip netns exec " + peer_ns() +
       " nft -f - <<'EOF'\n"
       "table inet vtlongrst {\n"
       "  counter rsts_in { }\n"
       "  counter rsts_out { }\n"
       "  chain in { type filter hook input priority 0; tcp flags rst counter name rsts_in"
       " log prefix \"vtlongrst-in \" flags all; }\n"
       "  chain out { type filter hook output priority 0; tcp flags rst counter name rsts_out"
       " log prefix \"vtlongrst-out \" flags all; }\n"
       "}\nEOF")
          .c_str());
  EXPECT_EQ(nft, 0) << "nft rule for the RST counter";
  spawn_app({"serve", std::to_string(kEchoPort), "--echo"}, "server");
  EXPECT_TRUE(wait_output("server", "listening")) << output("server.err");
  pid_t churn = -1;
  if (plan.churn) {
    // The churn client cycles through the peer's ephemeral ports faster than its TIME_WAIT
    // (60 s) frees them: let it reuse them (the peer's namespace only).
    direct_->run_in_peer({"/usr/sbin/sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1"});
    spawn_app({"serve", std::to_string(kChurnPort), "--echo"}, "churn-server");
    EXPECT_TRUE(wait_output("churn-server", "listening")) << output("churn-server.err");
    churn = spawn_peer({"churn-client", vtas_ip(), std::to_string(kChurnPort), "--threads", "2"},
                       "churn");
    EXPECT_TRUE(wait_output("churn", "started")) << output("churn") << output("churn.err");
  }
  spawn_peer({"sink-server", std::to_string(kSinkPort)}, "sink");
  EXPECT_TRUE(wait_output("sink", "listening")) << output("sink.err");
  if (HasFailure()) return records;

  TransferLoop echo, send;
  auto start_echo = [&] {
    const std::string name = "echo-client." + std::to_string(echo.started++);
    echo.outputs.push_back(name);
    echo.pid = spawn_peer({"echo-client", vtas_ip(), std::to_string(kEchoPort),
                           std::to_string(kEchoBytes), "--conns", std::to_string(kEchoConns)},
                          name);
  };
  auto start_send = [&] {
    const std::string name = "sender." + std::to_string(send.started++);
    send.outputs.push_back(name);
    send.pid = spawn_app(
        {"connect", peer_ip(), std::to_string(kSinkPort), "--bytes", std::to_string(kSendBytes)},
        name);
  };
  // Replaces finished transfers (keeping both directions busy); false once `keep_going` is
  // false and both loops ended.
  auto tend = [&](bool keep_going) {
    bool running = false;
    for (auto* loop : {&echo, &send}) {
      if (loop->pid < 0) continue;
      const int code = poll_pid(loop->pid);
      if (code < 0) {
        running = true;
        continue;
      }
      loop->exit_codes.push_back(code);
      loop->pid = -1;
      if (keep_going) {
        loop == &echo ? start_echo() : start_send();
        running = true;
      }
    }
    return running;
  };
  start_echo();
  start_send();

  const uint32_t seed = static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed());
  std::cout << "actor kills: seed=" << seed << " (rerun with --gtest_random_seed=" << seed << ")\n";
  std::mt19937 random(seed);
  std::uniform_int_distribution<size_t> pick(0, plan.actors.size() - 1);
  std::uniform_int_distribution<int> gap_ms(50, 300);
  // The supervisor's view of the actors, asked from this process every few milliseconds: a
  // vtasctl process per question would put a process start (seconds, now and then, on this
  // machine) into every measurement.
  CtlClient control(vtas_->runtime_dir(), std::chrono::milliseconds(2000));
  auto status_of = [&control](const std::string& actor) -> std::optional<ctl::ActorStatus> {
    Envelope request;
    request.mutable_ctl_request()->set_command(ctl::COMMAND_STATUS);
    request.mutable_header()->set_receiver("supervisor");
    auto answer = control.to_supervisor(std::move(request));
    if (!answer) return std::nullopt;
    for (const auto& a : answer->ctl_response().actors()) {
      if (a.name() == actor) return a;
    }
    return std::nullopt;
  };
  for (int k = 0; k < plan.kills; ++k) {
    const std::string& actor = plan.actors[pick(random)];
    const std::optional<ctl::ActorStatus> before = status_of(actor);
    if (!before || before->state() != ctl::ACTOR_STATE_RUNNING) {
      ADD_FAILURE() << "kill " << k << ": " << actor << " is not running: "
                    << (before ? before->ShortDebugString() : "no answer") << "\n" << vtas_->status_json();
      break;
    }
    const pid_t pid = static_cast<pid_t>(before->pid());
    const uint32_t incarnation = before->incarnation();
    const auto t0 = std::chrono::steady_clock::now();
    if (::kill(pid, SIGKILL) != 0) {
      ADD_FAILURE() << "kill " << k << ": kill(" << pid << ") of " << actor << " failed";
      break;
    }
    std::optional<ctl::ActorStatus> after;
    bool back = false;
    // Wait long enough that a slow restart is measured and reported with the rest (a
    // restart over a second fails the long suite through slow_restarts(), not here).
    while (!back && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30)) {
      after = status_of(actor);
      back = after && after->incarnation() != incarnation && after->state() == ctl::ACTOR_STATE_RUNNING;
      if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    KillRecord r{actor, ms_since(t0), 0};
    r.supervisor_ms = after ? static_cast<double>(after->last_restart_ms()) : 0;
    r.machine_stall_ms =
        static_cast<double>(witness.stalled_within(t0, std::chrono::steady_clock::now()).count());
    std::printf("kill n=%d actor=%s pid=%d observed_ms=%.1f supervisor_ms=%.0f%s\n", k,
                actor.c_str(), pid, r.observed_ms, r.supervisor_ms,
                r.machine_stall_ms > 0
                    ? (" machine_stall_ms=" + std::to_string(int(r.machine_stall_ms))).c_str()
                    : "");
    if (r.restart_ms() >= 1000) {
      // Slow: show what the supervisor logged from this kill on (the end-of-test log is cut
      // to its last lines), to tell a slow exec from a slow start of the actor itself.
      const std::string log = vtas_->supervisor_stderr();
      const size_t from = log.rfind("'" + actor + "' (incarnation " + std::to_string(incarnation) + ")");
      if (from != std::string::npos) {
        std::printf("---- supervisor log from kill %d on ----\n%s\n", k,
                    log.substr(from, 6000).c_str());
      }
    }
    std::fflush(stdout);
    if (!back) {
      ADD_FAILURE() << "kill " << k << ": " << actor << " not running again within 30 s: "
                    << (after ? after->ShortDebugString() : "no answer") << "\n" << vtas_->status_json();
      break;
    }
    records.push_back(r);
    tend(true);
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms(random)));  // let it work a while
  }

  if (churn > 0) {
    ::kill(churn, SIGTERM);
    const int code = wait_pid(churn, std::chrono::seconds(60));
    const std::string out = output("churn");
    EXPECT_EQ(code, 0) << out << output("churn.err");
    const auto conns = key_values(out, "conns");
    EXPECT_EQ(key_values(out, "errors"), std::vector<std::string>{"0"}) << out;
    std::cout << "churn: " << (conns.empty() ? "?" : conns[0]) << " short connections\n";
  }

  // Let the transfers running now finish; no new ones.
  EXPECT_TRUE(eventually([&] { return !tend(false); }, std::chrono::seconds(180)))
      << "transfers still running 180 s after the last kill";

  // Every transfer completed, byte for byte.
  std::vector<std::string> echo_sent, send_sent;
  for (size_t i = 0; i < echo.exit_codes.size(); ++i) {
    const std::string out = output(echo.outputs[i]);
    EXPECT_EQ(echo.exit_codes[i], 0) << echo.outputs[i] << ": " << output(echo.outputs[i] + ".err");
    EXPECT_EQ(count_lines_with(out, "echo ok bytes=" + std::to_string(kEchoBytes)),
              static_cast<size_t>(kEchoConns))
        << echo.outputs[i] << ": " << out;
    for (auto& h : key_values(out, "sha256")) echo_sent.push_back(h);
  }
  for (size_t i = 0; i < send.exit_codes.size(); ++i) {
    const std::string out = output(send.outputs[i]);
    EXPECT_EQ(send.exit_codes[i], 0)
        << send.outputs[i] << ": " << out << output(send.outputs[i] + ".err");
    for (auto& h : key_values(out, "sha256")) send_sent.push_back(h);
  }
  EXPECT_EQ(send_sent.size(), send.exit_codes.size());
  // What the receivers hashed is what the senders sent (as multisets: order of closing varies).
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_TRUE(eventually(
      [&] { return key_values(output("server"), "sha256").size() >= echo_sent.size(); }));
  EXPECT_EQ(sorted(key_values(output("server"), "sha256")), sorted(echo_sent));
  EXPECT_TRUE(
      eventually([&] { return key_values(output("sink"), "sha256").size() >= send_sent.size(); }));
  EXPECT_EQ(sorted(key_values(output("sink"), "sha256")), sorted(send_sent));
  for (const auto& bytes : key_values(output("sink"), "bytes")) {
    EXPECT_EQ(bytes, std::to_string(kSendBytes)) << output("sink");
  }
  std::cout << "transfers: echo clients=" << echo.exit_codes.size() << " (x" << kEchoConns
            << " connections), vtas senders=" << send.exit_codes.size() << "\n";
  // A kill costs a transfer at most a retransmission or two: one that took far longer
  // stalled (a connection lost track of, then found again), even if it completed.
  double slowest = 0;
  std::string slowest_name;
  for (const auto* outputs : {&echo.outputs, &send.outputs}) {
    for (const auto& name : *outputs) {
      for (const auto& value : key_values(output(name), "seconds")) {
        if (std::stod(value) > slowest) slowest = std::stod(value), slowest_name = name;
      }
    }
  }
  std::cout << "slowest transfer: " << slowest << " s (" << slowest_name << ")\n";
  EXPECT_LT(slowest, kStalledTransferSeconds)
      << slowest_name << ": " << output(slowest_name) << output(slowest_name + ".err");
  EXPECT_GE(echo.exit_codes.size() + send.exit_codes.size(), 2u);

  // Nothing left behind once the transfers are done (the servers stay, with accepts
  // posted): no flow in the fast path, no connection record in conn, and every close and
  // open answered. A lost answer or a leaked flow shows here even when no transfer noticed.
  std::string stats;
  const bool clean = eventually(
      [&] {
        stats = vtas_->ctl({"stats"}).out;
        return fault::stats_counter(stats, "fastpath", "flows") == 0 &&
               fault::stats_counter(stats, "conn", "connections") == 0 &&
               fault::stats_counter(stats, "fastpath", "unanswered_requests_not_accepts") == 0;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(clean) << "left behind 30 s after the last transfer:\n" << stats;

  // Which way a RST went tells whose it was: "in" came from vtas, "out" from Linux.
  for (const char* counter : {"rsts_in", "rsts_out"}) {
    const auto rsts =
        direct_->run_in_peer({"/usr/sbin/nft", "list", "counter", "inet", "vtlongrst", counter});
    EXPECT_NE(rsts.out.find("packets 0 "), std::string::npos)
        << "RSTs on the wire (" << counter << ", seen from the Linux side): " << rsts.out;
  }
  return records;
}

std::string slow_restarts(const std::vector<KillRecord>& kills) {
  std::ostringstream out;
  for (size_t i = 0; i < kills.size(); ++i) {
    const KillRecord& k = kills[i];
    if (k.restart_ms() < 1000) continue;
    out << "kill " << i << " (" << k.actor << "): back after " << k.observed_ms
        << " ms (the supervisor measured " << k.supervisor_ms << " ms from seeing the exit)";
    if (k.machine_stall_ms > 0) out << ", of which the machine stood still " << k.machine_stall_ms;
    out << "\n";
  }
  return out.str();
}

std::string restart_summary(const std::vector<KillRecord>& kills) {
  std::map<std::string, std::vector<const KillRecord*>> by_actor;
  for (const auto& k : kills) {
    by_actor[k.actor].push_back(&k);
    by_actor["all"].push_back(&k);
  }
  std::ostringstream out;
  char line[256];
  size_t stalled = 0;
  double longest = 0;
  for (const auto& k : kills) {
    if (k.machine_stall_ms > 0) ++stalled, longest = std::max(longest, k.machine_stall_ms);
  }
  if (stalled > 0) {
    out << "machine stalls during restarts: " << stalled << " kill(s), longest " << longest
        << " ms (subtracted from the restart times checked)\n";
  }
  for (const auto& [actor, list] : by_actor) {
    for (const bool observed : {false, true}) {
      std::vector<double> v;
      for (const auto* k : list) v.push_back(observed ? k->observed_ms : k->supervisor_ms);
      std::snprintf(line, sizeof(line),
                    "restart-time actor=%s measure=%s n=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
                    actor.c_str(), observed ? "observed" : "supervisor", v.size(), quantile(v, 0.5),
                    quantile(v, 0.99), quantile(v, 1.0));
      out << line;
    }
  }
  return out.str();
}

}  // namespace vtas::testing
