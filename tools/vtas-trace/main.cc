// vtas-trace: shows, filters and captures the control messages of a vtas instance, live or
// from a capture file. See trace_options.cc (trace_usage) for the command line.
#include <google/protobuf/stubs/logging.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "runtime/trace/capture_file.h"
#include "tools/vtas-trace/live_trace.h"
#include "tools/vtas-trace/replay_trace.h"
#include "tools/vtas-trace/trace_options.h"
#include "tools/vtas-trace/trace_output.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 64;  // EX_USAGE, as vtas and vtasctl use

int fail(const std::string& message) {
  std::fprintf(stderr, "vtas-trace: %s\n", message.c_str());
  return kExitFailure;
}

// SIGINT/SIGTERM become readable events on a signalfd, blocked before any thread exists
// (ZeroMQ's I/O threads inherit the mask), so a signal ends the loop cleanly wherever it
// lands: the capture is flushed and the sockets closed.
int block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return -1;
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vtas::trace;

  auto options = parse_trace_options(std::vector<std::string>(argv + 1, argv + argc));
  if (!options) {
    std::fprintf(stderr, "vtas-trace: %s\n", options.error().message.c_str());
    return kExitUsage;
  }
  if (options->help) {
    std::fputs(trace_usage().c_str(), stdout);
    return 0;
  }

  // vtas-trace reports undecodable messages itself (counted, or a capture error naming the
  // record); protobuf's own log lines about them would only clutter the output.
  google::protobuf::SetLogHandler(nullptr);

  const int signal_fd = block_stop_signals();
  if (signal_fd < 0)
    return fail(std::string("cannot set up signal handling: ") + std::strerror(errno));
  // A closed pipe shows up as EPIPE on write, which ends vtas-trace quietly (see TraceOutput).
  ::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  // The source is checked before the capture file is created, so a failed attach or an
  // unreadable input leaves no empty capture behind (and does not truncate an old one).
  std::optional<CaptureReader> input;
  if (options->live()) {
    if (vtas::Status s = check_trace_socket(*options); !s) return fail(s.error().message);
  } else {
    auto reader = CaptureReader::open(options->read_path);
    if (!reader) return fail(reader.error().message);
    input.emplace(std::move(*reader));
  }
  std::optional<CaptureWriter> capture;
  if (!options->write_path.empty()) {
    if (!options->live() && same_file(options->read_path, options->write_path)) {
      return fail("-w " + options->write_path + " is the file -r reads; choose another");
    }
    auto writer = CaptureWriter::create(options->write_path);
    if (!writer) return fail(writer.error().message);
    capture.emplace(std::move(*writer));
  }

  TraceOutput output(
      TraceOutput::Settings{options->filter, options->json, !options->quiet, options->count},
      stdout, std::move(capture));
  vtas::Status run = options->live() ? run_live(*options, output, signal_fd)
                                     : run_replay(*input, output, signal_fd);
  vtas::Status finished = output.finish();

  if (!run) std::fprintf(stderr, "vtas-trace: %s\n", run.error().message.c_str());
  if (!finished) std::fprintf(stderr, "vtas-trace: %s\n", finished.error().message.c_str());
  std::fprintf(stderr, "%s\n", output.summary().c_str());
  return run && finished ? 0 : kExitFailure;
}
