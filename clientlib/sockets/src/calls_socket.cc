// socket, bind, listen, accept, accept4, connect, shutdown, getsockname, getpeername: where a
// TCP socket is decided to be vtas's or the kernel's, and the connection life cycle calls.
//
// A TCP/IPv4 socket starts as a real kernel socket (its descriptor is the one the program
// sees, forever) registered as "undecided": options set on it are stored by the kernel, so
// whichever way it goes they hold. bind() to INADDR_ANY binds the kernel socket too (the
// kernel picks ephemeral ports and reports conflicts); bind() to another local address hands
// it to the kernel. listen() makes it a vtas listener; connect() a vtas connection if the
// destination is on vtas's network, else it is handed to the kernel unchanged.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "clientlib/sockets/src/calls.h"
#include "clientlib/sockets/src/config.h"
#include "clientlib/sockets/src/socket_ops.h"
#include "vtas/sockets.h"

namespace vtas::sockets {
namespace {

bool is_inet(const sockaddr* addr, socklen_t len) {
  return addr != nullptr && len >= static_cast<socklen_t>(sizeof(sockaddr_in)) &&
         addr->sa_family == AF_INET;
}

// Binds the kernel socket to INADDR_ANY:port (port 0: the kernel picks one) and returns the
// port (network order), or -1 with errno.
int kernel_bind_any(int fd, uint16_t port) {
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = port;
  if (libc().bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0) return -1;
  socklen_t len = sizeof(any);
  if (libc().getsockname(fd, reinterpret_cast<sockaddr*>(&any), &len) != 0) return -1;
  return any.sin_port;
}

int socket_impl(int domain, int type, int protocol) {
  const int fd = libc().socket(domain, type, protocol);
  if (fd < 0) return fd;
  const int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (domain != AF_INET || base != SOCK_STREAM || (protocol != 0 && protocol != IPPROTO_TCP)) {
    return fd;
  }
  Engine& e = Engine::get();
  std::lock_guard<std::mutex> lock(e.mutex());
  if (!e.available()) return fd;
  auto* s = new Socket();
  s->nonblocking = (type & SOCK_NONBLOCK) != 0;
  if (!install_fd(e, fd, s)) {
    delete s;
    return fd;
  }
  return fd;
}

int bind_impl(int fd, const sockaddr* addr, socklen_t len) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, true);
  if (s == nullptr) return libc().bind(fd, addr, len);
  if (s->kind != SocketKind::kUndecided || s->bound) {
    errno = EINVAL;
    return -1;
  }
  if (!is_inet(addr, len)) {
    lock.unlock();
    return libc().bind(fd, addr, len);  // the kernel reports the error
  }
  Engine& e = Engine::get();
  const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
  const uint32_t ip = in->sin_addr.s_addr;
  if (ip == INADDR_ANY || ip == e.local_ip()) {
    int port = in->sin_port;
    if (ip == INADDR_ANY || port == 0) {
      port = kernel_bind_any(fd, in->sin_port);
      if (port < 0) return -1;
    }
    s->bound = true;
    s->bound_ip = ip;
    s->bound_port = static_cast<uint16_t>(port);
    debug("fd %d: bound to %s:%u (vtas listens there)", fd, ip == 0 ? "*" : "vtas",
          ntohs(s->bound_port));
    return 0;
  }
  debug("fd %d: bind to a kernel address: the kernel serves this socket", fd);
  hand_to_kernel(e, s);
  lock.unlock();
  return libc().bind(fd, addr, len);
}

int listen_impl(int fd, int backlog) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, true);
  if (s == nullptr) return libc().listen(fd, backlog);
  Engine& e = Engine::get();
  backlog = std::clamp(backlog, 1, 4096);
  if (s->kind == SocketKind::kListener) {
    s->backlog = backlog;
    return ensure_listening(e, s);
  }
  if (s->kind == SocketKind::kConnection) {
    errno = EINVAL;
    return -1;
  }
  if (!s->bound) {
    const int port = kernel_bind_any(fd, 0);
    if (port < 0) return -1;
    s->bound = true;
    s->bound_port = static_cast<uint16_t>(port);
  }
  // The kernel socket listens too: the kernel then reports listen conflicts exactly as Linux
  // (SO_REUSEADDR / SO_REUSEPORT rules), and clients on other interfaces or loopback, which
  // vtas does not see, are accepted from it.
  if (config().kernel_listen && !s->kernel_listening) {
    if (libc().listen(fd, backlog) != 0) return -1;
    s->kernel_listening = true;
  }
  s->kind = SocketKind::kListener;
  s->backlog = backlog;
  if (request_listen(e, s, s->reuse_port) != 0 || wait_listen_answer(e, s) != 0) {
    const int err = errno;
    s->kind = SocketKind::kUndecided;
    s->listen_state = ListenState::kNone;
    debug("fd %d: listen on port %u failed: %s", fd, ntohs(s->bound_port), strerror(err));
    errno = err;
    return -1;
  }
  post_accepts(e, s);
  debug("fd %d: listening on vtas port %u", fd, ntohs(s->bound_port));
  return 0;
}

// Accepts a connection the kernel side of a listener took (a loopback client): a plain kernel
// socket. The lock is released meanwhile: accept4 may block if another process sharing the
// listener took the connection first.
int kernel_accept(Engine& e, Socket* s, int fd, sockaddr* addr, socklen_t* len, int flags) {
  ++s->busy;
  e.mutex().unlock();
  const int a = libc().accept4(fd, addr, len, flags);
  const int err = errno;
  e.mutex().lock();
  --s->busy;
  destroy_if_unused(e, s);
  errno = err;
  return a;
}

int accept_impl(int fd, sockaddr* addr, socklen_t* len, int flags) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, false);
  if (s == nullptr) return libc().accept4(fd, addr, len, flags);
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
    errno = EINVAL;
    return -1;
  }
  if (s->kind != SocketKind::kListener || s->listen_state == ListenState::kNone) {
    errno = EINVAL;
    return -1;
  }
  Engine& e = Engine::get();
  if (ensure_listening(e, s) != 0) return -1;
  std::optional<timespec> deadline;
  if (s->rcv_timeout_ns > 0) deadline = deadline_after_ns(s->rcv_timeout_ns);
  for (;;) {
    e.pump();
    if (!s->accept_queue.empty()) break;
    if (s->kind != SocketKind::kListener || s->listen_state != ListenState::kOpen) {
      errno = EINVAL;  // closed or shut down meanwhile
      return -1;
    }
    if (s->kernel_listening) {
      pollfd p{fd, POLLIN, 0};
      if (libc().poll(&p, 1, 0) == 1) return kernel_accept(e, s, fd, addr, len, flags);
    }
    if (s->nonblocking || (deadline && deadline_passed(*deadline))) {
      errno = EAGAIN;
      return -1;
    }
    Waiter* w = e.thread_waiter();
    if (w == nullptr) {
      errno = ENOMEM;
      return -1;
    }
    pollfd kernel{fd, POLLIN, 0};
    ++s->busy;
    s->waiters.push_back(w);
    const int rc =
        e.sleep(w, &kernel, s->kernel_listening ? 1 : 0, deadline ? &*deadline : nullptr, nullptr);
    std::erase(s->waiters, w);
    --s->busy;
    if (s->orphan) {
      destroy_if_unused(e, s);
      errno = EBADF;
      return -1;
    }
    if (rc < 0 && (deadline || !signals_restart())) return -1;
  }
  Socket* conn = s->accept_queue.front();
  const int new_fd =
      libc().socket(AF_INET, SOCK_STREAM | (flags & (SOCK_CLOEXEC | SOCK_NONBLOCK)), 0);
  if (new_fd < 0) return -1;  // EMFILE etc.: the connection stays queued
  s->accept_queue.pop_front();
  conn->listener = nullptr;
  conn->nonblocking = (flags & SOCK_NONBLOCK) != 0;
  conn->bound = true;
  conn->bound_ip = htonl(conn->conn.c.local_ip);
  conn->bound_port = htons(conn->conn.c.local_port);
  if (!install_fd(e, new_fd, conn)) {
    libc().close(new_fd);
    s->accept_queue.push_front(conn);
    errno = EMFILE;
    return -1;
  }
  post_accepts(e, s);
  fill_sockaddr(addr, len, htonl(conn->conn.c.remote_ip), htons(conn->conn.c.remote_port));
  return new_fd;
}

int connect_impl(int fd, const sockaddr* addr, socklen_t len) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, true);
  if (s == nullptr) return libc().connect(fd, addr, len);
  Engine& e = Engine::get();
  if (s->kind == SocketKind::kUndecided) {
    if (!is_inet(addr, len)) {
      lock.unlock();
      return libc().connect(fd, addr, len);
    }
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    const bool bound_elsewhere = s->bound && s->bound_ip != 0 && s->bound_ip != e.local_ip();
    if (!e.routes_via_vtas(in->sin_addr.s_addr) || bound_elsewhere) {
      debug("fd %d: connect to a kernel destination: the kernel serves this socket", fd);
      hand_to_kernel(e, s);
      lock.unlock();
      return libc().connect(fd, addr, len);
    }
    s->kind = SocketKind::kConnection;
  } else if (s->kind == SocketKind::kListener) {
    errno = EISCONN;
    return -1;
  }
  if (s->connect_unreported && s->state != ConnState::kConnecting) {
    // Linux answers the connect() after a non-blocking one with its outcome, once.
    s->connect_unreported = false;
    if (s->state == ConnState::kEstablished) return 0;
    if (s->state == ConnState::kFailed && s->error != 0) {
      errno = s->error;
      s->error = 0;
      return -1;
    }
  }
  switch (s->state) {
    case ConnState::kConnecting:
      errno = EALREADY;
      return -1;
    case ConnState::kEstablished:
    case ConnState::kClosed:
      errno = EISCONN;
      return -1;
    default:
      break;
  }
  if (!is_inet(addr, len)) {
    errno = addr != nullptr && addr->sa_family != AF_INET ? EAFNOSUPPORT : EINVAL;
    return -1;
  }
  const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
  s->error = 0;
  s->forgotten = false;
  s->abort_requested = false;
  if (flextcp_connection_open(e.context(), &s->conn.c, ntohl(in->sin_addr.s_addr),
                              ntohs(in->sin_port)) != 0) {
    const int err = errno == EAGAIN ? ENOBUFS : errno;
    debug("fd %d: connect failed: %s", fd, vtas_last_error());
    errno = err;
    return -1;
  }
  s->state = ConnState::kConnecting;
  debug("fd %d: connecting through vtas", fd);
  if (s->nonblocking) {
    s->connect_unreported = true;
    errno = EINPROGRESS;
    return -1;
  }
  if (wait_until(e, s, s->snd_timeout_ns, [&] { return s->state != ConnState::kConnecting; }) !=
      0) {
    if (errno == EAGAIN) errno = EINPROGRESS;  // SO_SNDTIMEO expired, as Linux reports it
    return -1;
  }
  if (s->state == ConnState::kEstablished) return 0;
  errno = s->error != 0 ? s->error : ECONNREFUSED;
  s->error = 0;
  return -1;
}

int shutdown_impl(int fd, int how) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, false);
  if (s == nullptr) return libc().shutdown(fd, how);
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
    errno = EINVAL;
    return -1;
  }
  Engine& e = Engine::get();
  if (s->kind == SocketKind::kListener) {
    if (how != SHUT_WR) {
      close_listener(e, s);
      e.notify(s);
    }
    return 0;
  }
  if (s->state == ConnState::kConnecting) {
    abort_connection(e, s);
    return 0;
  }
  if (s->state != ConnState::kEstablished || s->inherited) {
    errno = ENOTCONN;
    return -1;
  }
  if (how != SHUT_WR) s->rd_shut = true;
  if (how != SHUT_RD && !s->wr_shut) {
    s->wr_shut = true;
    flush_socket(e, s);
  }
  e.notify(s);
  return 0;
}

int getsockname_impl(int fd, sockaddr* addr, socklen_t* len) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, true);
  if (s == nullptr) return libc().getsockname(fd, addr, len);
  if (addr == nullptr || len == nullptr) {
    errno = EFAULT;
    return -1;
  }
  if (s->kind == SocketKind::kConnection && s->state != ConnState::kIdle &&
      s->conn.c.local_port != 0) {
    fill_sockaddr(addr, len, htonl(s->conn.c.local_ip), htons(s->conn.c.local_port));
    return 0;
  }
  if (s->kind == SocketKind::kConnection && s->state == ConnState::kConnecting) {
    fill_sockaddr(addr, len, Engine::get().local_ip(), 0);  // the service picks the port
    return 0;
  }
  if (s->bound) {
    fill_sockaddr(addr, len, s->bound_ip, s->bound_port);
    return 0;
  }
  lock.unlock();
  return libc().getsockname(fd, addr, len);
}

int getpeername_impl(int fd, sockaddr* addr, socklen_t* len) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, false);
  if (s == nullptr) return libc().getpeername(fd, addr, len);
  if (s->kind != SocketKind::kConnection ||
      (s->state != ConnState::kEstablished && s->state != ConnState::kClosed)) {
    errno = ENOTCONN;
    return -1;
  }
  if (addr == nullptr || len == nullptr) {
    errno = EFAULT;
    return -1;
  }
  fill_sockaddr(addr, len, htonl(s->conn.c.remote_ip), htons(s->conn.c.remote_port));
  return 0;
}

}  // namespace
}  // namespace vtas::sockets

using vtas::sockets::guarded;

extern "C" {

int vtas_socket(int domain, int type, int protocol) {
  return guarded([&] { return vtas::sockets::socket_impl(domain, type, protocol); });
}
int vtas_bind(int fd, const struct sockaddr* addr, socklen_t len) {
  return guarded([&] { return vtas::sockets::bind_impl(fd, addr, len); });
}
int vtas_listen(int fd, int backlog) {
  return guarded([&] { return vtas::sockets::listen_impl(fd, backlog); });
}
int vtas_accept(int fd, struct sockaddr* addr, socklen_t* len) {
  return guarded([&] { return vtas::sockets::accept_impl(fd, addr, len, 0); });
}
int vtas_accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  return guarded([&] { return vtas::sockets::accept_impl(fd, addr, len, flags); });
}
int vtas_connect(int fd, const struct sockaddr* addr, socklen_t len) {
  return guarded([&] { return vtas::sockets::connect_impl(fd, addr, len); });
}
int vtas_shutdown(int fd, int how) {
  return guarded([&] { return vtas::sockets::shutdown_impl(fd, how); });
}
int vtas_getsockname(int fd, struct sockaddr* addr, socklen_t* len) {
  return guarded([&] { return vtas::sockets::getsockname_impl(fd, addr, len); });
}
int vtas_getpeername(int fd, struct sockaddr* addr, socklen_t* len) {
  return guarded([&] { return vtas::sockets::getpeername_impl(fd, addr, len); });
}
int vtas_sockets_is_vtas(int fd) {
  std::unique_lock<std::mutex> lock;
  return vtas::sockets::lock_socket(fd, lock, false) != nullptr ? 1 : 0;
}

}  // extern "C"
