// The body of wait_until() (socket_ops.h), a template because each call waits for its own
// condition. Included by socket_ops.h only.
#pragma once

#include <algorithm>
#include <cerrno>
#include <optional>

namespace vtas::sockets {

template <class Pred>
int wait_until(Engine& e, Socket* s, int64_t timeout_ns, Pred pred) {
  std::optional<timespec> deadline;
  if (timeout_ns > 0) deadline = deadline_after_ns(timeout_ns);
  ++s->busy;
  int result = 0;
  for (;;) {
    e.pump();
    if (s->orphan) {  // closed by another thread while we waited
      errno = EBADF;
      result = -1;
      break;
    }
    if (pred()) break;
    if (deadline && deadline_passed(*deadline)) {
      errno = EAGAIN;
      result = -1;
      break;
    }
    Waiter* w = e.thread_waiter();
    if (w == nullptr) {
      errno = ENOMEM;
      result = -1;
      break;
    }
    s->waiters.push_back(w);
    const int rc = e.sleep(w, nullptr, 0, deadline ? &*deadline : nullptr, nullptr);
    std::erase(s->waiters, w);
    if (rc < 0 && errno == EINTR && (deadline || !signals_restart())) {
      result = -1;
      break;
    }
  }
  --s->busy;
  if (s->busy == 0) {
    const int saved = errno;
    destroy_if_unused(e, s);
    errno = saved;
  }
  return result;
}

}  // namespace vtas::sockets
