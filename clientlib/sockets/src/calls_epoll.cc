// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2.
//
// The descriptor of an epoll instance is a real kernel epoll instance: kernel descriptors
// are registered there unchanged. Vtas sockets are registered in the EpollSet instead, with
// Linux's semantics (level- and edge-triggered, EPOLLONESHOT, one registration per
// descriptor number and file, removal when the file's last descriptor closes). A listener
// that also listens in the kernel is registered in both. epoll_wait takes ready vtas sockets
// first, then the kernel's, and sleeps on the kernel instance, the context and its Waiter.
#include <algorithm>
#include <cstring>
#include <optional>

#include "clientlib/sockets/src/calls.h"
#include "clientlib/sockets/src/config.h"
#include "clientlib/sockets/src/epoll_ops.h"
#include "clientlib/sockets/src/socket_ops.h"
#include "vtas/sockets.h"

namespace vtas::sockets {
namespace {

constexpr uint32_t kAlwaysReported = EPOLLERR | EPOLLHUP;

EpollItem* find_item(EpollSet* set, const Socket* s, int fd) {
  for (EpollItem* item : set->items) {
    if (item->socket == s && item->fd == fd) return item;
  }
  return nullptr;
}

void remove_item(EpollItem* item) {
  std::erase(item->set->items, item);
  std::erase(item->set->ready, item);
  std::erase(item->socket->watchers, item);
  delete item;
}

void queue_if_ready(Engine& e, EpollItem* item) {
  if (item->ready || item->disabled || item_events(item) == 0) return;
  item->ready = true;
  item->set->ready.push_back(item);
  e.notify_set(item->set);
}

int create_impl(int fd) {
  if (fd < 0) return fd;
  Engine& e = Engine::get();
  std::lock_guard<std::mutex> lock(e.mutex());
  auto* set = new EpollSet();
  set->kernel_fd = fd;
  if (!install_fd(e, fd, set)) delete set;  // beyond the table: stays a kernel-only instance
  return fd;
}

int ctl_impl(int epfd, int op, int fd, epoll_event* event) {
  std::unique_lock<std::mutex> lock;
  EpollSet* set = lock_epoll(epfd, lock);
  if (set == nullptr) return libc().epoll_ctl(epfd, op, fd, event);
  Engine& e = Engine::get();
  FdObject* o = e.fds().get(fd);
  if (o == nullptr || o->type != ObjectType::kSocket) {
    const int rc = libc().epoll_ctl(epfd, op, fd, event);
    if (rc == 0 && op == EPOLL_CTL_ADD) ++set->kernel_items;
    if (rc == 0 && op == EPOLL_CTL_DEL) --set->kernel_items;
    return rc;
  }
  auto* s = static_cast<Socket*>(o);
  if (fd == epfd) {
    errno = EINVAL;
    return -1;
  }
  if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && event == nullptr) {
    errno = EFAULT;
    return -1;
  }
  EpollItem* item = find_item(set, s, fd);
  switch (op) {
    case EPOLL_CTL_ADD:
      if (item != nullptr) {
        errno = EEXIST;
        return -1;
      }
      item = new EpollItem();
      item->set = set;
      item->socket = s;
      item->fd = fd;
      item->events = event->events;
      item->data = event->data;
      set->items.push_back(item);
      s->watchers.push_back(item);
      if (s->kind == SocketKind::kListener &&
          (ensure_listening(e, s) != 0 || s->listen_state != ListenState::kOpen)) {
        ++set->closed_listeners;
      }
      break;
    case EPOLL_CTL_MOD:
      if (item == nullptr) {
        errno = ENOENT;
        return -1;
      }
      if (event->events & EPOLLEXCLUSIVE) {
        errno = EINVAL;
        return -1;
      }
      item->events = event->events;
      item->data = event->data;
      item->disabled = false;
      break;
    case EPOLL_CTL_DEL:
      if (item == nullptr) {
        errno = ENOENT;
        return -1;
      }
      remove_item(item);
      item = nullptr;
      break;
    default:
      errno = EINVAL;
      return -1;
  }
  if (s->kernel_listening) {  // its kernel side: loopback clients of a vtas listener
    const int rc = libc().epoll_ctl(epfd, op, fd, event);
    if (rc == 0 && op == EPOLL_CTL_ADD) ++set->kernel_items;
    if (rc == 0 && op == EPOLL_CTL_DEL) --set->kernel_items;
  }
  if (item != nullptr) {
    e.pump();
    queue_if_ready(e, item);
  }
  return 0;
}

// Moves ready vtas registrations into `events`; returns how many.
int collect(EpollSet* set, epoll_event* events, int max) {
  int n = 0;
  size_t todo = set->ready.size();
  while (todo-- > 0 && n < max) {
    EpollItem* item = set->ready.front();
    set->ready.pop_front();
    const uint32_t bits = item->disabled ? 0 : item_events(item);
    if (bits == 0) {
      item->ready = false;
      continue;
    }
    events[n].events = bits;
    events[n].data = item->data;
    ++n;
    if (item->events & EPOLLONESHOT) {
      item->disabled = true;
      item->ready = false;
    } else if (item->events & EPOLLET) {
      item->ready = false;
    } else {
      set->ready.push_back(item);  // level-triggered: reported again while it holds
    }
  }
  return n;
}

int wait_impl(int epfd, epoll_event* events, int max, const timespec* timeout,
              const sigset_t* sigmask) {
  std::unique_lock<std::mutex> lock;
  EpollSet* set = lock_epoll(epfd, lock);
  auto kernel_wait = [&] {
    if (sigmask == nullptr && (timeout == nullptr || timeout->tv_nsec % 1000000 == 0)) {
      const int ms = timeout == nullptr
                         ? -1
                         : static_cast<int>(timeout->tv_sec * 1000 + timeout->tv_nsec / 1000000);
      return libc().epoll_wait(epfd, events, max, ms);
    }
    if (libc().epoll_pwait2 != nullptr) {
      return libc().epoll_pwait2(epfd, events, max, timeout, sigmask);
    }
    const int ms =
        timeout == nullptr
            ? -1
            : static_cast<int>(timeout->tv_sec * 1000 + (timeout->tv_nsec + 999999) / 1000000);
    return libc().epoll_pwait(epfd, events, max, ms, sigmask);
  };
  if (set == nullptr) return kernel_wait();
  if (max <= 0 || events == nullptr) {
    errno = EINVAL;
    return -1;
  }
  if (set->items.empty()) {
    lock.unlock();
    return kernel_wait();
  }
  Engine& e = Engine::get();
  std::optional<timespec> deadline;
  const bool poll_only = timeout != nullptr && timeout->tv_sec == 0 && timeout->tv_nsec == 0;
  if (timeout != nullptr && !poll_only) {
    deadline = deadline_after_ns(timeout->tv_sec * 1000000000LL + timeout->tv_nsec);
  }
  ++set->busy;
  if (set->closed_listeners > 0) {  // listeners left suspended by fork() serve again
    set->closed_listeners = 0;
    for (EpollItem* item : set->items) {
      Socket* s = item->socket;
      if (s->kind != SocketKind::kListener || s->listen_state == ListenState::kOpen) continue;
      if (ensure_listening(e, s) != 0 || s->listen_state != ListenState::kOpen) {
        ++set->closed_listeners;
      }
    }
  }
  int result = 0;
  for (;;) {
    e.pump();
    int n = collect(set, events, max);
    if (n < max && set->kernel_items > 0) {
      const int k = libc().epoll_wait(set->kernel_fd, events + n, max - n, 0);
      if (k > 0) n += k;
    }
    if (n > 0 || poll_only || (deadline && deadline_passed(*deadline)) || set->orphan) {
      result = n;
      break;
    }
    Waiter* w = e.thread_waiter();
    if (w == nullptr) {
      errno = ENOMEM;
      result = -1;
      break;
    }
    set->waiters.push_back(w);
    pollfd kernel{set->kernel_fd, POLLIN, 0};
    const int rc = e.sleep(w, set->kernel_items > 0 ? &kernel : nullptr,
                           set->kernel_items > 0 ? 1 : 0, deadline ? &*deadline : nullptr, sigmask);
    std::erase(set->waiters, w);
    if (rc < 0) {
      result = -1;
      break;
    }
  }
  --set->busy;
  if (set->orphan && set->busy == 0) {
    const int saved = errno;
    delete set;
    errno = saved;
  }
  return result;
}

timespec from_ms(int ms) {
  return timespec{ms / 1000, (ms % 1000) * 1000000L};
}

}  // namespace

uint32_t item_events(const EpollItem* item) {
  const uint32_t now = poll_events(item->socket);
  if ((item->events & EPOLLOUT) && !(now & POLLOUT)) item->socket->nospace = true;
  return now & (item->events | kAlwaysReported);
}

void release_epoll(Engine& e, EpollSet* set) {
  (void)e;
  while (!set->items.empty()) remove_item(set->items.back());
  set->orphan = true;
  if (set->busy == 0) delete set;
}

void move_watchers_to_kernel(Engine& e, Socket* s, int any_fd) {
  (void)e;
  (void)any_fd;
  while (!s->watchers.empty()) {
    EpollItem* item = s->watchers.back();
    if (!item->disabled) {
      epoll_event ev{};
      ev.events = item->events;
      ev.data = item->data;
      if (libc().epoll_ctl(item->set->kernel_fd, EPOLL_CTL_ADD, item->fd, &ev) == 0) {
        ++item->set->kernel_items;
      }
    }
    remove_item(item);
  }
}

}  // namespace vtas::sockets

using vtas::sockets::guarded;
using vtas::sockets::libc;

extern "C" {

int vtas_epoll_create(int size) {
  return guarded([&] { return vtas::sockets::create_impl(libc().epoll_create(size)); });
}
int vtas_epoll_create1(int flags) {
  return guarded([&] { return vtas::sockets::create_impl(libc().epoll_create1(flags)); });
}
int vtas_epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  return guarded([&] { return vtas::sockets::ctl_impl(epfd, op, fd, event); });
}
int vtas_epoll_wait(int epfd, struct epoll_event* events, int max, int timeout_ms) {
  return guarded([&] {
    const timespec t = vtas::sockets::from_ms(timeout_ms);
    return vtas::sockets::wait_impl(epfd, events, max, timeout_ms < 0 ? nullptr : &t, nullptr);
  });
}
int vtas_epoll_pwait(int epfd, struct epoll_event* events, int max, int timeout_ms,
                     const sigset_t* sigmask) {
  return guarded([&] {
    const timespec t = vtas::sockets::from_ms(timeout_ms);
    return vtas::sockets::wait_impl(epfd, events, max, timeout_ms < 0 ? nullptr : &t, sigmask);
  });
}
int vtas_epoll_pwait2(int epfd, struct epoll_event* events, int max, const struct timespec* timeout,
                      const sigset_t* sigmask) {
  return guarded([&] { return vtas::sockets::wait_impl(epfd, events, max, timeout, sigmask); });
}

}  // extern "C"
