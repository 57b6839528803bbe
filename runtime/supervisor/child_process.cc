#include "runtime/supervisor/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace vtas {
namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

std::string ExitStatus::describe() const {
  if (exited) return "exited with status " + std::to_string(code);
  if (signaled) {
    const char* name = ::strsignal(signal);
    return "killed by signal " + std::to_string(signal) + " (" + (name ? name : "?") + ")";
  }
  return "still running";
}

ChildProcess::~ChildProcess() { release(); }

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_), pidfd_(other.pidfd_) {
  other.pid_ = -1;
  other.pidfd_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = other.pid_;
    pidfd_ = other.pidfd_;
    other.pid_ = -1;
    other.pidfd_ = -1;
  }
  return *this;
}

void ChildProcess::release() {
  // A still-running child is not abandoned silently: the supervisor always reaps its
  // children; this only closes our handle.
  if (pidfd_ >= 0) ::close(pidfd_);
  pidfd_ = -1;
  pid_ = -1;
}

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv) {
  if (argv.empty()) return make_error("spawn: empty command line");
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) return make_error(std::string("fork failed: ") + ::strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the supervisor died before we got here
    ::signal(SIGINT, SIG_IGN);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(args[0], args.data());
    const char msg[] = "vtas: exec of actor binary failed\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  ChildProcess child;
  child.pid_ = pid;
  child.pidfd_ = pidfd_open(pid);
  if (child.pidfd_ < 0) {
    int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    child.pid_ = -1;
    return make_error(std::string("pidfd_open failed: ") + ::strerror(err) +
                      " (vtas needs Linux 5.3 or later)");
  }
  return child;
}

bool ChildProcess::try_reap(ExitStatus* status) {
  if (pid_ <= 0) return false;
  int raw = 0;
  pid_t r = ::waitpid(pid_, &raw, WNOHANG);
  if (r != pid_) return false;
  *status = ExitStatus{};
  if (WIFEXITED(raw)) {
    status->exited = true;
    status->code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    status->signaled = true;
    status->signal = WTERMSIG(raw);
  }
  release();
  return true;
}

void ChildProcess::kill(int signal) {
  if (pidfd_ >= 0) {
    // pidfd_send_signal cannot hit a recycled pid.
    ::syscall(SYS_pidfd_send_signal, pidfd_, signal, nullptr, 0);
  }
}

}  // namespace vtas
