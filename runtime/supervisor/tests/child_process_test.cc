#include "runtime/supervisor/child_process.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

#include <thread>

namespace vtas {
namespace {

// Waits (on the pidfd, up to 10 s) for the child to end and returns how it ended.
ExitStatus wait_for_exit(ChildProcess& child) {
  pollfd p{child.pidfd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 10000), 1) << "the child did not end within 10 s";
  ExitStatus status;
  EXPECT_TRUE(child.try_reap(&status));
  return status;
}

TEST(ChildProcess, RunsTheCommandAndReportsItsExitStatus) {
  auto child = ChildProcess::spawn({"/bin/sh", "-c", "exit 3"});
  ASSERT_TRUE(child) << child.error().message;
  ExitStatus status = wait_for_exit(*child);
  EXPECT_TRUE(status.exited);
  EXPECT_EQ(status.code, 3);
}

TEST(ChildProcess, AFailedExecIsAnErrorNamingTheReason) {
  auto child = ChildProcess::spawn({"/nonexistent/vtas-actor"});
  ASSERT_FALSE(child);
  EXPECT_NE(child.error().message.find("/nonexistent/vtas-actor"), std::string::npos);
  EXPECT_NE(child.error().message.find("No such file"), std::string::npos) << child.error().message;
}

TEST(ChildProcess, TheChildIgnoresSigintAndStartsWithNoSignalBlocked) {
  // The supervisor blocks SIGINT/SIGTERM/SIGHUP for its signalfd; its actors must not inherit
  // that mask, and must survive a terminal's Ctrl-C (sent to the whole process group).
  sigset_t blocked, previous;
  ::sigemptyset(&blocked);
  ::sigaddset(&blocked, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &blocked, &previous);
  auto child = ChildProcess::spawn(
      {"/bin/sh", "-c",
       // The shell reads its own mask (a builtin: a grep could catch the shell mid-fork, when
       // dash blocks every signal for a moment).
       "kill -INT $$; while read -r key value; do"
       "  [ \"$key\" = SigBlk: ] && [ \"$value\" = 0000000000000000 ] && exit 0;"
       " done < /proc/self/status; exit 4"});
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ASSERT_TRUE(child) << child.error().message;
  ExitStatus status = wait_for_exit(*child);
  EXPECT_TRUE(status.exited) << status.describe();
  EXPECT_EQ(status.code, 0) << "4: the child started with signals blocked";
}

TEST(ChildProcess, TheChildDiesWithTheThreadThatSpawnedIt) {
  // PR_SET_PDEATHSIG follows the spawning thread: the supervisor spawns from its main thread.
  Result<ChildProcess> child = make_error("not spawned");
  std::thread spawner([&child] { child = ChildProcess::spawn({"/bin/sleep", "30"}); });
  spawner.join();
  ASSERT_TRUE(child) << child.error().message;
  ExitStatus status = wait_for_exit(*child);
  EXPECT_TRUE(status.signaled) << status.describe();
  EXPECT_EQ(status.signal, SIGKILL);
}

TEST(ChildProcess, KillEndsTheChild) {
  auto child = ChildProcess::spawn({"/bin/sleep", "30"});
  ASSERT_TRUE(child) << child.error().message;
  child->kill(SIGKILL);
  ExitStatus status = wait_for_exit(*child);
  EXPECT_TRUE(status.signaled);
  EXPECT_EQ(status.signal, SIGKILL);
}

}  // namespace
}  // namespace vtas
