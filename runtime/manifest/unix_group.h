// Group names in manifests ("kvm" or "64055"): resolved to a gid the same way by the manifest
// validator (so an unknown group is a file:line:col error) and by the actors that chown files
// to it at start (the proxy-host actor's socket_group). Any thread may call it.
#pragma once

#include <sys/types.h>

#include <string>

#include "runtime/result.h"

namespace vtas {

// A group name known to this host (getgrnam_r), or a numeric gid (taken as is, as chown(1)
// does). The error says which and what to do.
Result<gid_t> resolve_group(const std::string& name);

}  // namespace vtas
