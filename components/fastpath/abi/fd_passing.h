// Sending and receiving one fixed-size message with file descriptors (SCM_RIGHTS) over a
// SOCK_SEQPACKET unix socket: the attach protocol's transport. Header-only and dependency-free
// because the client library (loaded into arbitrary programs) uses it too.
#pragma once

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

namespace vtas::abi {

inline constexpr size_t kMaxPassedFds = 32;

// Sends `len` bytes and `nfds` descriptors in one message. Returns 0 or -errno.
inline int send_with_fds(int socket, const void* data, size_t len, const int* fds, size_t nfds) {
  if (nfds > kMaxPassedFds) return -EINVAL;
  iovec iov{const_cast<void*>(data), len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do {
    n = sendmsg(socket, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  return static_cast<size_t>(n) == len ? 0 : -EMSGSIZE;
}

// Receives one message of exactly `len` bytes and up to `max_fds` descriptors (closed on
// error; extra descriptors beyond max_fds are closed). Returns the number of fds received,
// 0 fds being fine, or -errno; -ECONNRESET on an orderly shutdown by the peer.
inline int receive_with_fds(int socket, void* data, size_t len, int* fds, size_t max_fds) {
  iovec iov{data, len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  if (n == 0) return -ECONNRESET;
  size_t got = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int* passed = reinterpret_cast<int*>(CMSG_DATA(c));
    for (size_t i = 0; i < count; ++i) {
      if (got < max_fds) {
        fds[got++] = passed[i];
      } else {
        close(passed[i]);
      }
    }
  }
  bool bad = static_cast<size_t>(n) != len || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
  if (bad) {
    for (size_t i = 0; i < got; ++i) close(fds[i]);
    return -EBADMSG;
  }
  return static_cast<int>(got);
}

}  // namespace vtas::abi
