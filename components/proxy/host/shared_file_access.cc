#include "components/proxy/host/shared_file_access.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vtas::proxy {
namespace {

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode));
  return text;
}

Status failure(const std::string& what, const std::string& call, int err) {
  return make_error("cannot set the access of " + what + " (" + call + "): " + std::strerror(err) +
                    (err == EPERM ? " (the service must be root or a member of the group)" : ""));
}

}  // namespace

template <class Chmod, class Chown>
Status SharedFileAccess::apply(const std::string& what, Chmod set_mode, Chown set_group) const {
  // Owner-only first, then the group, then its bits: at no moment may a wrong group (the
  // service's own) or anyone else open the file.
  if (set_mode(0600) != 0) return failure(what, "chmod 0600", errno);
  if (!group) return Status();
  if (set_group(*group) != 0) return failure(what, "chown to gid " + std::to_string(*group), errno);
  if (set_mode(mode()) != 0) return failure(what, "chmod " + mode_text(mode()), errno);
  return Status();
}

Status SharedFileAccess::apply_to_fd(int fd, const std::string& what) const {
  return apply(
      what, [fd](mode_t m) { return ::fchmod(fd, m); },
      [fd](gid_t g) { return ::fchown(fd, static_cast<uid_t>(-1), g); });
}

Status SharedFileAccess::apply_to_path(const std::string& path) const {
  return apply(
      path, [&path](mode_t m) { return ::chmod(path.c_str(), m); },
      [&path](gid_t g) { return ::chown(path.c_str(), static_cast<uid_t>(-1), g); });
}

}  // namespace vtas::proxy
