#include "components/proxy/channel/ivshmem_protocol.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace vtas::proxy {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the ivshmem protocol is little-endian");

int send_ivshmem_message(int socket, int64_t value, int fd) {
  iovec iov{&value, sizeof(value)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  return n == sizeof(value) ? 0 : -EMSGSIZE;
}

int receive_ivshmem_message(int socket, int64_t* value, int* fd, int timeout_ms) {
  *fd = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  uint8_t buf[sizeof(int64_t)];
  size_t got = 0;
  while (got < sizeof(buf)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{socket, POLLIN, 0};
    int ready = ::poll(&p, 1, left.count() < 0 ? 0 : static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return -errno;
    if (ready == 0) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
      return -ETIMEDOUT;
    }
    iovec iov{buf + got, sizeof(buf) - got};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
      return n == 0 ? -ECONNRESET : -errno;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int passed;
        std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        if (*fd < 0) {
          *fd = passed;
        } else {
          ::close(passed);  // one fd per message; more is a broken server
        }
      }
    }
    got += static_cast<size_t>(n);
  }
  std::memcpy(value, buf, sizeof(*value));
  return 0;
}

}  // namespace vtas::proxy
