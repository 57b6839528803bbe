#include "runtime/shm/doorbell.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "runtime/clock.h"

namespace vtas::shm {

Result<Doorbell> Doorbell::create() {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    return make_error(std::string("doorbell: eventfd failed: ") + std::strerror(errno) +
                      " (out of file descriptors? check ulimit -n)");
  }
  return Doorbell(fd, true);
}

Doorbell Doorbell::adopt(int fd) {
  int flags = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
  return Doorbell(fd, flags >= 0 && (flags & O_NONBLOCK) != 0);
}

Doorbell::Doorbell(Doorbell&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), nonblocking_(other.nonblocking_) {}

Doorbell& Doorbell::operator=(Doorbell&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    nonblocking_ = other.nonblocking_;
  }
  return *this;
}

Doorbell::~Doorbell() {
  if (fd_ >= 0) close(fd_);
}

Status Doorbell::ring() {
  const uint64_t one = 1;
  for (;;) {
    ssize_t n = write(fd_, &one, sizeof(one));
    if (n == static_cast<ssize_t>(sizeof(one))) return Status::success();
    if (n < 0 && errno == EINTR) continue;
    // EAGAIN: the counter is at its limit, so the sleeper has a wake-up pending already.
    if (n < 0 && errno == EAGAIN) return Status::success();
    return make_error("doorbell fd " + std::to_string(fd_) +
                      ": ring failed: " + (n < 0 ? std::strerror(errno) : "short write") +
                      " (is it an eventfd, and still open?)");
  }
}

bool Doorbell::readable_now() const {
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

uint64_t Doorbell::drain() {
  uint64_t total = 0;
  for (;;) {
    // A blocking eventfd (adopted from elsewhere) would block in read() when empty.
    if (!nonblocking_ && !readable_now()) return total;
    uint64_t count = 0;
    ssize_t n = read(fd_, &count, sizeof(count));
    if (n == static_cast<ssize_t>(sizeof(count))) {
      total += count;
      continue;  // an EFD_SEMAPHORE eventfd hands out one ring per read
    }
    if (n < 0 && errno == EINTR) continue;
    return total;  // EAGAIN (empty), or a broken fd: nothing more to drain
  }
}

bool Doorbell::wait(int timeout_ms) {
  if (fd_ < 0) return false;  // poll() would silently ignore it and sleep out the timeout
  const uint64_t deadline =
      timeout_ms < 0 ? 0 : monotonic_ns() + static_cast<uint64_t>(timeout_ms) * 1000000ull;
  int remaining_ms = timeout_ms;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    int n = poll(&p, 1, remaining_ms);
    if (n > 0) return (p.revents & POLLIN) != 0;
    if (n == 0) return false;
    if (errno != EINTR) return false;
    if (timeout_ms >= 0) {
      const uint64_t now = monotonic_ns();
      if (now >= deadline) return false;
      // Round up so we never return before the deadline.
      remaining_ms = static_cast<int>((deadline - now + 999999) / 1000000);
    }
  }
}

}  // namespace vtas::shm
