// Instance: runs the real `vtas` binary on a manifest in a private runtime directory, for
// integration tests. Readiness comes from --ready-fd (a pipe), not from sleeping; vtasctl
// is run as a real process; everything is stopped and removed at the end.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace vtas::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv to completion, capturing stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Polls `condition` every 10 ms until it holds or `timeout` passes (for conditions that have
// no event to wait on, such as "the supervisor reports restarts=1").
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

class Instance {
 public:
  // `manifest_body` is the manifest without instance/runtime_dir, which Instance adds.
  explicit Instance(const std::string& manifest_body, const std::string& name = "it");
  ~Instance();

  // Starts vtas and waits for readiness. False (with stderr available) if it failed.
  bool start(std::vector<std::string> extra_args = {});
  // Waits for the supervisor to exit and returns its status (-1 on timeout).
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGTERM, then wait.
  int stop();

  CommandResult ctl(const std::vector<std::string>& args) const;
  // `vtasctl --json status`, parsed field by field with the helpers below.
  std::string status_json() const;

  const std::string& runtime_dir() const { return runtime_dir_; }
  const std::string& manifest_path() const { return manifest_path_; }
  std::string supervisor_stderr() const;
  pid_t pid() const { return pid_; }

 private:
  std::string dir_;
  std::string runtime_dir_;
  std::string manifest_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
};

// Reads a field of an actor from `vtasctl --json status` output (tiny, test-only JSON probe).
std::string actor_field(const std::string& status_json, const std::string& actor,
                        const std::string& field);

std::string vtas_binary();
std::string vtasctl_binary();

}  // namespace vtas::testing
