// Unit tests of libvtas_sockets (vtas/sockets.h, called directly) against LoopbackService, a
// fake vtas service that connects the process's own sockets to each other. No root, no
// network: what is tested is the sockets layer itself (state, readiness, wake-ups, close
// semantics, epoll), the rest of vtas is the fake.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/sockets/loopback_service.h"
#include "vtas/sockets.h"
#include "vtas/tas_ll.h"

namespace vtas::sockets::testing {
namespace {

using namespace std::chrono_literals;

LoopbackService* g_service = nullptr;

class ServiceEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    char pattern[] = "/tmp/vtas-sockets-unit.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ::setenv("VTAS_RUNTIME_DIR", dir_.c_str(), 1);
    ::setenv("VTAS_SOCKETS_NETWORKS", "10.0.0.0/24", 1);
    service_ = std::make_unique<LoopbackService>(dir_);
    g_service = service_.get();
    ::signal(SIGPIPE, SIG_IGN);
  }
  void TearDown() override {
    g_service = nullptr;
    service_.reset();
    ::rmdir(dir_.c_str());
  }

 private:
  std::string dir_;
  std::unique_ptr<LoopbackService> service_;
};
const auto* g_env = ::testing::AddGlobalTestEnvironment(new ServiceEnvironment);

sockaddr_in service_addr(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(LoopbackService::kLocalIp);
  a.sin_port = htons(port);
  return a;
}

int make_listener(uint16_t* port, int flags = 0) {
  int l = vtas_socket(AF_INET, SOCK_STREAM | flags, 0);
  EXPECT_GE(l, 0);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  EXPECT_EQ(vtas_bind(l, reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0) << strerror(errno);
  EXPECT_EQ(vtas_listen(l, 16), 0) << strerror(errno);
  EXPECT_EQ(vtas_sockets_is_vtas(l), 1);
  socklen_t len = sizeof(any);
  EXPECT_EQ(vtas_getsockname(l, reinterpret_cast<sockaddr*>(&any), &len), 0);
  *port = ntohs(any.sin_port);
  return l;
}

int connect_to(uint16_t port, int flags = 0) {
  int c = vtas_socket(AF_INET, SOCK_STREAM | flags, 0);
  sockaddr_in a = service_addr(port);
  int rc = vtas_connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  EXPECT_TRUE(rc == 0 || ((flags & SOCK_NONBLOCK) && errno == EINPROGRESS)) << strerror(errno);
  EXPECT_EQ(vtas_sockets_is_vtas(c), 1);
  return c;
}

// A connected pair: client and accepted server side.
struct Pair {
  int listener = -1, client = -1, server = -1;
  uint16_t port = 0;
  Pair() {
    listener = make_listener(&port);
    client = connect_to(port);
    server = vtas_accept(listener, nullptr, nullptr);
    EXPECT_GE(server, 0) << strerror(errno);
  }
  ~Pair() {
    for (int fd : {client, server, listener}) {
      if (fd >= 0) vtas_close(fd);
    }
  }
};

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = vtas_write(fd, s.data() + off, s.size() - off);
    ASSERT_GT(n, 0) << strerror(errno);
    off += static_cast<size_t>(n);
  }
}

std::string read_exactly(int fd, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = vtas_read(fd, out.data() + got, n - got);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return out;
}

TEST(SocketsUnit, ListenConnectAcceptAndExchange) {
  Pair p;
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  ASSERT_EQ(vtas_getpeername(p.client, reinterpret_cast<sockaddr*>(&peer), &len), 0);
  EXPECT_EQ(ntohs(peer.sin_port), p.port);
  write_all(p.client, "ping");
  EXPECT_EQ(read_exactly(p.server, 4), "ping");
  write_all(p.server, "pong!");
  EXPECT_EQ(read_exactly(p.client, 5), "pong!");
  int avail = -1;
  EXPECT_EQ(vtas_ioctl(p.client, FIONREAD, &avail), 0);
  EXPECT_EQ(avail, 0);
}

TEST(SocketsUnit, ConnectToAPortNobodyListensOnIsRefused) {
  int c = vtas_socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = service_addr(9);
  EXPECT_EQ(vtas_connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_EQ(vtas_close(c), 0);
}

TEST(SocketsUnit, NonBlockingConnectCompletesWithPollout) {
  uint16_t port = 0;
  int l = make_listener(&port);
  int c = connect_to(port, SOCK_NONBLOCK);
  pollfd pfd{c, POLLOUT, 0};
  ASSERT_EQ(vtas_poll(&pfd, 1, 2000), 1);
  EXPECT_EQ(pfd.revents, POLLOUT);
  int err = -1;
  socklen_t len = sizeof(err);
  EXPECT_EQ(vtas_getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);
  int s = vtas_accept(l, nullptr, nullptr);
  EXPECT_GE(s, 0);
  for (int fd : {c, s, l}) vtas_close(fd);
}

TEST(SocketsUnit, AcceptQueueKeepsOrderAndNonBlockingAcceptSaysEagain) {
  uint16_t port = 0;
  int l = make_listener(&port, SOCK_NONBLOCK);
  EXPECT_EQ(vtas_accept(l, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect_to(port));
  for (int i = 0; i < 3; ++i) write_all(clients[static_cast<size_t>(i)], std::string(1, 'a' + i));
  for (int i = 0; i < 3; ++i) {
    pollfd pfd{l, POLLIN, 0};
    ASSERT_EQ(vtas_poll(&pfd, 1, 2000), 1);
    int s = vtas_accept4(l, nullptr, nullptr, SOCK_NONBLOCK);
    ASSERT_GE(s, 0);
    pollfd in{s, POLLIN, 0};
    ASSERT_EQ(vtas_poll(&in, 1, 2000), 1);
    EXPECT_EQ(read_exactly(s, 1), std::string(1, 'a' + i));
    vtas_close(s);
  }
  for (int c : clients) vtas_close(c);
  vtas_close(l);
}

TEST(SocketsUnit, EpollEdgeTriggeredWriteSpaceEdgeComesAfterAFullBuffer) {
  Pair p;
  ASSERT_EQ(vtas_fcntl(p.client, F_SETFL, O_NONBLOCK), 0);
  int ep = vtas_epoll_create1(0);
  epoll_event e{};
  e.events = EPOLLOUT | EPOLLET;
  ASSERT_EQ(vtas_epoll_ctl(ep, EPOLL_CTL_ADD, p.client, &e), 0);
  epoll_event out[4];
  ASSERT_EQ(vtas_epoll_wait(ep, out, 4, 1000), 1);  // writable at first
  EXPECT_EQ(vtas_epoll_wait(ep, out, 4, 50), 0);    // no new edge
  // Fill everything: our tx buffer and the peer's rx buffer.
  std::string chunk(16384, 'x');
  size_t written = 0;
  for (;;) {
    ssize_t n = vtas_write(p.client, chunk.data(), chunk.size());
    if (n < 0) {
      ASSERT_EQ(errno, EAGAIN);
      pollfd pfd{p.client, POLLOUT, 0};
      if (vtas_poll(&pfd, 1, 100) == 0) break;  // really full
      continue;
    }
    written += static_cast<size_t>(n);
  }
  EXPECT_GE(written, 65536u);
  EXPECT_EQ(read_exactly(p.server, written), std::string(written, 'x'));
  ASSERT_EQ(vtas_epoll_wait(ep, out, 4, 2000), 1);  // space again: a new edge
  EXPECT_TRUE(out[0].events & EPOLLOUT);
  vtas_close(ep);
}

TEST(SocketsUnit, EpollRegistrationEndsWithTheLastDescriptor) {
  Pair p;
  int ep = vtas_epoll_create(1);
  int dup_fd = vtas_dup(p.client);
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u32 = 42;
  ASSERT_EQ(vtas_epoll_ctl(ep, EPOLL_CTL_ADD, p.client, &e), 0);
  vtas_close(p.client);  // the dup keeps the file (and the registration) alive
  p.client = -1;
  write_all(p.server, "x");
  epoll_event out[4];
  ASSERT_EQ(vtas_epoll_wait(ep, out, 4, 2000), 1);
  EXPECT_EQ(out[0].data.u32, 42u);
  vtas_close(dup_fd);
  write_all(p.server, "y");
  EXPECT_EQ(vtas_epoll_wait(ep, out, 4, 100), 0);
  vtas_close(ep);
}

TEST(SocketsUnit, BlockedReaderOnAnotherThreadWakesUp) {
  Pair p;
  for (int round = 0; round < 200; ++round) {
    std::string got;
    std::thread reader([&] { got = read_exactly(p.server, 3); });
    std::this_thread::sleep_for(std::chrono::microseconds(round % 7 * 50));
    write_all(p.client, "abc");
    reader.join();
    ASSERT_EQ(got, "abc") << "round " << round;
  }
}

TEST(SocketsUnit, ManyThreadsBlockOnTheirOwnSocketsWithoutLostWakeups) {
  constexpr int kThreads = 4, kRounds = 300;
  std::vector<std::unique_ptr<Pair>> pairs;
  for (int i = 0; i < kThreads; ++i) pairs.push_back(std::make_unique<Pair>());
  std::atomic<int> done{0};
  std::vector<std::thread> echoers, talkers;
  for (auto& p : pairs) {
    echoers.emplace_back([&p] {
      char c;
      while (vtas_read(p->server, &c, 1) == 1) {
        if (vtas_write(p->server, &c, 1) != 1) break;
      }
    });
    talkers.emplace_back([&p, &done] {
      for (int r = 0; r < kRounds; ++r) {
        char c = static_cast<char>('a' + r % 26), back = 0;
        if (vtas_write(p->client, &c, 1) != 1 || vtas_read(p->client, &back, 1) != 1 || back != c) {
          return;
        }
      }
      done.fetch_add(1);
      vtas_shutdown(p->client, SHUT_WR);
    });
  }
  for (auto& t : talkers) t.join();
  for (auto& t : echoers) t.join();
  EXPECT_EQ(done.load(), kThreads);
}

TEST(SocketsUnit, ClosingWithUnreadDataResetsThePeer) {
  Pair p;
  write_all(p.client, "unread");
  pollfd pfd{p.server, POLLIN, 0};
  ASSERT_EQ(vtas_poll(&pfd, 1, 2000), 1);
  vtas_close(p.server);
  p.server = -1;
  pollfd c{p.client, POLLIN, 0};
  ASSERT_EQ(vtas_poll(&c, 1, 2000), 1);
  EXPECT_TRUE(c.revents & POLLERR) << c.revents;
  char buf[8];
  EXPECT_EQ(vtas_read(p.client, buf, sizeof(buf)), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(vtas_send(p.client, "z", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
}

TEST(SocketsUnit, ShutdownWriteGivesThePeerEndOfStreamAndKeepsReceiving) {
  Pair p;
  write_all(p.client, "last words");
  ASSERT_EQ(vtas_shutdown(p.client, SHUT_WR), 0);
  EXPECT_EQ(read_exactly(p.server, 10), "last words");
  char c;
  EXPECT_EQ(vtas_read(p.server, &c, 1), 0);
  write_all(p.server, "reply");
  EXPECT_EQ(read_exactly(p.client, 5), "reply");
  pollfd pfd{p.server, POLLIN | POLLRDHUP, 0};
  ASSERT_EQ(vtas_poll(&pfd, 1, 0), 1);
  EXPECT_EQ(pfd.revents, POLLIN | POLLRDHUP);  // only the bits asked for, as Linux
}

TEST(SocketsUnit, ServiceResetIsReportedOnceThenEndOfStream) {
  Pair p;
  sockaddr_in self{};
  socklen_t len = sizeof(self);
  ASSERT_EQ(vtas_getsockname(p.client, reinterpret_cast<sockaddr*>(&self), &len), 0);
  ASSERT_TRUE(g_service->reset_connection_on_port(ntohs(self.sin_port)));
  char c;
  EXPECT_EQ(vtas_read(p.client, &c, 1), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(vtas_read(p.client, &c, 1), 0);
}

TEST(SocketsUnit, ClosingAListenerResetsQueuedConnections) {
  uint16_t port = 0;
  int l = make_listener(&port);
  int c = connect_to(port);
  pollfd lp{l, POLLIN, 0};
  ASSERT_EQ(vtas_poll(&lp, 1, 2000), 1);
  vtas_close(l);
  char buf;
  pollfd cp{c, POLLIN, 0};
  ASSERT_EQ(vtas_poll(&cp, 1, 2000), 1);
  EXPECT_EQ(vtas_read(c, &buf, 1), -1);
  EXPECT_EQ(errno, ECONNRESET);
  vtas_close(c);
}

TEST(SocketsUnit, PollWakesForEitherAPipeOrAVtasSocket) {
  Pair p;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pollfd fds[2] = {{p.server, POLLIN, 0}, {pipe_fds[0], POLLIN, 0}};
  std::thread pipe_writer([&] {
    std::this_thread::sleep_for(50ms);
    (void)!::write(pipe_fds[1], "p", 1);
  });
  ASSERT_EQ(vtas_poll(fds, 2, 5000), 1);
  EXPECT_EQ(fds[1].revents, POLLIN);
  pipe_writer.join();
  char c;
  ASSERT_EQ(::read(pipe_fds[0], &c, 1), 1);
  std::thread socket_writer([&] {
    std::this_thread::sleep_for(50ms);
    write_all(p.client, "s");
  });
  ASSERT_EQ(vtas_poll(fds, 2, 5000), 1);
  EXPECT_EQ(fds[0].revents, POLLIN);
  socket_writer.join();
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST(SocketsUnit, SocketsOfOtherFamiliesAndAddressesStayWithTheKernel) {
  int u = vtas_socket(AF_UNIX, SOCK_STREAM, 0);
  int d = vtas_socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_EQ(vtas_sockets_is_vtas(u), 0);
  EXPECT_EQ(vtas_sockets_is_vtas(d), 0);
  int t = vtas_socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in loop{};
  loop.sin_family = AF_INET;
  loop.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(vtas_bind(t, reinterpret_cast<sockaddr*>(&loop), sizeof(loop)), 0);
  EXPECT_EQ(vtas_sockets_is_vtas(t), 0);  // handed to the kernel
  int c = vtas_socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in elsewhere = service_addr(9);
  elsewhere.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // not vtas's network
  EXPECT_EQ(vtas_connect(c, reinterpret_cast<sockaddr*>(&elsewhere), sizeof(elsewhere)), -1);
  EXPECT_EQ(errno, ECONNREFUSED);  // by the kernel
  EXPECT_EQ(vtas_sockets_is_vtas(c), 0);
  for (int fd : {u, d, t, c}) vtas_close(fd);
}

}  // namespace
}  // namespace vtas::sockets::testing
