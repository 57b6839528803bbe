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
//
// Poll interval (TAS --fp-poll-interval-app, from the AttachResponse): a context that had
// events keeps polling for that long after it was first found idle before it may sleep
// (canwait() says "poll" until then, as TAS's canwait does), because sleeping and being woken
// costs more than a short spin when events come in bursts. 0 sleeps at once.
//
// Service hang-up: when the service closes the attach socket, nothing will ever wake a
// sleeper through the eventfd. wait() also watches the socket, and canwait(), wait() and
// flextcp_context_poll() report -1 with errno ECONNRESET instead of letting the app hang.
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "clientlib/src/context.h"
#include "clientlib/src/errors.h"

namespace vtas::client {
namespace {

// How often an empty poll looks at the attach socket for a hang-up: a syscall per empty poll
// would cost busy-polling apps dearly; 5 ms is far below any time an app would notice.
constexpr uint64_t kServiceCheckIntervalNs = 5'000'000;

uint64_t now_ns(clockid_t clock) {
  timespec t{};
  ::clock_gettime(clock, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(t.tv_nsec);
}

void withdraw_sleep(Context& c) {
  c.kin.finish_sleep();
  for (auto& ring : c.arx) ring.finish_sleep();
  c.sleep_announced = false;
}

int events_pending() { return fail(EAGAIN, "events are pending: poll them"); }

// One turn of the poll interval's spin gives the CPU away if anything else wants it: on a host
// where the app shares a CPU with the fast path (this 2-core machine; any oversubscribed host),
// a spinning app would otherwise starve the very fast path it waits for (measured: 1-connection
// RPC fell from ~40k to ~300 requests/s with both pinned to one CPU). With a CPU to itself,
// sched_yield() returns at once.
void spin_pause() {
  ::sched_yield();
}

// True while the context is inside its poll interval after its last event (the first call
// after an event starts the interval).
bool still_polling(Context& c) {
  const uint64_t interval_ns = uint64_t{c.attachment.poll_interval_app_us()} * 1000;
  if (interval_ns == 0) return false;
  const uint64_t now = now_ns(CLOCK_MONOTONIC);
  if (c.idle_since_ns == 0) {
    c.idle_since_ns = now;
    return true;
  }
  return now - c.idle_since_ns < interval_ns;
}

bool rings_have_entries(Context& c) {
  if (c.kin.available() != 0) return true;
  for (auto& ring : c.arx) {
    if (ring.available() != 0) return true;
  }
  return false;
}

// Announces sleep on every ring, each followed by one more look (the lost-wake-up guard).
int arm(Context& c) {
  bool idle = c.kin.prepare_sleep();
  for (size_t core = 0; idle && core < c.arx.size(); ++core) idle = c.arx[core].prepare_sleep();
  if (!idle) {
    // prepare_sleep() withdrew the announcement of the ring that had entries; withdraw the
    // ones made before it too, so producers stop ringing for nothing.
    withdraw_sleep(c);
    return events_pending();
  }
  c.sleep_announced = true;
  return 0;
}

int can_wait(Context& c) {
  if (!c.backlog.empty()) return events_pending();
  if (service_gone(c)) return -1;
  if (still_polling(c)) {
    spin_pause();
    return fail(EAGAIN, "polling for up to %u us after the last event before sleeping "
                        "(--fp-poll-interval-app): poll again",
                c.attachment.poll_interval_app_us());
  }
  return arm(c);
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
  const uint64_t start = now_ns(CLOCK_MONOTONIC);
  const uint64_t timeout_ns = timeout_ms < 0 ? UINT64_MAX : uint64_t(timeout_ms) * 1'000'000;
  // The poll interval: spin on the rings (reading, never announcing) until it is over.
  for (;;) {
    if (!c.backlog.empty() || rings_have_entries(c)) return events_pending();
    if (service_gone(c)) return -1;
    if (!still_polling(c)) break;
    if (now_ns(CLOCK_MONOTONIC) - start >= timeout_ns) return 0;
    spin_pause();
  }
  if (arm(c) != 0) return -1;
  int left_ms = timeout_ms;
  if (timeout_ms >= 0) {
    const uint64_t spent_ms = (now_ns(CLOCK_MONOTONIC) - start) / 1'000'000;
    left_ms = spent_ms >= uint64_t(timeout_ms) ? 0 : timeout_ms - static_cast<int>(spent_ms);
  }
  // The attach socket too: its hang-up is the only news of a dead service. POLLRDHUP, not
  // POLLIN: another thread's context answer is not for us.
  pollfd p[2] = {{c.evfd, POLLIN, 0}, {c.attachment.socket_fd(), POLLRDHUP, 0}};
  // A signal ends the wait early: the caller polls and comes back, as after any wake-up.
  if (::poll(p, 2, left_ms) < 0 && errno != EINTR) {
    const int err = errno;
    wait_clear(c);
    return fail(err, "flextcp_context_wait: poll on the context's eventfd failed: %s",
                strerror(err));
  }
  wait_clear(c);
  if (p[1].revents != 0) {
    c.next_service_check_ns = 0;  // look now, not in a few milliseconds
    if (service_gone(c)) return -1;
  }
  return 0;
}

}  // namespace

bool service_gone(Context& c) {
  const uint64_t now = now_ns(CLOCK_MONOTONIC_COARSE);
  bool gone;
  if (now >= c.next_service_check_ns) {
    c.next_service_check_ns = now + kServiceCheckIntervalNs;
    gone = c.attachment.service_gone();
  } else {
    gone = c.attachment.service_gone_seen();
  }
  if (!gone) return false;
  fail(ECONNRESET,
       "the vtas service closed this process's attach socket: it stopped, or crashed and was "
       "not restarted for this app; its connections are gone. Destroy the contexts, call "
       "vtas_fini() and flextcp_init() again once the service is back");
  return true;
}

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
