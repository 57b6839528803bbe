// End to end: the real vtas-trace binary as a child process, attached to an XPUB socket this
// test binds where a supervisor would (ipc://<runtime_dir>/trace.sock). The subscription
// message arriving on the XPUB is the readiness signal; pipe EOF is the exit signal. Any
// child still running when a test ends is killed by its PID.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "runtime/trace/capture_file.h"
#include "runtime/trace/tests/trace_test_support.h"

#ifndef VTAS_TRACE_BINARY
#error "VTAS_TRACE_BINARY must name the vtas-trace executable"
#endif

namespace vtas::trace {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::make_envelope;
using testing::make_note;
using testing::make_ping;
using testing::TempDir;

constexpr auto kTimeout = 20s;  // generous: sanitizer builds on a busy 2-core machine

// vtas-trace running with its stdout and stderr on pipes.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    std::vector<std::string> argv_storage{VTAS_TRACE_BINARY};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);

    int out[2];
    int err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec (the parent has threads).
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err[1], STDERR_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
    if (pid_ < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
  }

  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
  }

  pid_t pid() const { return pid_; }
  int err_fd() const { return err_fd_; }
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  size_t out_lines() const {
    size_t n = 0;
    for (char c : out_) n += c == '\n';
    return n;
  }

  // Reads whatever is ready on `fd` into its buffer; false at EOF.
  bool read_from(int fd) {
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      if (fd == out_fd_) out_open_ = false;
      if (fd == err_fd_) err_open_ = false;
      return false;
    }
    (fd == out_fd_ ? out_ : err_).append(buf, static_cast<size_t>(n));
    return true;
  }

  // Reads both pipes until `done()` holds or both are at EOF; false on timeout.
  template <class Done>
  bool read_until(Done done, std::chrono::milliseconds timeout = kTimeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done() && (out_open_ || err_open_)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd fds[2] = {{out_open_ ? out_fd_ : -1, POLLIN, 0},
                       {err_open_ ? err_fd_ : -1, POLLIN, 0}};
      if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
      for (const auto& p : fds) {
        if (p.fd >= 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) read_from(p.fd);
      }
    }
    return true;
  }

  // Reads until the child closes both pipes (it is exiting), then reaps it. Returns the exit
  // code, or -1 on timeout or an abnormal end (the destructor then kills it).
  int wait_exit() {
    if (!read_until([] { return false; })) return -1;
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool out_open_ = true;
  bool err_open_ = true;
  bool reaped_ = false;
  std::string out_;
  std::string err_;
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A supervisor's trace output, as far as vtas-trace can tell.
class FakeTracePublisher {
 public:
  explicit FakeTracePublisher(const TempDir& dir) : xpub_(context_, zmq::socket_type::xpub) {
    xpub_.set(zmq::sockopt::linger, 0);
    xpub_.bind("ipc://" + dir.file("trace.sock"));
  }

  // Waits for vtas-trace's subscription to everything: then it receives what we publish.
  // Returns false if the child ends or the time runs out first.
  bool wait_for_subscriber(Child& child) {
    const auto deadline = Clock::now() + kTimeout;
    zmq_pollitem_t items[] = {{xpub_.handle(), 0, ZMQ_POLLIN, 0},
                              {nullptr, child.err_fd(), ZMQ_POLLIN, 0}};
    while (Clock::now() < deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (zmq_poll(items, 2, static_cast<long>(left.count())) < 0) return false;
      if (items[0].revents & ZMQ_POLLIN) {
        zmq::message_t subscription;
        if (!xpub_.recv(subscription, zmq::recv_flags::dontwait)) continue;
        // XPUB reports a subscription as 0x01 followed by the topic ("" = everything).
        return subscription.size() == 1 && subscription.data<char>()[0] == 1;
      }
      if ((items[1].revents & ZMQ_POLLIN) && !child.read_from(child.err_fd())) return false;
    }
    return false;
  }

  void publish(const Envelope& envelope) {
    const std::string bytes = envelope.SerializeAsString();
    ASSERT_TRUE(xpub_.send(zmq::buffer(bytes), zmq::send_flags::none));
  }

 private:
  zmq::context_t context_;
  zmq::socket_t xpub_;
};

// 50 ping requests mixed with 30 other messages, in a fixed order.
std::vector<Envelope> mixed_traffic() {
  std::vector<Envelope> out;
  uint64_t ping = 0;
  for (int i = 0; i < 80; ++i) {
    if (i % 8 < 5) {
      out.push_back(make_ping(++ping));
    } else if (i % 8 == 5) {
      out.push_back(make_note("note " + std::to_string(i)));
    } else if (i % 8 == 6) {
      Envelope e = make_envelope("echo", "pinger", MESSAGE_KIND_RESPONSE, ping);
      e.mutable_ping_response()->set_sequence(ping);
      out.push_back(e);
    } else {
      Envelope e = make_envelope("supervisor", "echo", MESSAGE_KIND_EVENT, 0);
      e.mutable_set_trace()->set_enabled(true);
      out.push_back(e);
    }
  }
  return out;
}

TEST(VtasTraceE2E, LiveShowsExactlyTheMatchingCountAndExits) {
  TempDir dir;
  FakeTracePublisher publisher(dir);
  Child child({"--runtime-dir", dir.path(), "-c", "50", "--type", "ping_request"});
  ASSERT_TRUE(publisher.wait_for_subscriber(child)) << child.err();
  for (const auto& e : mixed_traffic()) publisher.publish(e);

  ASSERT_EQ(child.wait_exit(), 0) << child.err();
  auto lines = split_lines(child.out());
  ASSERT_EQ(lines.size(), 50u) << child.out();
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_NE(lines[i].find("pinger -> echo REQUEST#" + std::to_string(i + 1) +
                            " ping_request { sequence: " + std::to_string(i + 1) + " "),
              std::string::npos)
        << lines[i];
  }
  EXPECT_NE(child.err().find("vtas-trace: 50 messages shown, "), std::string::npos) << child.err();
}

TEST(VtasTraceE2E, CaptureRoundTripThroughTheTool) {
  TempDir dir;
  const std::string capture = dir.file("cap.vtr");
  const auto traffic = mixed_traffic();
  {
    FakeTracePublisher publisher(dir);
    Child writer({"--runtime-dir", dir.path(), "-c", "80", "-w", capture, "-q"});
    ASSERT_TRUE(publisher.wait_for_subscriber(writer)) << writer.err();
    for (const auto& e : traffic) publisher.publish(e);
    ASSERT_EQ(writer.wait_exit(), 0) << writer.err();
    EXPECT_EQ(writer.out(), "");  // -q
    EXPECT_NE(writer.err().find("vtas-trace: 80 messages written to " + capture + ", 80 seen"),
              std::string::npos)
        << writer.err();
  }

  auto reader = CaptureReader::open(capture);
  ASSERT_TRUE(reader) << reader.error().message;
  Envelope e;
  size_t n = 0;
  while (reader->next(&e)) {
    ASSERT_LT(n, traffic.size());
    EXPECT_EQ(e.SerializeAsString(), traffic[n].SerializeAsString()) << "record " << n + 1;
    ++n;
  }
  EXPECT_FALSE(reader->error()) << reader->error()->message;
  EXPECT_EQ(n, traffic.size());

  Child replay({"-r", capture, "--type", "ping_request", "--json"});
  ASSERT_EQ(replay.wait_exit(), 0) << replay.err();
  auto lines = split_lines(replay.out());
  ASSERT_EQ(lines.size(), 50u) << replay.out();
  for (const auto& line : lines) {
    EXPECT_EQ(line.rfind("{\"ts_ns\":", 0), 0u) << line;
    EXPECT_NE(line.find("\"field\":\"ping_request\""), std::string::npos) << line;
  }
  EXPECT_NE(replay.err().find("vtas-trace: 50 messages shown, 80 seen"), std::string::npos)
      << replay.err();
}

TEST(VtasTraceE2E, BrokenCaptureShowsWhatPrecedesTheBreakThenFails) {
  TempDir dir;
  const std::string capture = dir.file("cut.vtr");
  uint64_t cut_at = 0;
  {
    auto writer = CaptureWriter::create(capture);
    ASSERT_TRUE(writer) << writer.error().message;
    for (uint64_t i = 1; i <= 10; ++i) {
      ASSERT_TRUE(writer->append(make_ping(i)));
      if (i == 7) {
        ASSERT_TRUE(writer->flush());
        cut_at = testing::read_file(capture).size();  // start of record 8
      }
    }
  }
  ASSERT_EQ(::truncate(capture.c_str(), static_cast<off_t>(cut_at + 3)), 0);

  Child replay({"-r", capture});
  EXPECT_EQ(replay.wait_exit(), 1) << replay.err();
  EXPECT_EQ(split_lines(replay.out()).size(), 7u) << replay.out();
  EXPECT_NE(replay.err().find("vtas-trace: " + capture + ": offset " + std::to_string(cut_at) +
                              ": record 8: truncated (length says "),
            std::string::npos)
      << replay.err();
  EXPECT_NE(replay.err().find("vtas-trace: 7 messages shown, 7 seen"), std::string::npos)
      << replay.err();
}

TEST(VtasTraceE2E, SigtermEndsCleanlyWithTheCaptureFlushed) {
  TempDir dir;
  const std::string capture = dir.file("cap.vtr");
  FakeTracePublisher publisher(dir);
  Child child({"--runtime-dir", dir.path(), "-w", capture});
  ASSERT_TRUE(publisher.wait_for_subscriber(child)) << child.err();
  for (int i = 0; i < 10; ++i) publisher.publish(make_note("n" + std::to_string(i)));
  // The tenth printed line says the tenth message went through.
  ASSERT_TRUE(child.read_until([&] { return child.out_lines() >= 10; })) << child.err();
  ASSERT_EQ(::kill(child.pid(), SIGTERM), 0);
  ASSERT_EQ(child.wait_exit(), 0) << child.err();
  EXPECT_NE(
      child.err().find("vtas-trace: 10 messages shown and written to " + capture + ", 10 seen"),
      std::string::npos)
      << child.err();

  auto reader = CaptureReader::open(capture);
  ASSERT_TRUE(reader) << reader.error().message;
  Envelope e;
  int n = 0;
  while (reader->next(&e)) ++n;
  EXPECT_FALSE(reader->error()) << reader->error()->message;
  EXPECT_EQ(n, 10);
}

TEST(VtasTraceE2E, NoInstanceIsAClearErrorAndLeavesNoCaptureBehind) {
  TempDir dir;
  Child child({"--runtime-dir", dir.path(), "-w", dir.file("cap.vtr")});
  EXPECT_EQ(child.wait_exit(), 1);
  EXPECT_EQ(child.err(), "vtas-trace: no vtas instance running in " + dir.path() + ": " +
                             dir.file("trace.sock") + " does not exist\n");
  EXPECT_NE(::access(dir.file("cap.vtr").c_str(), F_OK), 0);

  Child named({"--instance", "vtas-trace-e2e-no-such"});
  EXPECT_EQ(named.wait_exit(), 1);
  EXPECT_EQ(named.err(),
            "vtas-trace: no vtas instance 'vtas-trace-e2e-no-such' running: "
            "/run/vtas/vtas-trace-e2e-no-such/trace.sock does not exist\n");
}

TEST(VtasTraceE2E, BadCommandLineExitsWithUsageError) {
  Child child({"--type", "nonsense"});
  EXPECT_EQ(child.wait_exit(), 64);
  EXPECT_NE(child.err().find("unknown message type 'nonsense'"), std::string::npos) << child.err();
  EXPECT_EQ(child.out(), "");

  Child help({"--help"});
  EXPECT_EQ(help.wait_exit(), 0);
  EXPECT_NE(help.out().find("usage: vtas-trace"), std::string::npos);
}

}  // namespace
}  // namespace vtas::trace
