// vtas-trace against a real instance: it sees exactly the messages the actors send, tracing
// switches on with the first client and off with the last, and a capture round-trips.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "tests/integration/instance.h"

namespace vtas::testing {
namespace {

size_t count_lines_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

bool all_tracing(const Instance& instance, const std::string& want) {
  std::string s = instance.status_json();
  return actor_field(s, "echo", "tracing") == want && actor_field(s, "pinger", "tracing") == want &&
         actor_field(s, "thread-echo", "tracing") == want;
}

TEST(Trace, SeesExactlyTheMessagesSentAndCaptureRoundTrips) {
  Instance instance("actor { name: \"echo\" kind: \"diag-echo\" }\n"
                    "actor { name: \"thread-echo\" kind: \"diag-echo\" placement: PLACEMENT_THREAD }\n"
                    "actor { name: \"pinger\" kind: \"diag-pinger\" diag { peer: \"echo\" rate_hz: 0 } }\n");
  ASSERT_TRUE(instance.start()) << instance.supervisor_stderr();
  EXPECT_TRUE(all_tracing(instance, "false") || actor_field(instance.status_json(), "echo", "tracing").empty());

  std::string capture = instance.runtime_dir() + "/../capture.vtr";
  pid_t tracer = ::fork();
  if (tracer == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::execl(VTAS_TRACE_BINARY, VTAS_TRACE_BINARY, "--runtime-dir", instance.runtime_dir().c_str(),
            "-q", "-w", capture.c_str(), nullptr);
    ::_exit(127);
  }
  // Tracing is on once every actor acknowledged it (the supervisor reports it per actor).
  ASSERT_TRUE(eventually([&] { return all_tracing(instance, "true"); })) << instance.ctl({"status"}).out;

  auto burst = instance.ctl({"call", "pinger", "ping_burst", "count: 100 window: 8"});
  ASSERT_EQ(burst.exit_code, 0) << burst.err;
  EXPECT_NE(burst.out.find("answered: 100"), std::string::npos) << burst.out;

  // A single ping the other way round, through the thread actor.
  auto ping = instance.ctl({"call", "thread-echo", "ping_request", "sequence: 77"});
  ASSERT_EQ(ping.exit_code, 0) << ping.err;

  ::kill(tracer, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(tracer, &status, 0), tracer);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The last trace client left: tracing is off again everywhere.
  EXPECT_TRUE(eventually([&] { return all_tracing(instance, "false"); }));

  auto replay = run_command({VTAS_TRACE_BINARY, "-r", capture, "--type", "ping_request"});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(count_lines_with(replay.out, "pinger -> echo REQUEST"), 100u) << replay.out;
  EXPECT_EQ(count_lines_with(replay.out, "vtasctl -> thread-echo"), 0u);  // vtasctl is no actor
  auto responses = run_command({VTAS_TRACE_BINARY, "-r", capture, "--actor", "echo", "--type",
                                "ping_response"});
  EXPECT_EQ(count_lines_with(responses.out, "echo -> pinger RESPONSE"), 100u) << responses.out;
  auto thread_reply = run_command({VTAS_TRACE_BINARY, "-r", capture, "--json", "--actor", "thread-echo"});
  EXPECT_EQ(count_lines_with(thread_reply.out, "\"sequence\":\"77\""), 1u) << thread_reply.out;
  EXPECT_EQ(instance.stop(), 0);
  std::filesystem::remove(capture);
}

}  // namespace
}  // namespace vtas::testing
