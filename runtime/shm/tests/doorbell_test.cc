#include "runtime/shm/doorbell.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include <thread>

#include "runtime/clock.h"
#include "runtime/shm/tests/shm_test_helpers.h"

namespace vtas::shm {
namespace {

using testing::Contains;

TEST(Doorbell, CreateGivesANonBlockingCloseOnExecEventfd) {
  auto bell = Doorbell::create();
  ASSERT_TRUE(bell) << bell.error().message;
  ASSERT_GE(bell->fd(), 0);
  EXPECT_NE(fcntl(bell->fd(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(fcntl(bell->fd(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(Doorbell, RingWakesWaitUntilDrained) {
  auto bell = Doorbell::create();
  ASSERT_TRUE(bell) << bell.error().message;
  EXPECT_FALSE(bell->wait(0));
  EXPECT_EQ(bell->drain(), 0u);
  ASSERT_TRUE(bell->ring());
  ASSERT_TRUE(bell->ring());
  EXPECT_TRUE(bell->wait(0));
  EXPECT_TRUE(bell->wait(-1)) << "rings stay pending until drained";
  EXPECT_EQ(bell->drain(), 2u);
  EXPECT_FALSE(bell->wait(0));
}

TEST(Doorbell, WaitTimesOutNoEarlierThanAsked) {
  auto bell = Doorbell::create();
  ASSERT_TRUE(bell) << bell.error().message;
  const uint64_t start = monotonic_ns();
  EXPECT_FALSE(bell->wait(20));
  EXPECT_GE(monotonic_ns() - start, 20'000'000u);
}

void ignore_alarm(int) {}

TEST(Doorbell, SignalsDoNotCutTheWaitShort) {
  auto bell = Doorbell::create();
  ASSERT_TRUE(bell) << bell.error().message;
  struct sigaction action {};
  action.sa_handler = ignore_alarm;  // no SA_RESTART: poll() returns EINTR on every tick
  struct sigaction old {};
  ASSERT_EQ(sigaction(SIGALRM, &action, &old), 0);
  itimerval every_5ms{{0, 5000}, {0, 5000}};
  ASSERT_EQ(setitimer(ITIMER_REAL, &every_5ms, nullptr), 0);

  const uint64_t start = monotonic_ns();
  const bool rung = bell->wait(60);
  const uint64_t elapsed = monotonic_ns() - start;

  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  sigaction(SIGALRM, &old, nullptr);
  EXPECT_FALSE(rung);
  EXPECT_GE(elapsed, 60'000'000u);
}

TEST(Doorbell, AnotherThreadWakesAnInfiniteWait) {
  auto bell = Doorbell::create();
  ASSERT_TRUE(bell) << bell.error().message;
  std::thread ringer([&] { EXPECT_TRUE(bell->ring()); });
  EXPECT_TRUE(bell->wait(-1));
  ringer.join();
  EXPECT_EQ(bell->drain(), 1u);
}

TEST(Doorbell, AdoptedBlockingEventfdDrainsWithoutBlocking) {
  int fd = eventfd(0, EFD_CLOEXEC);  // blocking, as an fd from another process may be
  ASSERT_GE(fd, 0);
  Doorbell bell = Doorbell::adopt(fd);
  EXPECT_EQ(bell.fd(), fd);
  EXPECT_EQ(bell.drain(), 0u) << "must return at once on an empty blocking eventfd";
  ASSERT_TRUE(bell.ring());
  EXPECT_TRUE(bell.wait(0));
  EXPECT_EQ(bell.drain(), 1u);
  EXPECT_FALSE(bell.wait(0));
}

TEST(Doorbell, AdoptedSemaphoreEventfdDrainsEveryRing) {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
  ASSERT_GE(fd, 0);
  Doorbell bell = Doorbell::adopt(fd);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bell.ring());
  EXPECT_EQ(bell.drain(), 3u);
  EXPECT_FALSE(bell.wait(0));
}

TEST(Doorbell, MovedFromOrBrokenBellReportsInsteadOfCrashing) {
  auto bell = Doorbell::create();
  ASSERT_TRUE(bell) << bell.error().message;
  const int fd = bell->fd();
  Doorbell moved = std::move(bell.value());
  EXPECT_EQ(moved.fd(), fd);
  EXPECT_EQ(bell->fd(), -1);  // NOLINT: moved-from on purpose
  Status s = bell->ring();
  ASSERT_FALSE(s);
  EXPECT_TRUE(Contains(s.error().message, "ring failed"));
  EXPECT_FALSE(bell->wait(0));
  EXPECT_EQ(bell->drain(), 0u);

  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  close(pipe_fds[1]);
  Doorbell not_an_eventfd = Doorbell::adopt(pipe_fds[0]);  // read end: writes fail with EBADF
  EXPECT_FALSE(not_an_eventfd.ring());
}

}  // namespace
}  // namespace vtas::shm
