// libvtas_sockets when the vtas service hangs up (it closes the attach socket: stopped, or
// crashed and not restarted for this app): a thread blocked in recv() wakes with ECONNRESET
// and the process's other vtas sockets fail the same way, instead of hanging forever. Own
// process (the sockets engine is per process), LoopbackService as the service.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <string>

#include "tests/sockets/loopback_service.h"
#include "vtas/sockets.h"

namespace vtas::sockets::testing {
namespace {

using Clock = std::chrono::steady_clock;

// The scheduler state of one of our threads ('S': asleep in the kernel).
char thread_state(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close_paren = line.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= line.size() ? '?' : line[close_paren + 2];
}

TEST(SocketsHangUp, ABlockedReceiveAndTheOtherSocketsFailWithConnectionReset) {
  ::signal(SIGPIPE, SIG_IGN);
  char pattern[] = "/tmp/vtas-sockets-hangup.XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  ::setenv("VTAS_RUNTIME_DIR", dir.c_str(), 1);
  ::setenv("VTAS_SOCKETS_NETWORKS", "10.0.0.0/24", 1);
  auto service = std::make_unique<LoopbackService>(dir);

  int listener = vtas_socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ASSERT_EQ(vtas_bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(vtas_listen(listener, 4), 0) << strerror(errno);
  ASSERT_EQ(vtas_sockets_is_vtas(listener), 1);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(vtas_getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  addr.sin_addr.s_addr = htonl(LoopbackService::kLocalIp);
  int client = vtas_socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(vtas_connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
  int server = vtas_accept(listener, nullptr, nullptr);
  ASSERT_GE(server, 0) << strerror(errno);

  std::atomic<pid_t> reader_tid{0};
  auto received = std::async(std::launch::async, [&] {
    reader_tid = static_cast<pid_t>(::syscall(SYS_gettid));
    char byte;
    const ssize_t n = vtas_recv(client, &byte, 1, 0);
    return std::make_pair(n, errno);
  });
  // Readiness: the reader is asleep in the kernel (in its ppoll on the context).
  const auto start = Clock::now();
  while (reader_tid == 0 || thread_state(reader_tid) != 'S') {
    ASSERT_LT(Clock::now() - start, std::chrono::seconds(5)) << "the reader never went to sleep";
  }

  service.reset();  // the service hangs up
  ASSERT_EQ(received.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "recv still blocked 5 s after the service hung up";
  const auto [n, err] = received.get();
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, ECONNRESET);

  char byte = 'x';
  EXPECT_EQ(vtas_send(server, &byte, 1, 0), -1) << "the other side of the connection failed too";
  EXPECT_TRUE(errno == ECONNRESET || errno == EPIPE) << strerror(errno);

  for (int fd : {client, server, listener}) vtas_close(fd);
  EXPECT_EQ(::rmdir(dir.c_str()), 0) << strerror(errno);
}

}  // namespace
}  // namespace vtas::sockets::testing
