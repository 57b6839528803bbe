#include "clientlib/sockets/src/engine.h"

#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>

#include "clientlib/sockets/src/config.h"
#include "clientlib/sockets/src/libc_calls.h"
#include "clientlib/sockets/src/socket_ops.h"
#include "clientlib/src/attach.h"

namespace vtas::sockets {
namespace {

InternalFd g_internal_fd;

struct ThreadWaiter {
  Waiter waiter;
  ~ThreadWaiter() {
    if (waiter.efd < 0) return;
    {
      // Its number may be reused once closed: it must not stay marked as libvtas's.
      std::lock_guard<std::mutex> lock(Engine::get().mutex());
      Engine::get().fds().clear(waiter.efd);
    }
    libc().close(waiter.efd);
  }
};
thread_local ThreadWaiter t_waiter;

void drain(int fd) {
  uint64_t value;
  while (libc().read(fd, &value, sizeof(value)) == static_cast<ssize_t>(sizeof(value))) {
  }
}

}  // namespace

Engine& Engine::get() {
  // Never destroyed: other libraries' destructors may still close sockets at exit.
  static Engine* engine = new Engine();
  return *engine;
}

bool Engine::available() {
  if (availability_ == Availability::kAttached) return true;
  if (availability_ == Availability::kUnavailable) return false;
  return attach();
}

bool Engine::attach() {
  availability_ = Availability::kUnavailable;
  if (config().disabled) {
    debug("VTAS_SOCKETS_DISABLE is set: every socket uses the kernel");
    return false;
  }
  restore_service_environment();
  if (flextcp_init() != 0) {
    warn("the vtas service is not available (%s); TCP sockets of this process use the kernel",
         vtas_last_error());
    return false;
  }
  if (flextcp_context_create(&ctx_) != 0) {
    warn("cannot create a vtas context (%s); TCP sockets of this process use the kernel",
         vtas_last_error());
    (void)vtas_fini();
    return false;
  }
  const client::Attachment* a = client::Attachment::current();
  local_ip_ = a->header().local_ip;
  route_nets_.clear();
  route_masks_.clear();
  const Config& c = config();
  if (!c.networks.empty()) {
    for (const Network& n : c.networks) {
      route_nets_.push_back(n.address);
      route_masks_.push_back(n.mask);
    }
  } else {
    const uint32_t mask = c.prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - c.prefix_length);
    route_nets_.push_back(ntohl(local_ip_) & mask);
    route_masks_.push_back(mask);
  }
  protect_internal_fds();
  owner_pid_ = ::getpid();
  availability_ = Availability::kAttached;
  char ip[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &local_ip_, ip, sizeof(ip));
  debug("attached to the vtas service: local address %s, %zu route(s)", ip, route_nets_.size());
  return true;
}

void Engine::protect_internal_fds() {
  client::Attachment* a = client::Attachment::current();
  internal_fds_.clear();
  internal_fds_.push_back(a->socket_fd());
  internal_fds_.push_back(a->region().fd());
  internal_fds_.push_back(a->control_doorbell().fd());
  for (uint32_t core = 0; core < a->num_cores(); ++core) {
    internal_fds_.push_back(a->core_doorbell(core).fd());
  }
  internal_fds_.push_back(flextcp_context_waitfd(&ctx_));
  for (int fd : internal_fds_) {
    if (fd >= 0 && fds_.get(fd) == nullptr) (void)fds_.set(fd, &g_internal_fd);
  }
}

bool Engine::routes_via_vtas(uint32_t ip) const {
  const uint32_t host = ntohl(ip);
  if ((host >> 24) == 127 || host == 0) return false;
  for (size_t i = 0; i < route_nets_.size(); ++i) {
    if ((host & route_masks_[i]) == route_nets_[i]) return true;
  }
  return false;
}

void Engine::pump() {
  if (availability_ != Availability::kAttached) return;
  constexpr int kBatch = 64;
  flextcp_event events[kBatch];
  for (;;) {
    const int n = flextcp_context_poll(&ctx_, kBatch, events);
    if (n < 0 && errno == ECONNRESET) {
      lose_service();
      return;
    }
    if (n < 0) {
      static bool reported = false;
      if (!reported) warn("the vtas context failed: %s", vtas_last_error());
      reported = true;
      break;
    }
    for (int i = 0; i < n; ++i) dispatch(events[i]);
    if (n < kBatch) break;
  }
  flush_deferred();
}

void Engine::lose_service() {
  warn("the vtas service hung up (it stopped, or crashed and was not restarted for this "
       "process): vtas sockets of this process fail with ECONNRESET, new ones use the kernel");
  availability_ = Availability::kLost;
  ctx_armed_ = false;
  std::vector<Socket*> sockets;  // a socket with several descriptors is listed once
  fds_.for_each(0, INT32_MAX, [&](int, FdObject* o) {
    if (o->type != ObjectType::kSocket) return;
    auto* s = static_cast<Socket*>(o);
    if (std::find(sockets.begin(), sockets.end(), s) == sockets.end()) sockets.push_back(s);
  });
  for (Socket* s : sockets) {
    if (s->kind == SocketKind::kUndecided) continue;  // a kernel socket so far
    s->forgotten = true;  // libvtas will never report on it again
    if (s->listen_state != ListenState::kNone) {
      s->listen_state = ListenState::kNone;
      s->listen_status = ECONNRESET;
    }
    if (s->state == ConnState::kConnecting || s->state == ConnState::kEstablished) {
      s->state = s->state == ConnState::kConnecting ? ConnState::kFailed : ConnState::kClosed;
      s->reset = true;
      s->error = ECONNRESET;
    }
    notify(s);
  }
}

void Engine::defer_flush(Socket* s) {
  if (s->on_flush_list) return;
  s->on_flush_list = true;
  flush_list_.push_back(s);
}

void Engine::flush_deferred() {
  if (flush_list_.empty()) return;
  std::vector<Socket*> list;
  list.swap(flush_list_);
  for (Socket* s : list) {
    s->on_flush_list = false;
    flush_socket(*this, s);
  }
}

void Engine::notify(Socket* s) {
  for (Waiter* w : s->waiters) {
    if (w->signaled) continue;
    w->signaled = true;
    const uint64_t one = 1;
    (void)!libc().write(w->efd, &one, sizeof(one));
  }
  for (EpollItem* item : s->watchers) {
    if (item->disabled) continue;
    if (!item->ready) {
      item->ready = true;
      item->set->ready.push_back(item);
    } else if (!(item->events & EPOLLET)) {
      continue;  // level-triggered and already queued: nothing new to tell
    }
    notify_set(item->set);
  }
}

void Engine::notify_set(EpollSet* set) {
  for (Waiter* w : set->waiters) {
    if (w->signaled) continue;
    w->signaled = true;
    const uint64_t one = 1;
    (void)!libc().write(w->efd, &one, sizeof(one));
  }
}

Waiter* Engine::thread_waiter() {
  Waiter& w = t_waiter.waiter;
  if (w.efd < 0) {
    w.efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w.efd < 0) return nullptr;
    (void)fds_.set(w.efd, &g_internal_fd);
    w.signaled = false;
  }
  return &w;
}

bool Engine::arm() {
  if (ctx_armed_) return true;
  if (flextcp_context_canwait(&ctx_) != 0) return false;
  ctx_armed_ = true;
  return true;
}

void Engine::let_others_in() {
  // Between two looks at a context that is still polling (arm() refused), so a polling thread
  // does not keep the one lock from the others.
  mutex_.unlock();
  std::this_thread::yield();
  mutex_.lock();
}

int Engine::sleep(Waiter* waiter, pollfd* kernel, nfds_t kernel_count, const timespec* deadline,
                  const sigset_t* sigmask) {
  const bool use_context = availability_ == Availability::kAttached;
  if (use_context && !arm()) {
    // Events arrived meanwhile, or the context is still in the service's poll interval
    // (--fp-poll-interval-app): the caller pumps again.
    let_others_in();
    return 0;
  }
  thread_local std::vector<pollfd> fds;  // no allocation per sleep once grown
  fds.assign(kernel, kernel + kernel_count);
  fds.push_back(pollfd{waiter->efd, POLLIN, 0});
  if (use_context) {
    fds.push_back(pollfd{client::Attachment::current()->socket_fd(), POLLRDHUP, 0});
    fds.push_back(pollfd{flextcp_context_waitfd(&ctx_), POLLIN, 0});
  }
  timespec timeout{};
  if (deadline != nullptr) {
    const timespec now = now_monotonic();
    int64_t left =
        (deadline->tv_sec - now.tv_sec) * 1000000000LL + (deadline->tv_nsec - now.tv_nsec);
    if (left < 0) left = 0;
    timeout.tv_sec = left / 1000000000LL;
    timeout.tv_nsec = left % 1000000000LL;
  }
  ++sleepers_;
  mutex_.unlock();
  const int rc = libc().ppoll(fds.data(), fds.size(), deadline ? &timeout : nullptr, sigmask);
  const int err = errno;
  mutex_.lock();
  --sleepers_;
  for (nfds_t i = 0; i < kernel_count; ++i) kernel[i].revents = fds[i].revents;
  if (waiter->signaled || (fds[kernel_count].revents & POLLIN)) drain(waiter->efd);
  if (use_context && ctx_armed_ && (fds.back().revents & POLLIN)) {
    flextcp_context_waitclear(&ctx_);
    ctx_armed_ = false;
  }
  // The service hung up (the only news of it): look now so pump() reports it at once.
  if (use_context && fds[fds.size() - 2].revents != 0) {
    (void)client::Attachment::current()->service_gone();
  }
  // This thread is awake and looks at its objects next: nobody needs to signal it.
  waiter->signaled = true;
  pump();
  waiter->signaled = false;
  // Others still sleep on the context: keep it armed so its next event wakes one of them.
  while (availability_ == Availability::kAttached && sleepers_ > 0 && !arm()) {
    let_others_in();
    pump();
  }
  if (rc < 0) {
    errno = err;
    return -1;
  }
  return 0;
}

void Engine::destroy(Socket* s) {
  if (s->on_flush_list) {
    for (auto& p : flush_list_) {
      if (p == s) p = nullptr;
    }
    std::erase(flush_list_, nullptr);
    s->on_flush_list = false;
  }
  delete s;
}

timespec now_monotonic() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts;
}

timespec deadline_after_ns(int64_t ns) {
  timespec t = now_monotonic();
  t.tv_sec += ns / 1000000000LL;
  t.tv_nsec += ns % 1000000000LL;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec += 1;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

bool deadline_passed(const timespec& deadline) {
  const timespec now = now_monotonic();
  return now.tv_sec > deadline.tv_sec ||
         (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
}

}  // namespace vtas::sockets
