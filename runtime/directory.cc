#include "runtime/directory.h"

#include <algorithm>

namespace vtas {

std::string runtime_dir_of(const manifest::Manifest& manifest) {
  if (manifest.has_runtime_dir() && !manifest.runtime_dir().empty()) return manifest.runtime_dir();
  return "/run/vtas/" + manifest.instance();
}

Directory::Directory(const manifest::Manifest& manifest)
    : instance_(manifest.instance()), runtime_dir_(runtime_dir_of(manifest)) {
  for (const auto& actor : manifest.actor()) {
    actors_.emplace_back(actor.name(), actor.placement() == manifest::PLACEMENT_THREAD);
  }
}

bool Directory::has(const std::string& actor) const {
  if (actor == kSupervisorName) return true;
  return std::any_of(actors_.begin(), actors_.end(),
                     [&](const auto& a) { return a.first == actor; });
}

bool Directory::in_supervisor_process(const std::string& actor) const {
  if (actor == kSupervisorName) return true;
  for (const auto& [name, thread] : actors_) {
    if (name == actor) return thread;
  }
  return false;
}

std::vector<std::string> Directory::mailbox_endpoints(const std::string& actor) const {
  std::vector<std::string> endpoints;
  if (in_supervisor_process(actor)) endpoints.push_back("inproc://vtas/" + actor);
  endpoints.push_back(ipc(actor + ".sock"));
  return endpoints;
}

std::optional<std::string> Directory::endpoint(const std::string& actor,
                                               bool caller_in_supervisor_process) const {
  if (!has(actor)) return std::nullopt;
  if (caller_in_supervisor_process && in_supervisor_process(actor)) return "inproc://vtas/" + actor;
  return ipc(actor + ".sock");
}

std::string Directory::control_endpoint() const { return ipc("ctl.sock"); }

std::string Directory::trace_in_endpoint(bool caller_in_supervisor_process) const {
  return caller_in_supervisor_process ? "inproc://vtas/trace-in" : ipc("trace-in.sock");
}

std::string Directory::trace_out_endpoint() const { return ipc("trace.sock"); }

}  // namespace vtas
