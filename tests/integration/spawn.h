// Starting helper processes from tests without fork(). The test processes are multi-threaded
// (churn clients, transfers, a stall witness); fork() of such a process write-locks its whole
// memory map while it copies it, which stood every thread of the test still for up to seconds
// under load and was then measured as a "machine stall". posix_spawn copies nothing.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace vtas::testing {

struct SpawnOptions {
  std::string stdout_path;  // empty: inherit
  std::string stderr_path;  // empty: inherit
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) ours
  std::vector<int> close_fds;                             // closed in the child
};

// Starts argv[0] (a path) with `argv`. Returns its pid, or -1 (errno set) if it could not start.
pid_t spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// As spawn_process, for fixtures whose helper must start: prints why it could not and aborts.
// A pid of -1 handed on could reach kill(), which would signal every process.
pid_t spawn_process_or_abort(const std::vector<std::string>& argv, const SpawnOptions& options = {});

}  // namespace vtas::testing
