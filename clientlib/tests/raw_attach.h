// The app side of the attach protocol (components/fastpath/abi/attach_protocol.h) by hand,
// without libvtas: for tests that play a client the library would never be (silent, hostile,
// or several in one process). Used by attach_server_test.cc and request_bound_test.cc.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "components/fastpath/abi/attach_protocol.h"
#include "components/fastpath/abi/fd_passing.h"

namespace vtas::testing {

// A SOCK_SEQPACKET connection to the attach socket at `path`; -1 on failure (errno set).
inline int connect_attach_socket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return -1;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends an AttachRequest; 0 or -errno.
inline int send_attach_request(int fd, const char* name = "raw-attach-test") {
  abi::AttachRequest request{};
  request.magic = abi::kAttachMagic;
  request.version = abi::kAttachVersion;
  request.type = static_cast<uint32_t>(abi::AttachMessageType::kAttachRequest);
  std::strncpy(request.name, name, sizeof(request.name) - 1);
  return abi::send_with_fds(fd, &request, sizeof(request), nullptr, 0);
}

}  // namespace vtas::testing
