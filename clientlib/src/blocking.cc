// Blocking: how an application thread sleeps until its context has events, without lost
// wake-ups (TAS issue #15 lost them: it checked its queues, then slept, and an event pushed in
// between never woke it).
//
// The handshake (runtime/shm/spsc_ring.h): canwait() announces sleep on every ring the
// context consumes (prepare_sleep on kin and on every arx ring), each announcement followed by
// one more look at that ring. If all are still empty, every producer that pushes afterwards
// sees the announcement and rings the context's eventfd, so blocking on it is safe. If one is
// not empty, the announcements are withdrawn and the caller polls instead. waitclear() drains
// the eventfd and withdraws the announcements after the wake-up. wait() is the three in a row.
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "clientlib/src/context.h"
#include "clientlib/src/errors.h"

namespace vtas::client {
namespace {

void withdraw_sleep(Context& c) {
  c.kin.finish_sleep();
  for (auto& ring : c.arx) ring.finish_sleep();
  c.sleep_announced = false;
}

int can_wait(Context& c) {
  if (!c.backlog.empty()) return fail(EAGAIN, "events are pending: poll them");
  bool idle = c.kin.prepare_sleep();
  for (size_t core = 0; idle && core < c.arx.size(); ++core) idle = c.arx[core].prepare_sleep();
  if (!idle) {
    // prepare_sleep() withdrew the announcement of the ring that had entries; withdraw the
    // ones made before it too, so producers stop ringing for nothing.
    withdraw_sleep(c);
    return fail(EAGAIN, "events are pending: poll them");
  }
  c.sleep_announced = true;
  return 0;
}

void drain_eventfd(int fd) {
  uint64_t count;
  while (::read(fd, &count, sizeof(count)) == static_cast<ssize_t>(sizeof(count))) {
  }
}

void wait_clear(Context& c) {
  drain_eventfd(c.evfd);
  withdraw_sleep(c);
}

int wait(Context& c, int timeout_ms) {
  if (can_wait(c) != 0) return -1;
  pollfd p{c.evfd, POLLIN, 0};
  // A signal ends the wait early: the caller polls and comes back, as after any wake-up.
  if (::poll(&p, 1, timeout_ms) < 0 && errno != EINTR) {
    const int err = errno;
    wait_clear(c);
    return fail(err, "flextcp_context_wait: poll on the context's eventfd failed: %s",
                strerror(err));
  }
  wait_clear(c);
  return 0;
}

}  // namespace
}  // namespace vtas::client

using vtas::client::Context;
using vtas::client::with_context;

extern "C" int flextcp_context_waitfd(struct flextcp_context* ctx) {
  Context* c = vtas::client::context_of(ctx);
  return c == nullptr ? -1 : c->evfd;
}

extern "C" int flextcp_context_canwait(struct flextcp_context* ctx) {
  return with_context(ctx, [](Context& c) { return vtas::client::can_wait(c); });
}

extern "C" void flextcp_context_waitclear(struct flextcp_context* ctx) {
  (void)with_context(ctx, [](Context& c) {
    vtas::client::wait_clear(c);
    return 0;
  });
}

extern "C" int flextcp_context_wait(struct flextcp_context* ctx, int timeout_ms) {
  return with_context(ctx, [&](Context& c) { return vtas::client::wait(c, timeout_ms); });
}
