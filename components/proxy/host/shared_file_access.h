// SharedFileAccess: who besides the service may open the files the host proxy hands to VMs
// (its ivshmem socket and each VM's region memfd). Without a group they are owner-only (0600):
// anyone allowed to ptrace-read a holder could otherwise reopen a region through
// /proc/<pid>/fd. With the manifest's socket_group (proxy_host.socket_group) they get 0660 and
// that group, so a QEMU running as another user in that group can attach.
// Used by HostProxyActor and VmSession, on the host proxy's thread.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "runtime/result.h"

namespace vtas::proxy {

struct SharedFileAccess {
  std::optional<gid_t> group;

  mode_t mode() const { return group ? 0660 : 0600; }
  // `what` names the file in the error ("the VM region", the socket's path).
  Status apply_to_fd(int fd, const std::string& what) const;
  Status apply_to_path(const std::string& path) const;

 private:
  template <class Chmod, class Chown>
  Status apply(const std::string& what, Chmod set_mode, Chown set_group) const;
};

}  // namespace vtas::proxy
