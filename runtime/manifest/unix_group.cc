#include "runtime/manifest/unix_group.h"

#include <grp.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

namespace vtas {

Result<gid_t> resolve_group(const std::string& name) {
  if (name.empty()) return make_error("empty group name (give a group name or a numeric gid)");
  gid_t gid = 0;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), gid);
  if (error == std::errc() && end == name.data() + name.size()) {
    // (gid_t)-1 means "unchanged" to chown: never a group of its own.
    if (gid == static_cast<gid_t>(-1)) return make_error("gid " + name + " is not a group");
    return gid;
  }
  std::vector<char> buffer(16384);
  struct group entry {};
  struct group* found = nullptr;
  int rc = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0) {
    return make_error("cannot look up group \"" + name + "\": " + std::strerror(rc));
  }
  if (found == nullptr) {
    return make_error("unknown group \"" + name + "\" (create it with `groupadd " + name +
                      "`, or give a numeric gid)");
  }
  return found->gr_gid;
}

}  // namespace vtas
