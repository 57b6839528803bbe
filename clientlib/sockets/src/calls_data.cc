// The data calls: read, write, readv, writev, recv, send, recvfrom, sendto, recvmsg, sendmsg,
// sendfile. All reduce to receive() and transmit() over an iovec, which follow Linux's
// tcp_recvmsg / tcp_sendmsg in what they report when (data before errors before end of
// stream; pending errors once; EPIPE with SIGPIPE unless MSG_NOSIGNAL).
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "clientlib/sockets/src/calls.h"
#include "clientlib/sockets/src/config.h"
#include "clientlib/sockets/src/socket_ops.h"
#include "vtas/sockets.h"

namespace vtas::sockets {
namespace {

size_t iov_total(const iovec* iov, int count) {
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  return total;
}

// `iov` without its first `skip` bytes.
std::vector<iovec> iov_after(const iovec* iov, int count, size_t skip) {
  std::vector<iovec> rest;
  for (int i = 0; i < count; ++i) {
    if (skip >= iov[i].iov_len) {
      skip -= iov[i].iov_len;
      continue;
    }
    rest.push_back(iovec{static_cast<char*>(iov[i].iov_base) + skip, iov[i].iov_len - skip});
    skip = 0;
  }
  return rest;
}

bool receive_ended(const Socket* s) {
  return s->peer_fin || s->rd_shut || s->reset || s->state == ConnState::kClosed ||
         s->state == ConnState::kFailed;
}

ssize_t receive(Socket* s, const iovec* iov, int count, int flags) {
  Engine& e = Engine::get();
  if (flags & MSG_OOB) {
    errno = EINVAL;  // no urgent data in vtas (Linux says EINVAL when there is none)
    return -1;
  }
  if (flags & MSG_ERRQUEUE) {
    errno = EAGAIN;
    return -1;
  }
  if (s->kind == SocketKind::kListener || s->state == ConnState::kIdle) {
    errno = ENOTCONN;
    return -1;
  }
  if (s->inherited) {
    debug("read on a connection inherited through fork(): it belongs to the parent process");
    errno = ENOTCONN;
    return -1;
  }
  const bool peek = (flags & MSG_PEEK) != 0;
  const bool nonblocking = s->nonblocking || (flags & MSG_DONTWAIT);
  const size_t total = iov_total(iov, count);
  if (total == 0) return 0;
  size_t copied = 0;
  e.pump();
  for (;;) {
    if (s->rx_avail > 0) {
      if (copied == 0) {
        copied = copy_received(e, s, iov, count, peek, total);
      } else {
        auto rest = iov_after(iov, count, copied);
        copied +=
            copy_received(e, s, rest.data(), static_cast<int>(rest.size()), peek, total - copied);
      }
      if (!(flags & MSG_WAITALL) || peek || copied == total) return static_cast<ssize_t>(copied);
    }
    if (copied > 0 && (nonblocking || receive_ended(s))) return static_cast<ssize_t>(copied);
    if (s->error != 0) {
      if (copied > 0) return static_cast<ssize_t>(copied);
      errno = s->error;
      s->error = 0;
      return -1;
    }
    if (receive_ended(s)) {
      if (s->state == ConnState::kFailed && copied == 0) {
        errno = ENOTCONN;
        return -1;
      }
      return static_cast<ssize_t>(copied);
    }
    if (nonblocking) {
      errno = EAGAIN;
      return -1;
    }
    if (wait_until(e, s, s->rcv_timeout_ns,
                   [&] { return s->rx_avail > 0 || s->error != 0 || receive_ended(s); }) != 0) {
      return copied > 0 ? static_cast<ssize_t>(copied) : -1;
    }
  }
}

bool send_blocked(const Socket* s) {
  return tx_space(s) == 0 && s->error == 0 && !s->reset && !s->wr_shut &&
         s->state == ConnState::kEstablished;
}

ssize_t transmit(Socket* s, const iovec* iov, int count, int flags) {
  Engine& e = Engine::get();
  if (flags & MSG_OOB) {
    errno = EOPNOTSUPP;
    return -1;
  }
  const bool nonblocking = s->nonblocking || (flags & MSG_DONTWAIT);
  const size_t total = iov_total(iov, count);
  size_t sent = 0;
  for (;;) {
    if (s->error != 0) {
      if (sent > 0) return static_cast<ssize_t>(sent);
      errno = s->error;
      s->error = 0;
      return -1;
    }
    if (s->kind == SocketKind::kConnection && s->state == ConnState::kConnecting) {
      if (nonblocking) {
        errno = EAGAIN;
        return -1;
      }
      if (wait_until(e, s, s->snd_timeout_ns, [&] { return s->state != ConnState::kConnecting; }) !=
          0) {
        return -1;
      }
      continue;
    }
    if (s->kind != SocketKind::kConnection || s->state != ConnState::kEstablished || s->reset ||
        s->wr_shut || s->inherited) {
      if (sent > 0) return static_cast<ssize_t>(sent);
      if (s->inherited) debug("write on a connection inherited through fork(): it is the parent's");
      debug("send: EPIPE (kind %d, state %d, reset %d, shut for writing %d)",
            static_cast<int>(s->kind), static_cast<int>(s->state), s->reset, s->wr_shut);
      errno = EPIPE;
      raise_sigpipe(flags);
      return -1;
    }
    if (total == 0) return 0;
    if (tx_space(s) == 0) e.pump();
    sent += copy_to_send(e, s, iov, count, sent);
    if (sent == total) return static_cast<ssize_t>(sent);
    if (!send_blocked(s)) continue;
    s->nospace = true;
    if (nonblocking) {
      if (sent > 0) return static_cast<ssize_t>(sent);
      errno = EAGAIN;
      return -1;
    }
    if (wait_until(e, s, s->snd_timeout_ns, [&] { return !send_blocked(s); }) != 0) {
      return sent > 0 ? static_cast<ssize_t>(sent) : -1;
    }
  }
}

// The calls' shared shape: kernel descriptors go straight to libc.
template <class Kernel>
ssize_t receive_call(int fd, const iovec* iov, int count, int flags, Kernel kernel) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, false);
  if (s == nullptr) return kernel();
  return receive(s, iov, count, flags);
}

template <class Kernel>
ssize_t transmit_call(int fd, const iovec* iov, int count, int flags, Kernel kernel) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, false);
  if (s == nullptr) return kernel();
  const ssize_t n = transmit(s, iov, count, flags);
  lock.unlock();
  deliver_sigpipe();
  return n;
}

ssize_t sendfile_impl(int out_fd, int in_fd, off_t* offset, size_t count) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(out_fd, lock, false);
  if (s == nullptr) return libc().sendfile(out_fd, in_fd, offset, count);
  // The file is read into a bounce buffer first: the transmit buffer cannot give back space
  // that a short read would leave allocated.
  constexpr size_t kChunk = 256 * 1024;
  thread_local std::vector<uint8_t> bounce;
  if (bounce.size() < kChunk) bounce.resize(kChunk);
  size_t done = 0;
  off_t position = offset != nullptr ? *offset : 0;
  while (done < count) {
    size_t want = std::min(count - done, kChunk);
    if (s->kind == SocketKind::kConnection && s->state == ConnState::kEstablished) {
      Engine::get().pump();
      const size_t space = tx_space(s);
      if (space > 0 || done > 0) want = std::min<size_t>(want, std::max<size_t>(space, 1));
      if (space == 0 && done > 0) break;
    }
    const ssize_t got = offset != nullptr ? ::pread(in_fd, bounce.data(), want, position)
                                          : libc().read(in_fd, bounce.data(), want);
    if (got < 0) {
      if (done > 0) break;
      return -1;
    }
    if (got == 0) break;
    iovec iov{bounce.data(), static_cast<size_t>(got)};
    const ssize_t sent = transmit(s, &iov, 1, MSG_NOSIGNAL);
    if (sent < 0) {
      if (done > 0) break;
      if (errno == EPIPE) raise_sigpipe(0);
      if (offset == nullptr) (void)::lseek(in_fd, -got, SEEK_CUR);
      return -1;
    }
    if (sent < got && offset == nullptr) (void)::lseek(in_fd, sent - got, SEEK_CUR);
    position += sent;
    done += static_cast<size_t>(sent);
    if (sent < got) break;
  }
  if (offset != nullptr) *offset = position;
  return static_cast<ssize_t>(done);
}

}  // namespace
}  // namespace vtas::sockets

using vtas::sockets::guarded;
using vtas::sockets::libc;
using vtas::sockets::receive_call;
using vtas::sockets::transmit_call;

extern "C" {

ssize_t vtas_read(int fd, void* buf, size_t len) {
  return guarded([&]() -> ssize_t {
    iovec iov{buf, len};
    return receive_call(fd, &iov, 1, 0, [&] { return libc().read(fd, buf, len); });
  });
}
ssize_t vtas_write(int fd, const void* buf, size_t len) {
  return guarded([&]() -> ssize_t {
    iovec iov{const_cast<void*>(buf), len};
    return transmit_call(fd, &iov, 1, 0, [&] { return libc().write(fd, buf, len); });
  });
}
ssize_t vtas_readv(int fd, const struct iovec* iov, int count) {
  return guarded([&]() -> ssize_t {
    if (count < 0) {
      errno = EINVAL;
      return -1;
    }
    return receive_call(fd, iov, count, 0, [&] { return libc().readv(fd, iov, count); });
  });
}
ssize_t vtas_writev(int fd, const struct iovec* iov, int count) {
  return guarded([&]() -> ssize_t {
    if (count < 0) {
      errno = EINVAL;
      return -1;
    }
    return transmit_call(fd, iov, count, 0, [&] { return libc().writev(fd, iov, count); });
  });
}
ssize_t vtas_recv(int fd, void* buf, size_t len, int flags) {
  return guarded([&]() -> ssize_t {
    iovec iov{buf, len};
    return receive_call(fd, &iov, 1, flags, [&] { return libc().recv(fd, buf, len, flags); });
  });
}
ssize_t vtas_send(int fd, const void* buf, size_t len, int flags) {
  return guarded([&]() -> ssize_t {
    iovec iov{const_cast<void*>(buf), len};
    return transmit_call(fd, &iov, 1, flags, [&] { return libc().send(fd, buf, len, flags); });
  });
}
ssize_t vtas_recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* addr,
                      socklen_t* addr_len) {
  return guarded([&]() -> ssize_t {
    iovec iov{buf, len};
    return receive_call(fd, &iov, 1, flags,
                        [&] { return libc().recvfrom(fd, buf, len, flags, addr, addr_len); });
  });
}
ssize_t vtas_sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* addr,
                    socklen_t addr_len) {
  return guarded([&]() -> ssize_t {
    iovec iov{const_cast<void*>(buf), len};
    // A connected TCP socket ignores the address, as on Linux.
    return transmit_call(fd, &iov, 1, flags,
                         [&] { return libc().sendto(fd, buf, len, flags, addr, addr_len); });
  });
}
ssize_t vtas_recvmsg(int fd, struct msghdr* msg, int flags) {
  return guarded([&]() -> ssize_t {
    return receive_call(fd, msg->msg_iov, static_cast<int>(msg->msg_iovlen), flags,
                        [&] { return libc().recvmsg(fd, msg, flags); });
  });
}
ssize_t vtas_sendmsg(int fd, const struct msghdr* msg, int flags) {
  return guarded([&]() -> ssize_t {
    return transmit_call(fd, msg->msg_iov, static_cast<int>(msg->msg_iovlen), flags,
                         [&] { return libc().sendmsg(fd, msg, flags); });
  });
}
ssize_t vtas_sendfile(int out_fd, int in_fd, off_t* offset, size_t count) {
  return guarded([&] {
    const ssize_t n = vtas::sockets::sendfile_impl(out_fd, in_fd, offset, count);
    vtas::sockets::deliver_sigpipe();
    return n;
  });
}

}  // extern "C"
