#include "runtime/supervisor/child_process.h"

#include <fcntl.h>
#include <sched.h>
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

// The child runs on its own small stack, in our memory, until exec (CLONE_VM | CLONE_VFORK,
// as posix_spawn does). Unlike fork(), nothing of the supervisor's address space is copied:
// fork() of a multi-threaded process write-locks its whole memory map while it copies it, and
// under load that stood the supervisor (and every thread touching memory) still for hundreds
// of milliseconds; see docs/decisions.md (39).
constexpr size_t kChildStackBytes = 64 * 1024;

struct ChildStart {
  char** argv;
  pid_t parent;
  int exec_errno;  // written by the child when exec fails; read by the parent after clone
};

// Only raw system calls here: the child shares the parent's memory, so it must not take
// locks, allocate or touch anything but `start`.
int child_main(void* arg) {
  auto* start = static_cast<ChildStart*>(arg);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the thread that spawned it
  if (::getppid() != start->parent) ::_exit(127);  // the supervisor died before we got here
  // A terminal's Ctrl-C is for the supervisor, which then stops actors in order. Handlers
  // (none are expected) go back to the default so none runs here before exec.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) != 0) continue;
    if (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN) ::signal(sig, SIG_DFL);
  }
  ::signal(SIGINT, SIG_IGN);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execv(start->argv[0], start->argv);
  start->exec_errno = errno;
  ::_exit(127);
}

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

  // No signal handler may run in the child while it shares our memory: block everything
  // around the clone; the child clears its own mask just before exec.
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  ChildStart start{args.data(), ::getpid(), 0};
  std::vector<char> stack(kChildStackBytes);
  pid_t pid = ::clone(child_main, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  if (pid < 0) return make_error(std::string("clone failed: ") + ::strerror(clone_errno));
  if (start.exec_errno != 0) {
    // CLONE_VFORK: we resume only once the child has exec'd or given up, so a failed exec is
    // known here, with its reason, instead of as an exit status 127 later.
    ::waitpid(pid, nullptr, 0);
    return make_error("cannot run " + argv[0] + ": " + ::strerror(start.exec_errno));
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
