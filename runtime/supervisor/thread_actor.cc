#include "runtime/supervisor/thread_actor.h"

#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <exception>

namespace vtas {

ThreadActor::ThreadActor(zmq::context_t& context, std::unique_ptr<Actor> actor,
                         RunnerOptions options)
    : context_(context), actor_(std::move(actor)), options_(std::move(options)) {}

ThreadActor::~ThreadActor() {
  if (thread_.joinable()) thread_.join();
  if (exit_fd_ >= 0) ::close(exit_fd_);
}

Status ThreadActor::start() {
  exit_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (exit_fd_ < 0) return make_error(std::string("eventfd: ") + ::strerror(errno));
  thread_ = std::thread([this] {
    std::string reason;
    bool clean = false;
    try {
      ZmqActorRunner runner(context_, options_);
      Status s = runner.run(*actor_);
      clean = s.ok();
      reason = s.ok() ? "stopped" : s.error().message;
    } catch (const std::exception& e) {
      reason = std::string("uncaught exception: ") + e.what();
    }
    reason_ = reason;
    clean_.store(clean);
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(exit_fd_, &one, sizeof(one));
  });
  return Status();
}

void ThreadActor::join(bool* clean, std::string* reason) {
  if (thread_.joinable()) thread_.join();
  *clean = clean_.load();
  *reason = reason_;
}

}  // namespace vtas
