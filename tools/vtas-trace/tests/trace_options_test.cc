#include "tools/vtas-trace/trace_options.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "runtime/trace/tests/trace_test_support.h"
#include "tools/vtas-trace/live_trace.h"

namespace vtas::trace {
namespace {

Result<TraceOptions> parse(std::vector<std::string> args) {
  return parse_trace_options(args);
}

TEST(TraceOptions, DefaultsAttachToInstanceVtas) {
  auto o = parse({});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->live());
  EXPECT_EQ(trace_endpoint(*o), "ipc:///run/vtas/vtas/trace.sock");
  EXPECT_FALSE(o->json);
  EXPECT_EQ(o->count, 0u);
  EXPECT_TRUE(o->filter.empty());
}

TEST(TraceOptions, InstanceAndRuntimeDirChooseTheEndpoint) {
  auto o = parse({"--instance", "lab"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(trace_endpoint(*o), "ipc:///run/vtas/lab/trace.sock");
  o = parse({"--runtime-dir=/tmp/x"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(trace_endpoint(*o), "ipc:///tmp/x/trace.sock");
}

TEST(TraceOptions, AllOptionsInBothSpellings) {
  auto o = parse({"--json", "--actor", "echo", "--actor=arp", "--type", "ping_request",
                  "--kind=event", "-c", "50", "-w", "out.vtr", "-q"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->json);
  EXPECT_TRUE(o->quiet);
  EXPECT_EQ(o->count, 50u);
  EXPECT_EQ(o->write_path, "out.vtr");
  EXPECT_FALSE(o->filter.empty());
  o = parse({"-c7", "-rin.vtr", "--count=9"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->count, 9u);  // the last one wins
  EXPECT_EQ(o->read_path, "in.vtr");
  EXPECT_FALSE(o->live());
}

TEST(TraceOptions, BadValuesAreNamed) {
  auto o = parse({"--type", "pong"});
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message.find("'pong'"), std::string::npos);
  EXPECT_NE(o.error().message.find("ping_request"), std::string::npos);

  o = parse({"--kind", "reply"});
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message.find("'reply'"), std::string::npos);

  for (const char* count : {"0", "-3", "ten", "5x", ""}) {
    o = parse({"-c", count});
    ASSERT_FALSE(o) << count;
    EXPECT_NE(o.error().message.find("-c wants"), std::string::npos) << o.error().message;
  }
}

TEST(TraceOptions, MissingValueUnknownOptionAndStrayArgument) {
  auto o = parse({"--type"});
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().message, "option --type needs a value; see vtas-trace --help");
  o = parse({"--follow"});
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().message, "unknown option '--follow'; see vtas-trace --help");
  o = parse({"capture.vtr"});
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().message, "unexpected argument 'capture.vtr'; see vtas-trace --help");
}

TEST(TraceOptions, ContradictionsAreRejected) {
  EXPECT_FALSE(parse({"--instance", "a", "--runtime-dir", "/tmp/a"}));
  EXPECT_FALSE(parse({"-r", "in.vtr", "--instance", "a"}));
  EXPECT_FALSE(parse({"-r", "in.vtr", "--runtime-dir", "/tmp/a"}));
  EXPECT_FALSE(parse({"-r", "same.vtr", "-w", "same.vtr"}));
  EXPECT_FALSE(parse({"--instance", "../etc"}));
  EXPECT_TRUE(parse({"-r", "in.vtr", "-w", "out.vtr"}));  // filtering a capture into another
}

TEST(TraceOptions, HelpListsTheMessageTypes) {
  auto o = parse({"-h"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->help);
  const std::string usage = trace_usage();
  EXPECT_NE(usage.find("usage: vtas-trace"), std::string::npos);
  EXPECT_NE(usage.find("ping_request (vtas.diag.PingRequest)"), std::string::npos);
}

TEST(TraceSocket, MissingInstanceIsAClearError) {
  auto o = parse({"--instance", "no-such-instance-for-vtas-trace-test"});
  ASSERT_TRUE(o) << o.error().message;
  Status s = check_trace_socket(*o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            "no vtas instance 'no-such-instance-for-vtas-trace-test' running: "
            "/run/vtas/no-such-instance-for-vtas-trace-test/trace.sock does not exist");
}

TEST(TraceSocket, AFileThatIsNotASocketIsNamed) {
  testing::TempDir dir;
  testing::write_file(dir.file("trace.sock"), "not a socket");
  auto o = parse({"--runtime-dir", dir.path()});
  ASSERT_TRUE(o) << o.error().message;
  Status s = check_trace_socket(*o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message.rfind(dir.file("trace.sock") + " is not a socket", 0), 0u)
      << s.error().message;
}

TEST(TraceSocket, StaleSocketFileIsNamed) {
  testing::TempDir dir;
  const std::string path = dir.file("trace.sock");
  // A socket file nobody listens on any more: bound, then closed without unlink.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(address.sun_path));
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);

  auto o = parse({"--runtime-dir", dir.path()});
  ASSERT_TRUE(o) << o.error().message;
  Status s = check_trace_socket(*o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "no vtas instance running in " + dir.path() + ": " + path +
                                   " is left over from an instance that is gone (nothing "
                                   "listens on it)");
}

}  // namespace
}  // namespace vtas::trace
