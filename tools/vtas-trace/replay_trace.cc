#include "tools/vtas-trace/replay_trace.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vtas::trace {
namespace {

// Records between looks at the signal fd: cheap enough, and Ctrl-C still feels immediate.
constexpr uint64_t kSignalCheckInterval = 1024;

bool signal_pending(int signal_fd) {
  pollfd pfd{signal_fd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

}  // namespace

bool same_file(const std::string& read_path, const std::string& write_path) {
  struct stat a {};
  struct stat b {};
  return ::stat(read_path.c_str(), &a) == 0 && ::stat(write_path.c_str(), &b) == 0 &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

Status run_replay(CaptureReader& reader, TraceOutput& output, int signal_fd) {
  Envelope envelope;
  while (!output.done() && reader.next(&envelope)) {
    auto more = output.handle(envelope);
    if (!more) return more.error();
    if (reader.records() % kSignalCheckInterval == 0 && signal_pending(signal_fd)) {
      return Status::success();
    }
  }
  if (reader.error()) return *reader.error();
  return Status::success();
}

}  // namespace vtas::trace
