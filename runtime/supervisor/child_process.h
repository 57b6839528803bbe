// ChildProcess: an actor process the supervisor spawned. Spawning execs the actor binary with
// `actor --runtime-dir DIR --name NAME --incarnation N`; exits are observed through a pidfd
// (readable when the child ends), so the supervisor's loop needs no SIGCHLD handler.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/result.h"

namespace vtas {

struct ExitStatus {
  bool exited = false;    // exited by itself (code valid)
  int code = 0;
  bool signaled = false;  // killed by a signal (signal valid)
  int signal = 0;

  bool clean() const { return exited && code == 0; }
  // "exited with status 3", "killed by signal 9 (Killed)".
  std::string describe() const;
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `argv[0]` with `argv` without copying the caller's memory (clone with CLONE_VM |
  // CLONE_VFORK, as posix_spawn does; returns once the child has exec'd). A failed exec is an
  // error naming the reason. The child dies with the thread that spawned it
  // (PR_SET_PDEATHSIG), ignores SIGINT (a terminal's Ctrl-C is for the supervisor, which then
  // stops actors in order) and starts with an empty signal mask.
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv);

  pid_t pid() const { return pid_; }
  // Readable when the child has exited.
  int pidfd() const { return pidfd_; }
  bool running() const { return pid_ > 0; }

  // Reaps the child if it has exited. Returns true and fills `status` once it has.
  bool try_reap(ExitStatus* status);
  void kill(int signal);

 private:
  void release();
  pid_t pid_ = -1;
  int pidfd_ = -1;
};

}  // namespace vtas
