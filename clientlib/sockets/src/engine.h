// Engine: the process-wide state of libvtas_sockets and the one lock that guards it.
//
// Locking: one mutex (the "engine lock") guards every object, the libvtas context and every
// libvtas call. Calls on kernel descriptors never take it. Blocking calls release it while
// they sleep. One lock keeps the wake-up logic simple enough to be obviously free of lost
// wake-ups; the data copies done under it are short (the buffers live in shared memory).
//
// Context: one libvtas context per process, created on first use and polled by whichever
// thread holds the lock (pump()). Threads that sleep wait on the context's eventfd together
// with their own Waiter eventfd and any kernel descriptors; the first to wake pumps and
// signals the Waiters of the objects that changed, so each sleeper wakes for its own objects.
//
// Who may call: the files of libvtas_sockets, with the lock held unless noted.
#pragma once

#include <poll.h>
#include <signal.h>
#include <time.h>

#include <cstdint>
#include <mutex>
#include <vector>

#include "clientlib/sockets/src/fd_table.h"
#include "clientlib/sockets/src/objects.h"
#include "vtas/tas_ll.h"

namespace vtas::sockets {

// kLost: the service hung up after we attached (Engine::lose_service): the vtas sockets
// failed with ECONNRESET and, as when it was never there, new sockets use the kernel.
enum class Availability : uint8_t { kUnknown, kAttached, kUnavailable, kLost };

class Engine {
 public:
  static Engine& get();

  std::mutex& mutex() { return mutex_; }
  FdTable& fds() { return fds_; }

  // Attaches to the service on first use. True if vtas serves sockets in this process.
  bool available();
  // The service's address (network order); valid when available().
  uint32_t local_ip() const { return local_ip_; }
  // True if TCP to `ip` (network order) goes through vtas.
  bool routes_via_vtas(uint32_t ip) const;
  flextcp_context* context() { return &ctx_; }

  // Processes every pending event of the context; flushes deferred bumps.
  void pump();
  // Signals everything waiting on `s` (threads, epoll instances).
  void notify(Socket* s);
  // Signals every thread waiting on `set`.
  void notify_set(EpollSet* set);

  // The calling thread's Waiter (created on first use); nullptr if out of descriptors.
  Waiter* thread_waiter();
  // Sleeps with the lock released until `waiter` is signaled, the context may have events,
  // one of `kernel` (may be null) is ready, `deadline` (CLOCK_MONOTONIC; null = none) passes
  // or a signal arrives. Returns 0 (woken or timed out: the caller re-checks its condition),
  // or -1 with errno EINTR. The caller registered `waiter` on its objects beforehand.
  int sleep(Waiter* waiter, pollfd* kernel, nfds_t kernel_count, const timespec* deadline,
            const sigset_t* sigmask);

  // Queues `s` for a bump retry (rx release / tx send that found its queue full).
  void defer_flush(Socket* s);
  // Frees a socket nobody refers to any more (no descriptor, libvtas forgot it).
  void destroy(Socket* s);
  // The pid the engine state belongs to (fork handling: fork.cc).
  int owner_pid() const { return owner_pid_; }

  // fork.cc
  void before_fork();
  void after_fork_parent();
  void after_fork_child();

 private:
  Engine() = default;
  bool attach();
  void dispatch(const flextcp_event& e);
  // The service closed the attach socket: every vtas socket fails with ECONNRESET (their
  // waiters wake up) and the context is no longer polled or slept on.
  void lose_service();
  // Releases the lock for a moment (the caller holds it).
  void let_others_in();
  void flush_deferred();
  void protect_internal_fds();
  bool arm();  // announces sleep on the context; false if events are pending

  std::mutex mutex_;
  FdTable fds_;
  Availability availability_ = Availability::kUnknown;
  uint32_t local_ip_ = 0;
  std::vector<uint32_t> route_nets_, route_masks_;  // host order
  flextcp_context ctx_{};
  bool ctx_armed_ = false;
  int sleepers_ = 0;
  std::vector<Socket*> flush_list_;
  std::vector<int> internal_fds_;
  int owner_pid_ = 0;
};

// Monotonic time helpers for deadlines.
timespec now_monotonic();
timespec deadline_after_ns(int64_t ns);
// Remaining milliseconds until `deadline` (0 if passed), for timeouts.
bool deadline_passed(const timespec& deadline);

// Checks libvtas answers: errno from a negative status.
inline int status_errno(int16_t status) {
  return status < 0 ? -status : EPROTO;
}

}  // namespace vtas::sockets
