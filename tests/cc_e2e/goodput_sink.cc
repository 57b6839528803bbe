// goodput_sink: the receiving end of the congestion-control end-to-end tests, on Linux kernel
// sockets (it runs in the peer namespace). Accepts connections on PORT, reads and discards
// everything, and every INTERVAL ms prints, per connection (numbered in accept order from 0),
// the bytes received so far:
//
//   goodput_sink PORT [--interval-ms N]
//   listening PORT
//   t_us=<CLOCK_MONOTONIC us> conn=<i> bytes=<total>      (one line per connection per report)
//   closed conn=<i> bytes=<total>
//
// The tests compute each flow's goodput over a window from two reports. Runs until SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

volatile sig_atomic_t g_stop = 0;

uint64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

struct Conn {
  int index;
  uint64_t bytes = 0;
  bool open = true;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: goodput_sink PORT [--interval-ms N]\n");
    return 64;
  }
  const int port = std::atoi(argv[1]);
  long interval_ms = 100;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--interval-ms") == 0) interval_ms = std::atol(argv[++i]);
  }
  signal(SIGTERM, [](int) { g_stop = 1; });
  signal(SIGINT, [](int) { g_stop = 1; });

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 64) != 0) {
    std::perror("goodput_sink: bind/listen");
    return 1;
  }
  const int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::printf("listening %d\n", port);
  std::fflush(stdout);

  std::map<int, Conn> conns;  // by fd
  int next_index = 0;
  static char buffer[1 << 20];
  uint64_t next_report = now_us() + static_cast<uint64_t>(interval_ms) * 1000;
  while (!g_stop) {
    epoll_event events[32];
    const uint64_t now = now_us();
    const int timeout = next_report > now ? static_cast<int>((next_report - now) / 1000) + 1 : 0;
    const int n = ::epoll_wait(ep, events, 32, timeout);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        const int c = ::accept(listener, nullptr, nullptr);
        if (c < 0) continue;
        epoll_event cev{};
        cev.events = EPOLLIN;
        cev.data.fd = c;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        conns[c] = Conn{next_index++};
        continue;
      }
      auto found = conns.find(fd);
      if (found == conns.end()) continue;
      const ssize_t got = ::read(fd, buffer, sizeof buffer);
      if (got > 0) {
        found->second.bytes += static_cast<uint64_t>(got);
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        std::printf("closed conn=%d bytes=%llu\n", found->second.index,
                    static_cast<unsigned long long>(found->second.bytes));
        std::fflush(stdout);
        ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        found->second.open = false;
        conns.erase(found);
      }
    }
    if (now_us() >= next_report) {
      const uint64_t t = now_us();
      for (const auto& [fd, c] : conns) {
        std::printf("t_us=%llu conn=%d bytes=%llu\n", static_cast<unsigned long long>(t), c.index,
                    static_cast<unsigned long long>(c.bytes));
      }
      std::fflush(stdout);
      next_report = t + static_cast<uint64_t>(interval_ms) * 1000;
    }
  }
  return 0;
}
