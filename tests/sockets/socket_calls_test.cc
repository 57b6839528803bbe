// socket_calls_test: every socket call of the issue, with the results Linux gives, run twice
// by run_socket_calls_test.sh with the same expectations:
//   SOCKETS_MODE=kernel  plain Linux (program and peer in a namespace, over loopback)
//   SOCKETS_MODE=vtas    under LD_PRELOAD=libvtas_interpose.so against the Linux peer
//                        (tests/sockets/sockets_peer.cc) across vtas
// In vtas mode every test also checks that its TCP sockets really are vtas's.
// Environment: PEER_IP, PEER_BASE (the peer's first port), SOCKETS_MODE.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

enum Service {
  kEcho = 0,
  kSource = 1,
  kReset = 2,
  kCallback = 3,
  kSink = 4,
  kSilent = 5,
  kDelayed = 6
};
constexpr int kClosedPortOffset = 9;

std::string env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v ? v : fallback;
}

bool vtas_mode() {
  return env("SOCKETS_MODE", "kernel") == "vtas";
}

sockaddr_in peer_addr(int offset) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::atoi(env("PEER_BASE", "7100").c_str()) + offset));
  inet_pton(AF_INET, env("PEER_IP", "127.0.0.1").c_str(), &a.sin_addr);
  return a;
}

// 1 if libvtas_interpose.so serves `fd` (vtas mode), else 0; -1 without the library.
int is_vtas(int fd) {
  using Fn = int (*)(int);
  static auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "vtas_sockets_is_vtas"));
  return fn == nullptr ? -1 : fn(fd);
}

void expect_served_right(int fd) {
  if (vtas_mode()) {
    EXPECT_EQ(is_vtas(fd), 1) << "fd " << fd << " is not a vtas socket";
  } else {
    EXPECT_NE(is_vtas(fd), 1);
  }
}

int connect_to(int offset, int type_flags = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | type_flags, 0);
  EXPECT_GE(fd, 0) << strerror(errno);
  sockaddr_in a = peer_addr(offset);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
  expect_served_right(fd);
  return fd;
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    ASSERT_GT(n, 0) << strerror(errno);
    off += static_cast<size_t>(n);
  }
}

std::string read_exactly(int fd, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, out.data() + got, n - got);
    if (r < 0) ADD_FAILURE() << "read: " << strerror(errno);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return out;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

bool wait_readable(int fd, int ms = 5000) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

std::atomic<int> g_signals{0};
void count_signal(int) {
  g_signals.fetch_add(1);
}

// A listening socket on INADDR_ANY, ephemeral port (returned in *port).
int listen_any(uint16_t* port, int type_flags = 0) {
  int l = ::socket(AF_INET, SOCK_STREAM | type_flags, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  EXPECT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
  EXPECT_EQ(::listen(l, 16), 0) << strerror(errno);
  socklen_t len = sizeof(a);
  EXPECT_EQ(::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len), 0);
  *port = ntohs(a.sin_port);
  return l;
}

// Asks the peer to connect back to `port`; returns the control connection.
int request_callback(uint16_t port) {
  int c = connect_to(kCallback);
  write_all(c, std::to_string(port) + "\n");
  return c;
}

// ---- connect, data, addresses ----------------------------------------------------------------

TEST(SocketCalls, ConnectEchoAndAddresses) {
  int fd = connect_to(kEcho);
  sockaddr_in peer{}, self{};
  socklen_t len = sizeof(peer);
  ASSERT_EQ(::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len), 0);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  sockaddr_in expected = peer_addr(kEcho);
  EXPECT_EQ(peer.sin_addr.s_addr, expected.sin_addr.s_addr);
  EXPECT_EQ(peer.sin_port, expected.sin_port);
  len = sizeof(self);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len), 0);
  EXPECT_EQ(self.sin_family, AF_INET);
  EXPECT_NE(self.sin_port, 0);
  write_all(fd, "hello vtas");
  EXPECT_EQ(read_exactly(fd, 10), "hello vtas");
  EXPECT_EQ(::close(fd), 0);
}

TEST(SocketCalls, BlockingConnectRefused) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = peer_addr(kClosedPortOffset);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ::close(fd);
}

TEST(SocketCalls, NonBlockingConnect) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a = peer_addr(kEcho);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ASSERT_TRUE(rc == 0 || errno == EINPROGRESS) << strerror(errno);
  expect_served_right(fd);
  pollfd p{fd, POLLOUT, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_EQ(p.revents, POLLOUT);
  int err = -1;
  socklen_t len = sizeof(err);
  ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);
  // Linux reports the completed connect once more, then EISCONN.
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), -1);
  EXPECT_EQ(errno, EISCONN);
  write_all(fd, "x");
  ASSERT_TRUE(wait_readable(fd));
  char c = 0;
  EXPECT_EQ(::read(fd, &c, 1), 1);
  EXPECT_EQ(c, 'x');
  ::close(fd);
}

TEST(SocketCalls, NonBlockingConnectRefused) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a = peer_addr(kClosedPortOffset);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ASSERT_TRUE(rc == -1 && errno == EINPROGRESS) << strerror(errno);
  pollfd p{fd, POLLIN | POLLOUT, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_TRUE(p.revents & POLLERR) << p.revents;
  EXPECT_TRUE(p.revents & POLLHUP) << p.revents;
  int err = 0;
  socklen_t len = sizeof(err);
  ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, ECONNREFUSED);
  ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);  // reported once
  ::close(fd);
}

TEST(SocketCalls, ReadvWritevSendmsgRecvmsg) {
  int fd = connect_to(kEcho);
  char a[] = "abc", b[] = "defgh", c[] = "ij";
  iovec out[3] = {{a, 3}, {b, 5}, {c, 2}};
  EXPECT_EQ(::writev(fd, out, 3), 10);
  char x[4], y[6];
  iovec in[2] = {{x, 4}, {y, 6}};
  size_t got = 0;
  while (got < 10) {
    ASSERT_TRUE(wait_readable(fd));
    std::vector<iovec> rest;
    size_t skip = got;
    for (auto& v : in) {
      if (skip >= v.iov_len) {
        skip -= v.iov_len;
        continue;
      }
      rest.push_back({static_cast<char*>(v.iov_base) + skip, v.iov_len - skip});
      skip = 0;
    }
    ssize_t n = ::readv(fd, rest.data(), static_cast<int>(rest.size()));
    ASSERT_GT(n, 0);
    got += static_cast<size_t>(n);
  }
  EXPECT_EQ(std::string(x, 4) + std::string(y, 6), "abcdefghij");

  char m[] = "message";
  iovec mv{m, 7};
  msghdr msg{};
  msg.msg_iov = &mv;
  msg.msg_iovlen = 1;
  EXPECT_EQ(::sendmsg(fd, &msg, 0), 7);
  char r[7];
  iovec rv{r, 7};
  msghdr rmsg{};
  rmsg.msg_iov = &rv;
  rmsg.msg_iovlen = 1;
  EXPECT_EQ(::recvmsg(fd, &rmsg, MSG_WAITALL), 7);
  EXPECT_EQ(std::string(r, 7), "message");
  EXPECT_EQ(rmsg.msg_flags, 0);
  ::close(fd);
}

TEST(SocketCalls, SendRecvFlags) {
  int fd = connect_to(kEcho);
  char buf[16];
  EXPECT_EQ(::recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(::send(fd, "peekaboo", 8, 0), 8);
  ASSERT_TRUE(wait_readable(fd));
  ssize_t n = ::recv(fd, buf, 4, MSG_PEEK);
  EXPECT_EQ(n, 4);
  EXPECT_EQ(std::string(buf, 4), "peek");
  EXPECT_EQ(::recv(fd, buf, 8, MSG_WAITALL), 8);
  EXPECT_EQ(std::string(buf, 8), "peekaboo");
  EXPECT_EQ(::sendto(fd, "to", 2, 0, nullptr, 0), 2);
  sockaddr_in from{};
  socklen_t len = sizeof(from);
  EXPECT_EQ(::recvfrom(fd, buf, 2, MSG_WAITALL, reinterpret_cast<sockaddr*>(&from), &len), 2);
  EXPECT_EQ(std::string(buf, 2), "to");
  EXPECT_EQ(::recv(fd, buf, 1, MSG_OOB), -1);
  EXPECT_EQ(errno, EINVAL);
  ::close(fd);
}

TEST(SocketCalls, WaitallReceivesAMegabyteInPieces) {
  int fd = connect_to(kSource);
  write_all(fd, "1048576\n");
  std::string data(1 << 20, '\0');
  EXPECT_EQ(::recv(fd, data.data(), data.size(), MSG_WAITALL), 1 << 20);
  EXPECT_EQ(data, pattern(1 << 20));
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 0);  // then the end of the stream
  ::close(fd);
}

TEST(SocketCalls, EndOfStreamAndRdhup) {
  int fd = connect_to(kSource);
  write_all(fd, "1000\n");
  EXPECT_EQ(read_exactly(fd, 1000), pattern(1000));
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_EQ(p.revents, POLLIN | POLLRDHUP);
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 0);
  EXPECT_EQ(::read(fd, &c, 1), 0);
  EXPECT_EQ(::write(fd, "y", 1), 1);  // half-closed: we may still send
  ::close(fd);
}

TEST(SocketCalls, ResetByPeerThenEpipe) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = count_signal;
  sigaction(SIGPIPE, &sa, &old);
  g_signals = 0;
  int fd = connect_to(kReset);
  write_all(fd, "go\n");
  ASSERT_TRUE(wait_readable(fd));
  char c;
  EXPECT_EQ(::read(fd, &c, 1), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(::read(fd, &c, 1), 0);
  EXPECT_EQ(::send(fd, "z", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(g_signals.load(), 0);
  EXPECT_EQ(::write(fd, "z", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(g_signals.load(), 1);
  ::close(fd);
  sigaction(SIGPIPE, &old, nullptr);
}

TEST(SocketCalls, ShutdownWrite) {
  int fd = connect_to(kSink);
  write_all(fd, std::string(100000, 'q'));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  EXPECT_EQ(read_line(fd), "count=100000");
  EXPECT_EQ(::send(fd, "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(::shutdown(fd, 7), -1);
  EXPECT_EQ(errno, EINVAL);
  ::close(fd);
  int unconnected = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(::shutdown(unconnected, SHUT_RDWR), -1);
  EXPECT_EQ(errno, ENOTCONN);
  char c;
  EXPECT_EQ(::read(unconnected, &c, 1), 0);  // what Linux answers for a never-connected socket
  ::close(unconnected);
}

// ---- listen, accept ----------------------------------------------------------------------------

TEST(SocketCalls, ListenAcceptAndAccept4) {
  uint16_t port = 0;
  int l = listen_any(&port);
  expect_served_right(l);
  EXPECT_NE(port, 0);
  int on = 0;
  socklen_t len = sizeof(on);
  ASSERT_EQ(::getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &on, &len), 0);
  EXPECT_EQ(on, 1);
  int control = request_callback(port);
  sockaddr_in from{};
  len = sizeof(from);
  int a = ::accept(l, reinterpret_cast<sockaddr*>(&from), &len);
  ASSERT_GE(a, 0) << strerror(errno);
  expect_served_right(a);
  EXPECT_EQ(from.sin_addr.s_addr, peer_addr(0).sin_addr.s_addr);
  EXPECT_EQ(read_line(a), "hello");
  EXPECT_EQ(::fcntl(a, F_GETFL) & O_NONBLOCK, 0);
  ::close(a);
  ::close(control);

  control = request_callback(port);
  ASSERT_TRUE(wait_readable(l));
  int b = ::accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  ASSERT_GE(b, 0) << strerror(errno);
  EXPECT_NE(::fcntl(b, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(b, F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_TRUE(wait_readable(b));
  EXPECT_EQ(read_line(b), "hello");
  ::close(b);
  ::close(control);
  EXPECT_EQ(::accept4(l, nullptr, nullptr, 0x40000000), -1);
  EXPECT_EQ(errno, EINVAL);
  ::close(l);
}

TEST(SocketCalls, NonBlockingAcceptAndBindErrors) {
  uint16_t port = 0;
  int l = listen_any(&port, SOCK_NONBLOCK);
  EXPECT_EQ(::accept(l, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  int other = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  EXPECT_EQ(::bind(other, reinterpret_cast<sockaddr*>(&a), sizeof(a)), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  ::close(other);
  sockaddr_in b{};
  b.sin_family = AF_INET;
  EXPECT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&b), sizeof(b)), -1);
  EXPECT_EQ(errno, EINVAL);  // already bound
  int connected = connect_to(kEcho);
  EXPECT_EQ(::accept(connected, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  ::close(connected);
  ::close(l);
}

TEST(SocketCalls, LoopbackClientsReachAListenerAndListenConflictsAreLinuxs) {
  uint16_t port = 0;
  int l = listen_any(&port);
  expect_served_right(l);
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
  int s = ::accept(l, nullptr, nullptr);
  ASSERT_GE(s, 0) << strerror(errno);
  write_all(c, "local");
  EXPECT_EQ(read_exactly(s, 5), "local");
  ::close(s);
  ::close(c);
  // SO_REUSEADDR lets two sockets bind the port; only one may listen.
  int x = ::socket(AF_INET, SOCK_STREAM, 0), y = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ::setsockopt(y, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in any{};
  any.sin_family = AF_INET;
  ASSERT_EQ(::bind(x, reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0);
  socklen_t len = sizeof(any);
  ASSERT_EQ(::getsockname(x, reinterpret_cast<sockaddr*>(&any), &len), 0);
  ASSERT_EQ(::bind(y, reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0) << strerror(errno);
  ASSERT_EQ(::listen(x, 4), 0);
  EXPECT_EQ(::listen(y, 4), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  for (int fd : {x, y, l}) ::close(fd);
}

// ---- options, fcntl, ioctl ---------------------------------------------------------------------

TEST(SocketCalls, SocketOptions) {
  int fd = connect_to(kEcho);
  auto set = [&](int level, int name, int value) {
    return ::setsockopt(fd, level, name, &value, sizeof(value));
  };
  auto get = [&](int level, int name) {
    int value = -1;
    socklen_t len = sizeof(value);
    EXPECT_EQ(::getsockopt(fd, level, name, &value, &len), 0) << level << "/" << name;
    return value;
  };
  for (auto [level, name] : {std::pair{SOL_SOCKET, SO_REUSEADDR},
                             {SOL_SOCKET, SO_REUSEPORT},
                             {SOL_SOCKET, SO_KEEPALIVE},
                             {IPPROTO_TCP, TCP_NODELAY},
                             {IPPROTO_TCP, TCP_CORK}}) {
    EXPECT_EQ(set(level, name, 1), 0);
    EXPECT_EQ(get(level, name), 1) << level << "/" << name;
    EXPECT_EQ(set(level, name, 0), 0);
    EXPECT_EQ(get(level, name), 0);
  }
  for (auto name : {TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT}) {
    EXPECT_EQ(set(IPPROTO_TCP, name, 7), 0);
    EXPECT_EQ(get(IPPROTO_TCP, name), 7);
  }
  EXPECT_EQ(set(SOL_SOCKET, SO_RCVBUF, 65536), 0);
  EXPECT_GE(get(SOL_SOCKET, SO_RCVBUF), 65536);
  EXPECT_EQ(set(SOL_SOCKET, SO_SNDBUF, 65536), 0);
  EXPECT_GE(get(SOL_SOCKET, SO_SNDBUF), 65536);
  EXPECT_EQ(get(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  EXPECT_EQ(get(SOL_SOCKET, SO_ERROR), 0);
  EXPECT_EQ(get(SOL_SOCKET, SO_ACCEPTCONN), 0);
  linger lg{1, 5};
  EXPECT_EQ(::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  linger back{};
  socklen_t len = sizeof(back);
  EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, SO_LINGER, &back, &len), 0);
  EXPECT_EQ(back.l_onoff, 1);
  EXPECT_EQ(back.l_linger, 5);
  int v6only = 1;
  EXPECT_EQ(::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)), -1);
  EXPECT_EQ(errno, ENOPROTOOPT);  // an IPv4 socket
  tcp_info info{};
  len = sizeof(info);
  ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  EXPECT_EQ(info.tcpi_state, TCP_ESTABLISHED);
  // Data still flows with every option set.
  write_all(fd, "after options");
  EXPECT_EQ(read_exactly(fd, 13), "after options");
  ::close(fd);
}

TEST(SocketCalls, FcntlAndIoctl) {
  int fd = connect_to(kEcho);
  int flags = ::fcntl(fd, F_GETFL);
  EXPECT_EQ(flags & O_NONBLOCK, 0);
  EXPECT_EQ(::fcntl(fd, F_SETFL, flags | O_NONBLOCK), 0);
  EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  char c;
  EXPECT_EQ(::read(fd, &c, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(::fcntl(fd, F_SETFL, flags), 0);
  EXPECT_EQ(::fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
  EXPECT_EQ(::fcntl(fd, F_GETFD), FD_CLOEXEC);
  int on = 1;
  EXPECT_EQ(::ioctl(fd, FIONBIO, &on), 0);
  EXPECT_EQ(::recv(fd, &c, 1, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  on = 0;
  EXPECT_EQ(::ioctl(fd, FIONBIO, &on), 0);
  write_all(fd, "12345");
  ASSERT_TRUE(wait_readable(fd));
  int avail = 0;
  for (int i = 0; i < 100 && avail < 5; ++i) {  // the echo may come in pieces
    ASSERT_EQ(::ioctl(fd, FIONREAD, &avail), 0);
    if (avail < 5) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(avail, 5);
  EXPECT_EQ(read_exactly(fd, 5), "12345");
  ASSERT_EQ(::ioctl(fd, FIONREAD, &avail), 0);
  EXPECT_EQ(avail, 0);
  ::close(fd);
}

TEST(SocketCalls, DupDup2Dup3) {
  int fd = connect_to(kSink);
  int d = ::dup(fd);
  ASSERT_GE(d, 0);
  expect_served_right(d);
  write_all(d, "abc");
  int target = ::open("/dev/null", O_RDONLY);
  ASSERT_EQ(::dup2(fd, target), target);
  expect_served_right(target);
  write_all(target, "de");
  int d3 = ::dup3(fd, target + 1, O_CLOEXEC);
  ASSERT_EQ(d3, target + 1);
  EXPECT_EQ(::fcntl(d3, F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(::fcntl(fd, F_GETFD), 0);
  int f = ::fcntl(fd, F_DUPFD_CLOEXEC, 100);
  ASSERT_GE(f, 100);
  expect_served_right(f);
  // The connection lives while any descriptor does.
  EXPECT_EQ(::close(fd), 0);
  EXPECT_EQ(::close(target), 0);
  EXPECT_EQ(::close(d3), 0);
  write_all(f, "f");
  EXPECT_EQ(::close(f), 0);
  ASSERT_EQ(::shutdown(d, SHUT_WR), 0);
  EXPECT_EQ(read_line(d), "count=6");
  EXPECT_EQ(::close(d), 0);
  EXPECT_EQ(::close(d), -1);
  EXPECT_EQ(errno, EBADF);
}

// ---- poll, select, epoll with kernel descriptors ------------------------------------------------

struct KernelFds {
  int pipe_r = -1, pipe_w = -1, event = -1, timer = -1, unix_a = -1, unix_b = -1;
  KernelFds() {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    pipe_r = p[0];
    pipe_w = p[1];
    event = ::eventfd(0, EFD_NONBLOCK);
    timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    int u[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, u), 0);
    unix_a = u[0];
    unix_b = u[1];
  }
  ~KernelFds() {
    for (int fd : {pipe_r, pipe_w, event, timer, unix_a, unix_b}) ::close(fd);
  }
  void arm_timer(int ms) {
    itimerspec t{};
    t.it_value.tv_nsec = ms * 1000000L;
    EXPECT_EQ(::timerfd_settime(timer, 0, &t, nullptr), 0);
  }
};

TEST(SocketCalls, PollMixesVtasAndKernelDescriptors) {
  KernelFds k;
  int fd = connect_to(kEcho);
  pollfd p[5] = {{fd, POLLIN, 0},
                 {k.pipe_r, POLLIN, 0},
                 {k.event, POLLIN, 0},
                 {k.timer, POLLIN, 0},
                 {k.unix_a, POLLIN, 0}};
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(::poll(p, 5, 100), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(90));
  ASSERT_EQ(::write(k.pipe_w, "p", 1), 1);
  EXPECT_EQ(::poll(p, 5, 1000), 1);
  EXPECT_EQ(p[1].revents, POLLIN);
  EXPECT_EQ(p[0].revents, 0);
  char c;
  ASSERT_EQ(::read(k.pipe_r, &c, 1), 1);
  k.arm_timer(50);  // the timer wakes a blocked poll
  EXPECT_EQ(::poll(p, 5, 5000), 1);
  EXPECT_EQ(p[3].revents, POLLIN);
  uint64_t ticks;
  ASSERT_EQ(::read(k.timer, &ticks, 8), 8);
  ASSERT_EQ(::write(k.unix_b, "u", 1), 1);
  write_all(fd, "s");
  int n = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (n < 2 && std::chrono::steady_clock::now() < give_up) n = ::poll(p, 5, 100);
  EXPECT_EQ(n, 2) << p[0].revents << " " << p[1].revents << " " << p[2].revents << " "
                  << p[3].revents << " " << p[4].revents;
  EXPECT_EQ(p[0].revents, POLLIN);
  EXPECT_EQ(p[4].revents, POLLIN);
  uint64_t one = 1;
  ASSERT_EQ(::write(k.event, &one, 8), 8);
  pollfd out{fd, POLLOUT, 0};
  EXPECT_EQ(::poll(&out, 1, 0), 1);
  EXPECT_EQ(out.revents, POLLOUT);
  ::close(fd);
}

TEST(SocketCalls, PpollIsInterruptedBySignal) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = count_signal;
  sigaction(SIGUSR1, &sa, &old);
  sigset_t block, unblocked;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigset_t saved;
  pthread_sigmask(SIG_BLOCK, &block, &saved);
  sigemptyset(&unblocked);
  int fd = connect_to(kSilent);
  write_all(fd, "x\n");
  pthread_t self = pthread_self();
  std::thread killer([self] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pthread_kill(self, SIGUSR1);
  });
  pollfd p{fd, POLLIN, 0};
  timespec five{5, 0};
  g_signals = 0;
  EXPECT_EQ(::ppoll(&p, 1, &five, &unblocked), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(g_signals.load(), 1);
  killer.join();
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  sigaction(SIGUSR1, &old, nullptr);
  ::close(fd);
}

TEST(SocketCalls, SelectAndPselect) {
  KernelFds k;
  int fd = connect_to(kEcho);
  fd_set r, w;
  FD_ZERO(&r);
  FD_SET(fd, &r);
  FD_SET(k.pipe_r, &r);
  timeval tv{0, 50000};
  EXPECT_EQ(::select(std::max(fd, k.pipe_r) + 1, &r, nullptr, nullptr, &tv), 0);
  FD_ZERO(&r);
  FD_SET(fd, &r);
  FD_SET(k.pipe_r, &r);
  FD_ZERO(&w);
  FD_SET(fd, &w);
  tv = {1, 0};
  EXPECT_EQ(::select(std::max(fd, k.pipe_r) + 1, &r, &w, nullptr, &tv), 1);
  EXPECT_TRUE(FD_ISSET(fd, &w));
  EXPECT_FALSE(FD_ISSET(fd, &r));
  write_all(fd, "e");
  ASSERT_EQ(::write(k.pipe_w, "p", 1), 1);
  int n = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (n < 2 && std::chrono::steady_clock::now() < give_up) {
    FD_ZERO(&r);
    FD_SET(fd, &r);
    FD_SET(k.pipe_r, &r);
    timespec ts{0, 100000000};
    n = ::pselect(std::max(fd, k.pipe_r) + 1, &r, nullptr, nullptr, &ts, nullptr);
  }
  EXPECT_EQ(n, 2);
  EXPECT_TRUE(FD_ISSET(fd, &r));
  EXPECT_TRUE(FD_ISSET(k.pipe_r, &r));
  ::close(fd);
}

std::vector<epoll_event> epoll_collect(int ep, int timeout_ms) {
  epoll_event ev[16];
  int n = ::epoll_wait(ep, ev, 16, timeout_ms);
  EXPECT_GE(n, 0) << strerror(errno);
  return std::vector<epoll_event>(ev, ev + std::max(n, 0));
}

bool has(const std::vector<epoll_event>& evs, uint64_t tag, uint32_t bits) {
  for (const auto& e : evs) {
    if (e.data.u64 == tag && (e.events & bits) == bits) return true;
  }
  return false;
}

TEST(SocketCalls, EpollLevelTriggeredWithKernelDescriptors) {
  KernelFds k;
  int fd = connect_to(kEcho);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  auto add = [&](int f, uint32_t events, uint64_t tag) {
    epoll_event e{};
    e.events = events;
    e.data.u64 = tag;
    return ::epoll_ctl(ep, EPOLL_CTL_ADD, f, &e);
  };
  ASSERT_EQ(add(fd, EPOLLIN, 1), 0);
  ASSERT_EQ(add(k.pipe_r, EPOLLIN, 2), 0);
  ASSERT_EQ(add(k.event, EPOLLIN, 3), 0);
  ASSERT_EQ(add(k.timer, EPOLLIN, 4), 0);
  EXPECT_TRUE(epoll_collect(ep, 50).empty());
  write_all(fd, "lt");
  k.arm_timer(20);
  std::vector<epoll_event> evs;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!(has(evs, 1, EPOLLIN) && has(evs, 4, EPOLLIN)) &&
         std::chrono::steady_clock::now() < give_up) {
    auto more = epoll_collect(ep, 100);
    evs.insert(evs.end(), more.begin(), more.end());
  }
  EXPECT_TRUE(has(evs, 1, EPOLLIN));
  EXPECT_TRUE(has(evs, 4, EPOLLIN));
  // Level-triggered: reported again while unread.
  EXPECT_TRUE(has(epoll_collect(ep, 0), 1, EPOLLIN));
  EXPECT_EQ(read_exactly(fd, 2), "lt");
  uint64_t ticks;
  ASSERT_EQ(::read(k.timer, &ticks, 8), 8);
  EXPECT_TRUE(epoll_collect(ep, 50).empty());
  uint64_t one = 1;
  ASSERT_EQ(::write(k.event, &one, 8), 8);
  evs = epoll_collect(ep, 1000);
  EXPECT_EQ(evs.size(), 1u);
  EXPECT_TRUE(has(evs, 3, EPOLLIN));
  EXPECT_EQ(add(fd, EPOLLIN, 1), -1);
  EXPECT_EQ(errno, EEXIST);
  epoll_event e{};
  EXPECT_EQ(::epoll_ctl(ep, EPOLL_CTL_MOD, k.unix_a, &e), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(::epoll_ctl(ep, EPOLL_CTL_DEL, k.unix_a, nullptr), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr), 0);
  EXPECT_EQ(::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e), -1);
  EXPECT_EQ(errno, ENOENT);
  ::close(ep);
  ::close(fd);
}

TEST(SocketCalls, EpollEdgeTriggeredAndOneshot) {
  int fd = connect_to(kEcho);
  int ep = ::epoll_create(1);
  epoll_event e{};
  e.events = EPOLLIN | EPOLLOUT | EPOLLET;
  e.data.u64 = 7;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
  auto evs = epoll_collect(ep, 1000);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].events, static_cast<uint32_t>(EPOLLOUT));  // writable once
  EXPECT_TRUE(epoll_collect(ep, 50).empty());                 // no new edge
  write_all(fd, "a");
  evs = epoll_collect(ep, 2000);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_TRUE(evs[0].events & EPOLLIN);
  EXPECT_TRUE(epoll_collect(ep, 50).empty());  // unread, but no new edge
  write_all(fd, "b");
  evs = epoll_collect(ep, 2000);  // new data: a new edge
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_TRUE(evs[0].events & EPOLLIN);
  std::string got;
  while (got.size() < 2) {
    ASSERT_TRUE(wait_readable(fd));
    got += read_exactly(fd, 1);
  }
  EXPECT_EQ(got, "ab");

  e.events = EPOLLIN | EPOLLONESHOT;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e), 0);
  write_all(fd, "c");
  evs = epoll_collect(ep, 2000);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_TRUE(epoll_collect(ep, 50).empty());  // disabled until MOD
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e), 0);
  EXPECT_EQ(epoll_collect(ep, 1000).size(), 1u);
  ::close(ep);
  ::close(fd);
}

TEST(SocketCalls, EpollPwaitIsInterruptedBySignal) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = count_signal;
  sigaction(SIGUSR2, &sa, &old);
  int fd = connect_to(kSilent);
  write_all(fd, "x\n");
  int ep = ::epoll_create1(0);
  epoll_event e{};
  e.events = EPOLLIN;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
  pthread_t self = pthread_self();
  std::thread killer([self] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pthread_kill(self, SIGUSR2);
  });
  sigset_t none;
  sigemptyset(&none);
  epoll_event out[4];
  EXPECT_EQ(::epoll_pwait(ep, out, 4, 5000, &none), -1);
  EXPECT_EQ(errno, EINTR);
  killer.join();
  sigaction(SIGUSR2, &old, nullptr);
  ::close(ep);
  ::close(fd);
}

// ---- blocking behaviour ------------------------------------------------------------------------

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST(SocketCalls, BlockingReadSleepsAndWakesPromptly) {
  int fd = connect_to(kDelayed);
  write_all(fd, "400\n");
  const double cpu0 = thread_cpu_ms();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(read_line(fd), "late");
  const auto waited = std::chrono::steady_clock::now() - t0;
  const double cpu = thread_cpu_ms() - cpu0;
  EXPECT_GE(waited, std::chrono::milliseconds(350));
  EXPECT_LT(waited, std::chrono::milliseconds(1500));
  EXPECT_LT(cpu, 60.0) << "the blocked read burned CPU: busy polling";
  ::close(fd);
}

TEST(SocketCalls, BlockingReadEintrWithoutSaRestartAndRestartWith) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = count_signal;
  sigaction(SIGUSR1, &sa, &old);  // no SA_RESTART
  int fd = connect_to(kDelayed);
  write_all(fd, "600\n");
  pthread_t self = pthread_self();
  std::thread killer([self] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pthread_kill(self, SIGUSR1);
  });
  char c;
  EXPECT_EQ(::read(fd, &c, 1), -1);
  EXPECT_EQ(errno, EINTR);
  killer.join();
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  std::thread again([self] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pthread_kill(self, SIGUSR1);
  });
  EXPECT_EQ(read_line(fd), "late");  // restarted after the handler
  again.join();
  sigaction(SIGUSR1, &old, nullptr);
  ::close(fd);
}

TEST(SocketCalls, ReceiveTimeout) {
  int fd = connect_to(kSilent);
  write_all(fd, "x\n");
  timeval tv{0, 200000};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  auto t0 = std::chrono::steady_clock::now();
  char c;
  EXPECT_EQ(::read(fd, &c, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(180));
  ::close(fd);
}

TEST(SocketCalls, ThreadsShareSockets) {
  int fd = connect_to(kEcho);
  std::string received;
  std::thread reader([&] { received = read_exactly(fd, 200000); });
  std::thread writer([&] { write_all(fd, pattern(200000)); });
  writer.join();
  reader.join();
  EXPECT_EQ(received, pattern(200000));
  ::close(fd);
}

TEST(SocketCalls, CloseRangeClosesVtasSockets) {
  int fd = connect_to(kSink);
  write_all(fd, "0123456789");
  int d = ::dup(fd);
  ASSERT_GE(d, 0);
  // close_range over both descriptors: the connection ends (the sink answers nothing more to
  // us, so look at the descriptors).
  const int lo = std::min(fd, d), hi = std::max(fd, d);
  ASSERT_EQ(::close_range(static_cast<unsigned>(lo), static_cast<unsigned>(hi), 0), 0);
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(::fcntl(d, F_GETFD), -1);
  // A new socket reuses the numbers and works.
  int again = connect_to(kEcho);
  write_all(again, "re");
  EXPECT_EQ(read_exactly(again, 2), "re");
  ::close(again);
}

TEST(SocketCalls, EpollServesTwentyConnectionsEdgeTriggered) {
  uint16_t port = 0;
  int l = listen_any(&port, SOCK_NONBLOCK);
  int ep = ::epoll_create1(0);
  epoll_event e{};
  e.events = EPOLLIN | EPOLLET;
  e.data.fd = l;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, l, &e), 0);
  constexpr int kConns = 20;
  std::vector<int> controls;
  for (int i = 0; i < kConns; ++i) controls.push_back(request_callback(port));
  int hellos = 0;
  std::vector<int> accepted;
  std::map<int, std::string> partial;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (hellos < kConns && std::chrono::steady_clock::now() < give_up) {
    epoll_event out[32];
    int n = ::epoll_wait(ep, out, 32, 500);
    ASSERT_GE(n, 0);
    for (int i = 0; i < n; ++i) {
      if (out[i].data.fd == l) {
        for (;;) {  // edge-triggered: accept until EAGAIN
          int a = ::accept4(l, nullptr, nullptr, SOCK_NONBLOCK);
          if (a < 0) {
            EXPECT_EQ(errno, EAGAIN);
            break;
          }
          accepted.push_back(a);
          epoll_event ae{};
          ae.events = EPOLLIN | EPOLLET;
          ae.data.fd = a;
          ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, a, &ae), 0);
        }
        continue;
      }
      char buf[64];
      for (;;) {  // read until EAGAIN
        ssize_t r = ::read(out[i].data.fd, buf, sizeof(buf));
        if (r <= 0) break;
        partial[out[i].data.fd].append(buf, static_cast<size_t>(r));
        if (partial[out[i].data.fd] == "hello\n") ++hellos;
      }
    }
  }
  EXPECT_EQ(hellos, kConns);
  EXPECT_EQ(accepted.size(), static_cast<size_t>(kConns));
  for (int a : accepted) ::close(a);
  for (int c : controls) ::close(c);
  ::close(ep);
  ::close(l);
}

TEST(SocketCalls, EpollPwait2AndPpollTimeouts) {
  int fd = connect_to(kEcho);
  int ep = ::epoll_create1(0);
  epoll_event e{};
  e.events = EPOLLIN;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
  epoll_event out[2];
  timespec t{0, 30000000};
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(::epoll_pwait2(ep, out, 2, &t, nullptr), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(25));
  pollfd p{fd, POLLIN, 0};
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(::ppoll(&p, 1, &t, nullptr), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(25));
  write_all(fd, "w");
  timespec two{2, 0};
  EXPECT_EQ(::epoll_pwait2(ep, out, 2, &two, nullptr), 1);
  ::close(ep);
  ::close(fd);
}

// ---- sendfile, fork, exec ----------------------------------------------------------------------

TEST(SocketCalls, SendfileToASocket) {
  char path[] = "/tmp/vtas-sendfile.XXXXXX";
  int file = ::mkstemp(path);
  ASSERT_GE(file, 0);
  ::unlink(path);
  const std::string data = pattern(1 << 20);
  ASSERT_EQ(::write(file, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  int fd = connect_to(kSink);
  off_t offset = 0;
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::sendfile(fd, file, &offset, data.size() - sent);
    ASSERT_GT(n, 0) << strerror(errno);
    sent += static_cast<size_t>(n);
  }
  EXPECT_EQ(offset, static_cast<off_t>(data.size()));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  EXPECT_EQ(read_line(fd), "count=1048576");
  ::close(fd);
  ::close(file);
}

TEST(SocketCalls, ForkedChildAcceptsOnTheParentsListener) {
  uint16_t port = 0;
  int l = listen_any(&port);
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(report[0]);
    int a = ::accept(l, nullptr, nullptr);
    std::string line = a >= 0 ? read_line(a) : "accept failed";
    (void)!::write(report[1], line.data(), line.size());
    ::_exit(0);
  }
  ::close(report[1]);
  int control = request_callback(port);  // the peer retries while the child gets ready
  char buf[64] = {};
  ASSERT_TRUE(wait_readable(report[0], 10000));
  ssize_t n = ::read(report[0], buf, sizeof(buf));
  EXPECT_EQ(std::string(buf, std::max<ssize_t>(n, 0)), "hello");
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ::close(report[0]);
  ::close(control);
  ::close(l);
}

TEST(SocketCalls, ExecedProgramWithoutPreloadSurvivesAnInheritedSocket) {
  int fd = connect_to(kEcho);
  pid_t child = ::fork();
  if (child == 0) {
    ::unsetenv("LD_PRELOAD");
    ::dup2(fd, 5);
    // Reads the inherited descriptor; a broken or missing socket must not crash the shell.
    ::execl("/bin/sh", "sh", "-c", "cat <&5 >/dev/null 2>&1; exit 0", nullptr);
    ::_exit(127);
  }
  if (!vtas_mode()) ::shutdown(fd, SHUT_RDWR);  // Linux: the child shares it; end its cat
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status)) << "the exec'd program died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ::close(fd);
}

TEST(SocketCalls, KernelSocketsStayWithTheKernel) {
  int u = ::socket(AF_UNIX, SOCK_STREAM, 0);
  int d = ::socket(AF_INET, SOCK_DGRAM, 0);
  int six = ::socket(AF_INET6, SOCK_STREAM, 0);
  EXPECT_NE(is_vtas(u), 1);
  EXPECT_NE(is_vtas(d), 1);
  EXPECT_NE(is_vtas(six), 1);
  // Loopback TCP is the kernel's too.
  uint16_t port = 0;
  int l = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(l, 4), 0);
  EXPECT_NE(is_vtas(l), 1);
  socklen_t len = sizeof(a);
  ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
  EXPECT_NE(is_vtas(c), 1);
  int s = ::accept(l, nullptr, nullptr);
  ASSERT_GE(s, 0);
  write_all(c, "loop");
  EXPECT_EQ(read_exactly(s, 4), "loop");
  EXPECT_NE(port, 0);
  for (int fd : {u, d, six, l, c, s}) ::close(fd);
}

}  // namespace
