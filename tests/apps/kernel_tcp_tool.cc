// kernel_tcp_tool: the same workloads as vtas_ll_tool, on Linux kernel sockets (epoll), so
// benchmarks and tests compare vtas and Linux with the same client and server code shape.
//
//   kernel_tcp_tool serve PORT [--echo | --sink]
//       "listening PORT"; per closed connection "closed bytes=<n> sha256=<hex>".
//   kernel_tcp_tool connect IP PORT [--conns N] [--bytes B] [--echo] [--requests R --size S]
//       As vtas_ll_tool: bulk transfer (sha256 of what was sent) or request/response round
//       trips with latency percentiles.
//   kernel_tcp_tool connect IP PORT --handshakes H [--conns N] [--size S]
//       Connection rate, as vtas_ll_tool: H connections, N at a time, each one request of S
//       bytes and its echo, then closed by us; "requests=H per_s=<connections/s> p50_us=..."
//       (latency: connect to the whole response).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tests/apps/latency_summary.h"
#include "tests/apps/sha256.h"

namespace {

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

struct Peer {
  vtas::testing::Sha256 sha;
  uint64_t bytes = 0;
  std::string pending;  // echo data not yet written
};

int serve(uint16_t port, bool echo) {
  int lst = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (bind(lst, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(lst, 1024) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  nonblocking(lst);
  int ep = epoll_create1(0);
  epoll_event ev{EPOLLIN, {.fd = lst}};
  epoll_ctl(ep, EPOLL_CTL_ADD, lst, &ev);
  std::printf("listening %u\n", port);
  std::fflush(stdout);
  std::map<int, Peer> peers;
  std::vector<char> buf(1 << 16);
  epoll_event events[64];
  while (true) {
    int n = epoll_wait(ep, events, 64, -1);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lst) {
        int c;
        while ((c = accept4(lst, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          epoll_event cev{EPOLLIN | EPOLLOUT | EPOLLET, {.fd = c}};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          peers[c];
        }
        continue;
      }
      Peer& p = peers[fd];
      bool closed = false;
      while (true) {
        if (!p.pending.empty()) {
          ssize_t w = write(fd, p.pending.data(), p.pending.size());
          if (w > 0) p.pending.erase(0, static_cast<size_t>(w));
          if (!p.pending.empty()) break;
        }
        ssize_t r = read(fd, buf.data(), buf.size());
        if (r > 0) {
          p.sha.update(buf.data(), static_cast<size_t>(r));
          p.bytes += static_cast<uint64_t>(r);
          if (echo) p.pending.append(buf.data(), static_cast<size_t>(r));
          continue;
        }
        if (r == 0) closed = true;
        break;
      }
      if (closed && p.pending.empty()) {
        std::printf("closed bytes=%llu sha256=%s\n", static_cast<unsigned long long>(p.bytes),
                    p.sha.hex().c_str());
        std::fflush(stdout);
        close(fd);
        peers.erase(fd);
      }
    }
  }
}

int connect_to(uint32_t ip, uint16_t port, int conns, uint64_t bytes, bool echo, uint64_t requests,
               size_t size) {
  std::vector<int> fds;
  for (int i = 0; i < conns; ++i) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(ip);
    if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      std::printf("open failed errno=%d\n", errno);
      return 1;
    }
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fds.push_back(s);
  }
  uint64_t start = now_ns();
  std::vector<uint64_t> rtts;
  int failed = 0;
  if (requests) {
    // Every connection does its own ping-pong: send a request, wait for the whole response,
    // send the next, until `requests` round trips are done in total (as vtas_ll_tool does).
    std::vector<char> req(size, 'q'), resp(size);
    int ep = epoll_create1(0);
    std::vector<uint64_t> sent_at(fds.size());
    std::vector<size_t> got(fds.size(), 0);
    uint64_t issued = 0, done = 0;
    for (size_t i = 0; i < fds.size(); ++i) {
      nonblocking(fds[i]);
      epoll_event ev{EPOLLIN, {.u64 = i}};
      epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
      if (issued < requests) {
        sent_at[i] = now_ns();
        if (write(fds[i], req.data(), size) != static_cast<ssize_t>(size)) ++failed;
        ++issued;
      }
    }
    epoll_event events[64];
    while (done < issued) {
      int n = epoll_wait(ep, events, 64, 10000);
      if (n <= 0) return 1;
      for (int e = 0; e < n; ++e) {
        size_t i = events[e].data.u64;
        ssize_t r = read(fds[i], resp.data(), size - got[i]);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (r <= 0) {
          // Closed or reset by the server: its request will never be answered. Say so and
          // stop waiting for it (a dead descriptor stays readable: it would spin forever).
          std::fprintf(stderr, "connection %zu: %s after %zu requests\n", i,
                       r == 0 ? "closed by the server" : std::strerror(errno), rtts.size());
          epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], nullptr);
          ++failed;
          --issued;
          continue;
        }
        got[i] += static_cast<size_t>(r);
        if (got[i] < size) continue;
        got[i] = 0;
        rtts.push_back(now_ns() - sent_at[i]);
        ++done;
        if (issued < requests) {
          sent_at[i] = now_ns();
          if (write(fds[i], req.data(), size) != static_cast<ssize_t>(size)) ++failed;
          ++issued;
        }
      }
    }
    close(ep);
  } else {
    std::vector<char> chunk(1 << 16);
    for (int s : fds) {
      vtas::testing::Sha256 sha;
      uint64_t left = bytes, echoed = 0;
      uint64_t x = 88172645463325252ull;
      while (left) {
        size_t m = std::min<uint64_t>(chunk.size(), left);
        for (size_t k = 0; k < m; ++k) {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          chunk[k] = static_cast<char>(x);
        }
        size_t off = 0;
        while (off < m) {
          ssize_t w = write(s, chunk.data() + off, m - off);
          if (w <= 0) return 1;
          off += static_cast<size_t>(w);
        }
        sha.update(chunk.data(), m);
        left -= m;
        if (echo) {  // read back what is available so the echo cannot deadlock
          std::vector<char> back(m);
          size_t got = 0;
          while (got < m) {
            ssize_t r = read(s, back.data() + got, m - got);
            if (r <= 0) return 1;
            got += static_cast<size_t>(r);
          }
          if (std::memcmp(back.data(), chunk.data(), m) != 0) ++failed;
          echoed += m;
        }
      }
      shutdown(s, SHUT_WR);
      while (read(s, chunk.data(), chunk.size()) > 0) {
      }
      std::printf("sent bytes=%llu sha256=%s echo=%s\n", static_cast<unsigned long long>(bytes),
                  sha.hex().c_str(), echo ? (echoed == bytes ? "ok" : "bad") : "-");
    }
  }
  double seconds = static_cast<double>(now_ns() - start) / 1e9;
  std::printf("summary conns=%d failed=%d seconds=%.3f gbit_per_s=%.3f\n", conns, failed, seconds,
              requests ? 0.0 : static_cast<double>(bytes) * conns * 8 / seconds / 1e9);
  vtas::testing::print_latency_summary(rtts, seconds);
  for (int s : fds) close(s);
  return failed == 0 ? 0 : 1;
}

struct Handshake {
  int fd = -1;
  uint64_t started = 0;
  size_t got = 0;
};

int connect_rate(uint32_t ip, uint16_t port, int conns, uint64_t total, size_t size) {
  int ep = epoll_create1(0);
  std::vector<Handshake> slots(static_cast<size_t>(conns));
  std::vector<char> req(size, 'q'), resp(size);
  std::vector<uint64_t> latencies;
  uint64_t opened = 0, done = 0;
  int failed = 0;
  auto open_next = [&](size_t i) {
    Handshake& h = slots[i];
    h = Handshake{};
    if (opened >= total) return;
    ++opened;
    h.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(h.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(ip);
    h.started = now_ns();
    if (connect(h.fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 && errno != EINPROGRESS) {
      std::fprintf(stderr, "connect: %s\n", std::strerror(errno));
      ++failed;
      close(h.fd);
      h.fd = -1;
      return;
    }
    epoll_event ev{EPOLLOUT, {.u64 = i}};
    epoll_ctl(ep, EPOLL_CTL_ADD, h.fd, &ev);
  };
  auto finish = [&](size_t i, bool ok) {
    Handshake& h = slots[i];
    if (ok) latencies.push_back(now_ns() - h.started);
    if (!ok) ++failed;
    ++done;
    close(h.fd);  // also leaves the epoll set
    open_next(i);
  };
  const uint64_t start = now_ns();
  for (size_t i = 0; i < slots.size(); ++i) open_next(i);
  epoll_event events[64];
  while (done < opened) {
    int n = epoll_wait(ep, events, 64, 10000);
    if (n <= 0) {
      std::fprintf(stderr, "no progress for 10 s (%llu of %llu done)\n",
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
      return 1;
    }
    for (int e = 0; e < n; ++e) {
      const size_t i = events[e].data.u64;
      Handshake& h = slots[i];
      if (h.fd < 0) continue;
      if (events[e].events & EPOLLOUT) {  // connected (or failed)
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(h.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || write(h.fd, req.data(), size) != static_cast<ssize_t>(size)) {
          std::fprintf(stderr, "connection failed: %s\n", std::strerror(err ? err : errno));
          finish(i, false);
          continue;
        }
        epoll_event ev{EPOLLIN, {.u64 = i}};
        epoll_ctl(ep, EPOLL_CTL_MOD, h.fd, &ev);
        continue;
      }
      ssize_t r = read(h.fd, resp.data(), size - h.got);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {
        std::fprintf(stderr, "connection %s before the response\n",
                     r == 0 ? "closed" : std::strerror(errno));
        finish(i, false);
        continue;
      }
      h.got += static_cast<size_t>(r);
      if (h.got == size) finish(i, true);
    }
  }
  const double seconds = static_cast<double>(now_ns() - start) / 1e9;
  std::printf("summary conns=%d failed=%d seconds=%.3f\n", conns, failed, seconds);
  vtas::testing::print_latency_summary(latencies, seconds);
  close(ep);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 3 && std::strcmp(argv[1], "serve") == 0) {
    bool echo = !(argc > 3 && std::strcmp(argv[3], "--sink") == 0);
    return serve(static_cast<uint16_t>(std::atoi(argv[2])), echo);
  }
  if (argc >= 4 && std::strcmp(argv[1], "connect") == 0) {
    int conns = 1;
    uint64_t bytes = 1 << 20, requests = 0, handshakes = 0;
    size_t size = 64;
    bool echo = false;
    for (int i = 4; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--echo") echo = true;
      if (a == "--conns" && i + 1 < argc) conns = std::atoi(argv[++i]);
      if (a == "--bytes" && i + 1 < argc) bytes = std::strtoull(argv[++i], nullptr, 10);
      if (a == "--requests" && i + 1 < argc) requests = std::strtoull(argv[++i], nullptr, 10);
      if (a == "--handshakes" && i + 1 < argc) handshakes = std::strtoull(argv[++i], nullptr, 10);
      if (a == "--size" && i + 1 < argc) size = std::strtoul(argv[++i], nullptr, 10);
    }
    in_addr addr{};
    if (inet_pton(AF_INET, argv[2], &addr) != 1 || conns < 1 || size == 0) return 64;
    if (handshakes) {
      return connect_rate(ntohl(addr.s_addr), static_cast<uint16_t>(std::atoi(argv[3])), conns,
                          handshakes, size);
    }
    return connect_to(ntohl(addr.s_addr), static_cast<uint16_t>(std::atoi(argv[3])), conns, bytes,
                      echo, requests, size);
  }
  std::fprintf(stderr, "usage: kernel_tcp_tool serve PORT [--echo|--sink] | connect IP PORT [...]\n");
  return 64;
}
