// vtas_ll_tool: a TCP test program on the low-level vtas API (libvtas, TAS's flextcp_*), the
// application side of the TCP integration tests and benchmarks.
//
//   vtas_ll_tool serve PORT [--echo | --sink] [--max-conns N]
//       Accepts connections; echoes everything back (--echo, default) or consumes it (--sink).
//       Prints "listening PORT" when the listener is open, and per closed connection
//       "closed bytes=<received> sha256=<hex of received>". Exits after N connections.
//   vtas_ll_tool connect IP PORT [--conns N] [--bytes B] [--echo] [--requests R --size S]
//       Opens N connections and sends B bytes on each (a pseudo-random stream); with --echo it
//       checks the echoed stream byte for byte. With --requests: R request/response round trips
//       in total of S bytes each (every connection does its own ping-pong), and latency
//       percentiles. Prints per connection
//       "sent bytes=<B> sha256=<hex> echo=<ok|bad|->" and a summary; exit 0 iff all is well.
//   vtas_ll_tool connect IP PORT --handshakes H [--conns N] [--size S]
//       Connection rate: H connections, N at a time, each one request of S bytes and its echo,
//       then closed by us (a new one starts when one is closed); "requests=H per_s=
//       <connections/s> p50_us=..." (latency: open to the whole response).
#include <arpa/inet.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "tests/apps/latency_summary.h"
#include "tests/apps/sha256.h"
#include "vtas/tas_ll.h"

namespace {

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The byte stream a client sends: xorshift64*, reproducible from the connection index.
struct Stream {
  explicit Stream(uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ull + 1) {}
  void fill(uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (left == 0) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        word = state * 0x2545F4914F6CDD1Dull;
        left = 8;
      }
      p[i] = static_cast<uint8_t>(word);
      word >>= 8;
      --left;
    }
  }
  uint64_t state, word = 0;
  int left = 0;
};

struct Conn {
  flextcp_connection c{};
  vtas::testing::Sha256 received_sha, sent_sha;
  uint64_t received = 0, sent = 0, to_send = 0;
  Stream out{0}, expect{0};
  bool echo_ok = true, rx_closed = false, tx_closed = false, closing = false, done = false;
  std::deque<std::pair<uint8_t*, size_t>> unechoed;  // received, not yet echoed
  // ping-pong
  uint64_t requests_left = 0, request_sent_at = 0, response_bytes = 0;
  std::vector<uint64_t> rtt_ns;
};

volatile sig_atomic_t g_stop = 0;

int fail(const char* what) {
  std::fprintf(stderr, "vtas_ll_tool: %s: %s\n", what, std::strerror(errno));
  return 1;
}

// Copies as much of `src` as fits into the tx buffer and sends it. Returns bytes taken.
size_t send_some(flextcp_context* ctx, flextcp_connection* c, const uint8_t* src, size_t n) {
  void *b1 = nullptr, *b2 = nullptr;
  size_t l1 = 0;
  ssize_t got = flextcp_connection_tx_alloc2(c, n, &b1, &l1, &b2);
  if (got <= 0) return 0;
  std::memcpy(b1, src, l1);
  if (static_cast<size_t>(got) > l1) std::memcpy(b2, src + l1, static_cast<size_t>(got) - l1);
  if (flextcp_connection_tx_send(ctx, c, static_cast<size_t>(got)) != 0) return 0;
  return static_cast<size_t>(got);
}

// Fills the tx buffer from the connection's stream up to to_send bytes.
void pump_stream(flextcp_context* ctx, Conn& k) {
  uint8_t chunk[16384];
  while (k.sent < k.to_send) {
    size_t n = std::min<uint64_t>(sizeof(chunk), k.to_send - k.sent);
    void *b1 = nullptr, *b2 = nullptr;
    size_t l1 = 0;
    ssize_t got = flextcp_connection_tx_alloc2(&k.c, n, &b1, &l1, &b2);
    if (got <= 0) return;
    k.out.fill(chunk, static_cast<size_t>(got));
    std::memcpy(b1, chunk, l1);
    if (static_cast<size_t>(got) > l1) std::memcpy(b2, chunk + l1, static_cast<size_t>(got) - l1);
    if (flextcp_connection_tx_send(ctx, &k.c, static_cast<size_t>(got)) != 0) return;
    k.sent_sha.update(chunk, static_cast<size_t>(got));
    k.sent += static_cast<uint64_t>(got);
  }
}

void flush_echo(flextcp_context* ctx, Conn& k) {
  while (!k.unechoed.empty()) {
    auto& [p, n] = k.unechoed.front();
    size_t took = send_some(ctx, &k.c, p, n);
    if (took > 0) flextcp_connection_rx_done(ctx, &k.c, took);
    if (took < n) {
      p += took;
      n -= took;
      return;
    }
    k.unechoed.pop_front();
  }
}

int serve(uint16_t port, bool echo, long max_conns) {
  flextcp_context ctx{};
  if (flextcp_init() != 0) return fail("flextcp_init");
  if (flextcp_context_create(&ctx) != 0) return fail("flextcp_context_create");
  flextcp_listener listener{};
  if (flextcp_listen_open(&ctx, &listener, port, 1024, FLEXTCP_LISTEN_REUSEPORT) != 0) return fail("listen");
  std::vector<std::unique_ptr<Conn>> posted;  // accepts posted, connections open
  auto post_accept = [&] {
    auto k = std::make_unique<Conn>();
    if (flextcp_listen_accept(&ctx, &listener, &k->c) == 0) posted.push_back(std::move(k));
  };
  long closed = 0;
  flextcp_event events[64];
  while (!g_stop && (max_conns <= 0 || closed < max_conns)) {
    int n = flextcp_context_poll(&ctx, 64, events);
    if (n < 0) return fail("poll");
    for (int i = 0; i < n; ++i) {
      flextcp_event& e = events[i];
      auto find = [&](flextcp_connection* c) -> Conn* {
        for (auto& k : posted) {
          if (&k->c == c) return k.get();
        }
        return nullptr;
      };
      switch (e.event_type) {
        case FLEXTCP_EV_LISTEN_OPEN:
          if (e.ev.listen_open.status != 0) {
            std::fprintf(stderr, "listen failed: %d\n", e.ev.listen_open.status);
            return 1;
          }
          for (int a = 0; a < 16; ++a) post_accept();
          std::printf("listening %u\n", port);
          std::fflush(stdout);
          break;
        case FLEXTCP_EV_LISTEN_NEWCONN:
          post_accept();
          break;
        case FLEXTCP_EV_LISTEN_ACCEPT:
          if (e.ev.listen_accept.status == 0) post_accept();
          break;
        case FLEXTCP_EV_CONN_RECEIVED: {
          Conn* k = find(e.ev.conn_received.conn);
          if (!k) break;
          auto* p = static_cast<uint8_t*>(e.ev.conn_received.buf);
          k->received += e.ev.conn_received.len;
          k->received_sha.update(p, e.ev.conn_received.len);
          if (echo) {
            k->unechoed.emplace_back(p, e.ev.conn_received.len);
            flush_echo(&ctx, *k);
          } else {
            flextcp_connection_rx_done(&ctx, &k->c, e.ev.conn_received.len);
          }
          break;
        }
        case FLEXTCP_EV_CONN_SENDBUF:
          if (Conn* k = find(e.ev.conn_sendbuf.conn)) flush_echo(&ctx, *k);
          break;
        case FLEXTCP_EV_CONN_RXCLOSED:
        case FLEXTCP_EV_CONN_RESET:
          if (Conn* k = find(e.event_type == FLEXTCP_EV_CONN_RESET ? e.ev.conn_reset.conn
                                                                    : e.ev.conn_rxclosed.conn)) {
            k->rx_closed = true;
          }
          break;
        case FLEXTCP_EV_CONN_CLOSED: {
          Conn* k = find(e.ev.conn_closed.conn);
          if (!k) break;
          std::printf("closed bytes=%llu sha256=%s\n", static_cast<unsigned long long>(k->received),
                      k->received_sha.hex().c_str());
          std::fflush(stdout);
          k->done = true;
          ++closed;
          break;
        }
        default:
          break;
      }
    }
    // Close connections whose peer closed once everything was echoed.
    for (auto& k : posted) {
      if (k->rx_closed && k->unechoed.empty() && !k->closing) {
        k->closing = true;
        flextcp_connection_tx_close(&ctx, &k->c);
        flextcp_connection_close(&ctx, &k->c);
      }
    }
    posted.erase(std::remove_if(posted.begin(), posted.end(), [](auto& k) { return k->done; }),
                 posted.end());
    if (n == 0) flextcp_context_wait(&ctx, 100);
  }
  return 0;
}

int connect_and_send(uint32_t ip, uint16_t port, int conns, uint64_t bytes, bool echo,
                     uint64_t requests, size_t request_size) {
  flextcp_context ctx{};
  if (flextcp_init() != 0) return fail("flextcp_init");
  if (flextcp_context_create(&ctx) != 0) return fail("flextcp_context_create");
  std::vector<std::unique_ptr<Conn>> all;
  for (int i = 0; i < conns; ++i) {
    auto k = std::make_unique<Conn>();
    k->out = Stream(static_cast<uint64_t>(i) + 1);
    k->expect = Stream(static_cast<uint64_t>(i) + 1);
    k->to_send = requests ? 0 : bytes;
    k->requests_left = requests ? std::max<uint64_t>(1, requests / static_cast<uint64_t>(conns)) : 0;
    if (flextcp_connection_open(&ctx, &k->c, ip, port) != 0) return fail("open");
    all.push_back(std::move(k));
  }
  std::vector<uint8_t> request(request_size, 'q');
  uint64_t start = now_ns();
  int finished = 0, failed = 0;
  flextcp_event events[64];
  auto find = [&](flextcp_connection* c) -> Conn* {
    for (auto& k : all) {
      if (&k->c == c) return k.get();
    }
    return nullptr;
  };
  auto next_request = [&](Conn& k) {
    if (k.requests_left == 0) return;
    k.request_sent_at = now_ns();
    k.response_bytes = 0;
    send_some(&ctx, &k.c, request.data(), request.size());
  };
  while (!g_stop && finished < conns) {
    int n = flextcp_context_poll(&ctx, 64, events);
    if (n < 0) return fail("poll");
    for (int i = 0; i < n; ++i) {
      flextcp_event& e = events[i];
      switch (e.event_type) {
        case FLEXTCP_EV_CONN_OPEN: {
          Conn* k = find(e.ev.conn_open.conn);
          if (!k) break;
          if (e.ev.conn_open.status != 0) {
            std::printf("open failed status=%d\n", e.ev.conn_open.status);
            ++failed;
            ++finished;
            k->done = true;
            break;
          }
          if (requests) {
            next_request(*k);
          } else {
            pump_stream(&ctx, *k);
          }
          break;
        }
        case FLEXTCP_EV_CONN_SENDBUF:
          if (Conn* k = find(e.ev.conn_sendbuf.conn); k && !requests) pump_stream(&ctx, *k);
          break;
        case FLEXTCP_EV_CONN_RECEIVED: {
          Conn* k = find(e.ev.conn_received.conn);
          if (!k) break;
          auto* p = static_cast<uint8_t*>(e.ev.conn_received.buf);
          size_t len = e.ev.conn_received.len;
          k->received += len;
          k->received_sha.update(p, len);
          if (echo && !requests) {
            uint8_t want[4096];
            for (size_t off = 0; off < len; off += sizeof(want)) {
              size_t m = std::min(sizeof(want), len - off);
              k->expect.fill(want, m);
              if (std::memcmp(want, p + off, m) != 0) k->echo_ok = false;
            }
          }
          flextcp_connection_rx_done(&ctx, &k->c, len);
          if (requests) {
            k->response_bytes += len;
            if (k->response_bytes >= request_size) {
              k->rtt_ns.push_back(now_ns() - k->request_sent_at);
              --k->requests_left;
              next_request(*k);
            }
          }
          break;
        }
        case FLEXTCP_EV_CONN_RXCLOSED:
        case FLEXTCP_EV_CONN_RESET:
          if (Conn* k = find(e.event_type == FLEXTCP_EV_CONN_RESET ? e.ev.conn_reset.conn
                                                                    : e.ev.conn_rxclosed.conn)) {
            k->rx_closed = true;
          }
          break;
        case FLEXTCP_EV_CONN_CLOSED:
          if (Conn* k = find(e.ev.conn_closed.conn); k && !k->done) {
            k->done = true;
            ++finished;
          }
          break;
        default:
          break;
      }
    }
    for (auto& k : all) {
      if (k->done || k->closing) continue;
      bool sent_all = requests ? k->requests_left == 0 : k->sent == k->to_send;
      bool got_all = !echo || requests || k->received >= k->to_send;
      if (sent_all && got_all && !k->tx_closed) {
        k->tx_closed = true;
        flextcp_connection_tx_close(&ctx, &k->c);
      }
      if (k->tx_closed && k->rx_closed) {
        k->closing = true;
        flextcp_connection_close(&ctx, &k->c);
      }
    }
    if (n == 0) flextcp_context_wait(&ctx, 100);
  }
  double seconds = static_cast<double>(now_ns() - start) / 1e9;
  uint64_t total = 0;
  std::vector<uint64_t> rtts;
  for (auto& k : all) {
    total += k->sent;
    rtts.insert(rtts.end(), k->rtt_ns.begin(), k->rtt_ns.end());
    bool ok = !echo || requests || (k->echo_ok && k->received == k->sent);
    if (!ok) ++failed;
    std::printf("sent bytes=%llu sha256=%s echo=%s\n", static_cast<unsigned long long>(k->sent),
                k->sent_sha.hex().c_str(), !echo || requests ? "-" : ok ? "ok" : "bad");
  }
  std::printf("summary conns=%d failed=%d seconds=%.3f gbit_per_s=%.3f\n", conns, failed, seconds,
              static_cast<double>(total) * 8 / seconds / 1e9);
  vtas::testing::print_latency_summary(rtts, seconds);
  return failed == 0 && !g_stop ? 0 : 1;
}

int connect_rate(uint32_t ip, uint16_t port, int conns, uint64_t total, size_t size) {
  flextcp_context ctx{};
  if (flextcp_init() != 0) return fail("flextcp_init");
  if (flextcp_context_create(&ctx) != 0) return fail("flextcp_context_create");
  struct Slot {
    std::unique_ptr<Conn> k;
    uint64_t started = 0;
  };
  std::vector<Slot> slots(static_cast<size_t>(conns));
  std::vector<uint8_t> request(size, 'q');
  std::vector<uint64_t> latencies;
  uint64_t opened = 0, done = 0;
  int failed = 0;
  auto open_next = [&](Slot& s) {
    s.k.reset();
    if (opened >= total) return;
    ++opened;
    s.k = std::make_unique<Conn>();
    s.started = now_ns();
    if (flextcp_connection_open(&ctx, &s.k->c, ip, port) != 0) {
      std::fprintf(stderr, "open: %s\n", std::strerror(errno));
      ++failed;
      ++done;
      s.k.reset();
    }
  };
  auto find = [&](flextcp_connection* c) -> Slot* {
    for (auto& s : slots) {
      if (s.k && &s.k->c == c) return &s;
    }
    return nullptr;
  };
  auto close_now = [&](Slot& s) {
    if (s.k->closing) return;
    s.k->closing = true;
    flextcp_connection_tx_close(&ctx, &s.k->c);
    flextcp_connection_close(&ctx, &s.k->c);
  };
  const uint64_t start = now_ns();
  for (auto& s : slots) open_next(s);
  flextcp_event events[64];
  uint64_t idle_since = now_ns();
  while (!g_stop && done < opened) {
    int n = flextcp_context_poll(&ctx, 64, events);
    if (n < 0) return fail("poll");
    for (int i = 0; i < n; ++i) {
      flextcp_event& e = events[i];
      switch (e.event_type) {
        case FLEXTCP_EV_CONN_OPEN:
          if (Slot* s = find(e.ev.conn_open.conn)) {
            if (e.ev.conn_open.status != 0) {
              std::fprintf(stderr, "open failed status=%d\n", e.ev.conn_open.status);
              ++failed;
              ++done;
              open_next(*s);
            } else {
              send_some(&ctx, &s->k->c, request.data(), request.size());
            }
          }
          break;
        case FLEXTCP_EV_CONN_RECEIVED:
          if (Slot* s = find(e.ev.conn_received.conn)) {
            flextcp_connection_rx_done(&ctx, &s->k->c, e.ev.conn_received.len);
            s->k->received += e.ev.conn_received.len;
            if (s->k->received >= size && !s->k->closing) {
              latencies.push_back(now_ns() - s->started);
              close_now(*s);
            }
          }
          break;
        case FLEXTCP_EV_CONN_RESET:
          if (Slot* s = find(e.ev.conn_reset.conn); s && !s->k->closing) {
            std::fprintf(stderr, "connection reset before the response\n");
            ++failed;
            close_now(*s);
          }
          break;
        case FLEXTCP_EV_CONN_CLOSED:
          if (Slot* s = find(e.ev.conn_closed.conn)) {
            ++done;
            open_next(*s);
          }
          break;
        default:
          break;
      }
    }
    if (n > 0) {
      idle_since = now_ns();
    } else if (now_ns() - idle_since > 10'000'000'000ull) {
      std::fprintf(stderr, "no progress for 10 s (%llu of %llu done)\n",
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
      return 1;
    } else {
      flextcp_context_wait(&ctx, 100);
    }
  }
  const double seconds = static_cast<double>(now_ns() - start) / 1e9;
  std::printf("summary conns=%d failed=%d seconds=%.3f\n", conns, failed, seconds);
  vtas::testing::print_latency_summary(latencies, seconds);
  return failed == 0 && !g_stop ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGTERM, [](int) { g_stop = 1; });
  signal(SIGINT, [](int) { g_stop = 1; });
  if (argc >= 3 && std::strcmp(argv[1], "serve") == 0) {
    bool echo = true;
    long max_conns = 0;
    for (int i = 3; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--sink")) echo = false;
      if (!std::strcmp(argv[i], "--echo")) echo = true;
      if (!std::strcmp(argv[i], "--max-conns") && i + 1 < argc) max_conns = std::atol(argv[++i]);
    }
    return serve(static_cast<uint16_t>(std::atoi(argv[2])), echo, max_conns);
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
    if (inet_pton(AF_INET, argv[2], &addr) != 1) {
      std::fprintf(stderr, "bad address %s\n", argv[2]);
      return 64;
    }
    if (conns < 1 || size == 0) {
      std::fprintf(stderr, "--conns and --size must be at least 1\n");
      return 64;
    }
    if (handshakes) {
      return connect_rate(ntohl(addr.s_addr), static_cast<uint16_t>(std::atoi(argv[3])), conns,
                          handshakes, size);
    }
    return connect_and_send(ntohl(addr.s_addr), static_cast<uint16_t>(std::atoi(argv[3])), conns,
                            bytes, echo || requests, requests, size);
  }
  std::fprintf(stderr,
               "usage: vtas_ll_tool serve PORT [--echo|--sink] [--max-conns N]\n"
               "       vtas_ll_tool connect IP PORT [--conns N] [--bytes B] [--echo] [--requests R --size S]\n"
               "       vtas_ll_tool connect IP PORT --handshakes H [--conns N] [--size S]\n");
  return 64;
}
