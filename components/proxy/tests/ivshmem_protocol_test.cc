// The ivshmem server protocol's framing: int64 values with at most one fd each, in order.
#include "components/proxy/channel/ivshmem_protocol.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vtas::proxy {
namespace {

struct SocketPair {
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0); }
  ~SocketPair() {
    if (fds[0] >= 0) ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
  }
  int fds[2] = {-1, -1};
};

TEST(IvshmemProtocolTest, ValuesAndFdsArriveTogetherInOrder) {
  SocketPair s;
  int efd = ::eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  ASSERT_EQ(send_ivshmem_message(s.fds[0], 0, -1), 0);
  ASSERT_EQ(send_ivshmem_message(s.fds[0], 3, -1), 0);
  ASSERT_EQ(send_ivshmem_message(s.fds[0], -1, efd), 0);
  ASSERT_EQ(send_ivshmem_message(s.fds[0], 0x1234, efd), 0);
  int64_t value;
  int fd;
  ASSERT_EQ(receive_ivshmem_message(s.fds[1], &value, &fd, 1000), 0);
  EXPECT_EQ(value, 0);
  EXPECT_EQ(fd, -1);
  ASSERT_EQ(receive_ivshmem_message(s.fds[1], &value, &fd, 1000), 0);
  EXPECT_EQ(value, 3);
  EXPECT_EQ(fd, -1);
  ASSERT_EQ(receive_ivshmem_message(s.fds[1], &value, &fd, 1000), 0);
  EXPECT_EQ(value, -1);
  ASSERT_GE(fd, 0);
  struct stat a {}, b {};
  ASSERT_EQ(::fstat(fd, &a), 0);
  ASSERT_EQ(::fstat(efd, &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);  // the same eventfd
  ::close(fd);
  ASSERT_EQ(receive_ivshmem_message(s.fds[1], &value, &fd, 1000), 0);
  EXPECT_EQ(value, 0x1234);
  EXPECT_GE(fd, 0);
  ::close(fd);
  ::close(efd);
}

TEST(IvshmemProtocolTest, SilenceTimesOutAndEndOfStreamIsReported) {
  SocketPair s;
  int64_t value;
  int fd;
  EXPECT_EQ(receive_ivshmem_message(s.fds[1], &value, &fd, 20), -ETIMEDOUT);
  ::close(s.fds[0]);
  s.fds[0] = -1;
  EXPECT_EQ(receive_ivshmem_message(s.fds[1], &value, &fd, 1000), -ECONNRESET);
}

TEST(IvshmemProtocolTest, AHalfMessageThenEndOfStreamIsNotAMessage) {
  SocketPair s;
  const char half[4] = {1, 2, 3, 4};
  ASSERT_EQ(::write(s.fds[0], half, sizeof(half)), 4);
  ::close(s.fds[0]);
  s.fds[0] = -1;
  int64_t value;
  int fd;
  EXPECT_EQ(receive_ivshmem_message(s.fds[1], &value, &fd, 1000), -ECONNRESET);
}

}  // namespace
}  // namespace vtas::proxy
