// Directory: where every actor of an instance listens, and which endpoint a caller uses to
// reach it. Addresses derive from the manifest only (instance, runtime_dir, placements):
//   thread actors     bind inproc://vtas/<name> and ipc://<runtime_dir>/<name>.sock
//   process actors    bind ipc://<runtime_dir>/<name>.sock
// A caller inside the supervisor process reaches thread actors over inproc://, everything
// else over ipc://. The supervisor is an actor named "supervisor", always in its own process.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proto/manifest.pb.h"

namespace vtas {

inline constexpr char kSupervisorName[] = "supervisor";

// /run/vtas/<instance> unless the manifest says otherwise.
std::string runtime_dir_of(const manifest::Manifest& manifest);

class Directory {
 public:
  explicit Directory(const manifest::Manifest& manifest);

  const std::string& runtime_dir() const { return runtime_dir_; }
  bool has(const std::string& actor) const;
  // True for the supervisor and thread-placed actors.
  bool in_supervisor_process(const std::string& actor) const;

  std::vector<std::string> mailbox_endpoints(const std::string& actor) const;
  std::optional<std::string> endpoint(const std::string& actor,
                                      bool caller_in_supervisor_process) const;

  // vtasctl talks to the supervisor here (file mode 0600).
  std::string control_endpoint() const;
  // Actors publish trace copies to trace-in; vtas-trace subscribes to trace-out (0600).
  std::string trace_in_endpoint(bool caller_in_supervisor_process) const;
  std::string trace_out_endpoint() const;
  // The resolved manifest that process actors read at start-up.
  std::string manifest_path() const { return runtime_dir_ + "/manifest.txtpb"; }

 private:
  std::string ipc(const std::string& file) const { return "ipc://" + runtime_dir_ + "/" + file; }

  std::string instance_;
  std::string runtime_dir_;
  std::vector<std::pair<std::string, bool>> actors_;  // name, thread-placed
};

}  // namespace vtas
