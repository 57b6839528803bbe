// poll, ppoll, select, pselect over any mix of vtas sockets and kernel descriptors. Without a
// vtas socket among them the call goes to libc untouched. Otherwise vtas readiness is
// computed here, the kernel descriptors are polled by the kernel (at once if something is
// ready, else while sleeping together with the context and the thread's Waiter).
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "clientlib/sockets/src/calls.h"
#include "clientlib/sockets/src/config.h"
#include "clientlib/sockets/src/socket_ops.h"
#include "vtas/sockets.h"

namespace vtas::sockets {
namespace {

constexpr short kSelectRead = POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR;
constexpr short kSelectWrite = POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR;
constexpr short kSelectExcept = POLLPRI;

bool is_vtas(Engine& e, int fd) {
  FdObject* o = e.fds().get(fd);
  return o != nullptr && o->type == ObjectType::kSocket &&
         static_cast<Socket*>(o)->kind != SocketKind::kUndecided;
}

// The poll core, with the engine lock held. `deadline` null: wait forever; `poll_only`: no wait.
int poll_locked(Engine& e, pollfd* fds, nfds_t count, const timespec* deadline, bool poll_only,
                const sigset_t* sigmask) {
  std::vector<Socket*> sockets(count, nullptr);
  std::vector<pollfd> kernel;
  std::vector<nfds_t> kernel_index;  // kernel[i] answers for fds[kernel_index[i]]
  for (nfds_t i = 0; i < count; ++i) {
    fds[i].revents = 0;
    FdObject* o = fds[i].fd >= 0 ? e.fds().get(fds[i].fd) : nullptr;
    Socket* s = o != nullptr && o->type == ObjectType::kSocket ? static_cast<Socket*>(o) : nullptr;
    if (s != nullptr && s->kind == SocketKind::kUndecided) s = nullptr;
    sockets[i] = s;
    if (s == nullptr || s->kernel_listening) {
      kernel.push_back(pollfd{fds[i].fd, fds[i].events, 0});
      kernel_index.push_back(i);
    }
  }
  auto vtas_ready = [&] {
    int ready = 0;
    for (nfds_t i = 0; i < count; ++i) {
      if (sockets[i] == nullptr) continue;
      const auto mask = static_cast<uint32_t>(fds[i].events) | POLLERR | POLLHUP;
      const uint32_t now = poll_events(sockets[i]);
      if ((fds[i].events & POLLOUT) && !(now & POLLOUT)) sockets[i]->nospace = true;
      fds[i].revents = static_cast<short>(now & mask);
      if (fds[i].revents != 0) ++ready;
    }
    return ready;
  };
  auto merge_kernel = [&] {
    int extra = 0;
    for (size_t k = 0; k < kernel.size(); ++k) {
      pollfd& p = fds[kernel_index[k]];
      const bool was = p.revents != 0;
      p.revents = static_cast<short>(p.revents | kernel[k].revents);
      if (!was && p.revents != 0) ++extra;
    }
    return extra;
  };
  for (Socket* s : sockets) {
    if (s == nullptr) continue;
    ++s->busy;
    // A listener inherited through fork() (or suspended by it) serves again once waited on.
    if (s->kind == SocketKind::kListener) (void)ensure_listening(e, s);
  }
  int result = 0;
  for (;;) {
    e.pump();
    int ready = vtas_ready();
    if (ready > 0 || poll_only || (deadline && deadline_passed(*deadline))) {
      if (!kernel.empty()) {
        const int k = libc().poll(kernel.data(), kernel.size(), 0);
        if (k > 0) ready += merge_kernel();
      }
      result = ready;
      break;
    }
    Waiter* w = e.thread_waiter();
    if (w == nullptr) {
      errno = ENOMEM;
      result = -1;
      break;
    }
    for (Socket* s : sockets) {
      if (s != nullptr) s->waiters.push_back(w);
    }
    for (auto& k : kernel) k.revents = 0;
    const int rc = e.sleep(w, kernel.data(), kernel.size(), deadline, sigmask);
    for (Socket* s : sockets) {
      if (s != nullptr) std::erase(s->waiters, w);
    }
    if (rc < 0) {
      for (nfds_t i = 0; i < count; ++i) fds[i].revents = 0;
      result = -1;
      break;
    }
    bool kernel_woke = false;
    for (auto& k : kernel) kernel_woke |= k.revents != 0;
    if (kernel_woke) {
      result = vtas_ready() + merge_kernel();
      break;
    }
  }
  const int saved = errno;
  for (Socket* s : sockets) {
    if (s != nullptr) --s->busy;
  }
  std::sort(sockets.begin(), sockets.end());
  sockets.erase(std::unique(sockets.begin(), sockets.end()), sockets.end());
  for (Socket* s : sockets) {
    if (s != nullptr) destroy_if_unused(e, s);
  }
  errno = saved;
  return result;
}

int ppoll_impl(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* sigmask) {
  Engine& e = Engine::get();
  bool any = false;
  for (nfds_t i = 0; i < count && !any; ++i) any = is_vtas(e, fds[i].fd);
  if (!any) return libc().ppoll(fds, count, timeout, sigmask);
  std::lock_guard<std::mutex> lock(e.mutex());
  const bool poll_only = timeout != nullptr && timeout->tv_sec == 0 && timeout->tv_nsec == 0;
  std::optional<timespec> deadline;
  if (timeout != nullptr && !poll_only) {
    deadline = deadline_after_ns(timeout->tv_sec * 1000000000LL + timeout->tv_nsec);
  }
  return poll_locked(e, fds, count, deadline ? &*deadline : nullptr, poll_only, sigmask);
}

int pselect_impl(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds,
                 const timespec* timeout, const sigset_t* sigmask, bool is_select,
                 timeval* select_timeout) {
  Engine& e = Engine::get();
  if (nfds < 0) {
    errno = EINVAL;
    return -1;
  }
  // Bit tests by hand: programs may pass sets larger than FD_SETSIZE (allocated for nfds).
  constexpr int kBits = 8 * static_cast<int>(sizeof(__fd_mask));
  auto is_set = [](const fd_set* set, int fd) {
    return set != nullptr && (set->fds_bits[fd / kBits] & (__fd_mask{1} << (fd % kBits))) != 0;
  };
  auto set_bit = [](fd_set* set, int fd) {
    set->fds_bits[fd / kBits] |= __fd_mask{1} << (fd % kBits);
  };
  auto clear_all = [nfds](fd_set* set) {
    if (set != nullptr)
      std::memset(set, 0, static_cast<size_t>((nfds + kBits - 1) / kBits) * sizeof(__fd_mask));
  };
  std::vector<pollfd> fds;
  bool any = false;
  for (int fd = 0; fd < nfds; ++fd) {
    short events = 0;
    if (is_set(readfds, fd)) events |= kSelectRead;
    if (is_set(writefds, fd)) events |= kSelectWrite;
    if (is_set(exceptfds, fd)) events |= kSelectExcept;
    if (events == 0) continue;
    fds.push_back(pollfd{fd, events, 0});
    any |= is_vtas(e, fd);
  }
  if (!any) {
    return is_select ? libc().select(nfds, readfds, writefds, exceptfds, select_timeout)
                     : libc().pselect(nfds, readfds, writefds, exceptfds, timeout, sigmask);
  }
  const int rc = ppoll_impl(fds.data(), fds.size(), timeout, sigmask);
  if (rc < 0) return rc;
  int bits = 0;
  for (const pollfd& p : fds) {
    if (p.revents & POLLNVAL) {
      errno = EBADF;
      return -1;
    }
  }
  clear_all(readfds);
  clear_all(writefds);
  clear_all(exceptfds);
  for (const pollfd& p : fds) {
    if (readfds != nullptr && (p.events & POLLIN) && (p.revents & kSelectRead)) {
      set_bit(readfds, p.fd);
      ++bits;
    }
    if (writefds != nullptr && (p.events & POLLOUT) && (p.revents & kSelectWrite)) {
      set_bit(writefds, p.fd);
      ++bits;
    }
    if (exceptfds != nullptr && (p.events & POLLPRI) && (p.revents & kSelectExcept)) {
      set_bit(exceptfds, p.fd);
      ++bits;
    }
  }
  if (is_select && select_timeout != nullptr && rc == 0) *select_timeout = timeval{0, 0};
  return bits;
}

}  // namespace
}  // namespace vtas::sockets

using vtas::sockets::guarded;

extern "C" {

int vtas_poll(struct pollfd* fds, nfds_t count, int timeout_ms) {
  return guarded([&] {
    if (timeout_ms < 0) return vtas::sockets::ppoll_impl(fds, count, nullptr, nullptr);
    const timespec t{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
    return vtas::sockets::ppoll_impl(fds, count, &t, nullptr);
  });
}
int vtas_ppoll(struct pollfd* fds, nfds_t count, const struct timespec* timeout,
               const sigset_t* sigmask) {
  return guarded([&] { return vtas::sockets::ppoll_impl(fds, count, timeout, sigmask); });
}
int vtas_select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds,
                struct timeval* timeout) {
  return guarded([&] {
    timespec t{};
    if (timeout != nullptr) {
      if (timeout->tv_sec < 0 || timeout->tv_usec < 0) {
        errno = EINVAL;
        return -1;
      }
      t = timespec{timeout->tv_sec, timeout->tv_usec * 1000L};
    }
    return vtas::sockets::pselect_impl(nfds, readfds, writefds, exceptfds,
                                       timeout != nullptr ? &t : nullptr, nullptr, true, timeout);
  });
}
int vtas_pselect(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds,
                 const struct timespec* timeout, const sigset_t* sigmask) {
  return guarded([&] {
    return vtas::sockets::pselect_impl(nfds, readfds, writefds, exceptfds, timeout, sigmask, false,
                                       nullptr);
  });
}

}  // extern "C"
