// many_conns_server: a libvtas echo server built to hold very many connections at once, for
// the 100,000-connection suite (vtas_ll_tool finds connections by linear search, fine for a
// hundred, not for a hundred thousand). Per connection it echoes what arrives (small
// messages) and closes when the peer closes.
//
//   many_conns_server PORT
//     prints "listening PORT", then "accepted=<n> open=<n>" every 10,000 accepts,
//     "closed=<n>" when it goes idle after connections closed, and
//     "closed_total=<n> accepted=<n> failed_accepts=<n>" when it gets SIGTERM
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "vtas/tas_ll.h"

namespace {

volatile sig_atomic_t g_stop = 0;
constexpr int kPostedAccepts = 256;  // accepts kept posted so a burst of SYNs finds them

struct Conn {
  flextcp_connection c{};
  std::vector<uint8_t> unechoed;
  bool rx_closed = false, closing = false;
};

// Sends what fits of k.unechoed; true once all is out.
bool flush(flextcp_context* ctx, Conn& k) {
  while (!k.unechoed.empty()) {
    void *b1 = nullptr, *b2 = nullptr;
    size_t l1 = 0;
    const ssize_t got = flextcp_connection_tx_alloc2(&k.c, k.unechoed.size(), &b1, &l1, &b2);
    if (got <= 0) return false;
    std::memcpy(b1, k.unechoed.data(), l1);
    if (static_cast<size_t>(got) > l1)
      std::memcpy(b2, k.unechoed.data() + l1, static_cast<size_t>(got) - l1);
    if (flextcp_connection_tx_send(ctx, &k.c, static_cast<size_t>(got)) != 0) return false;
    k.unechoed.erase(k.unechoed.begin(), k.unechoed.begin() + got);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: many_conns_server PORT\n");
    return 2;
  }
  const auto port = static_cast<uint16_t>(std::atoi(argv[1]));
  ::signal(SIGTERM, [](int) { g_stop = 1; });
  ::signal(SIGINT, [](int) { g_stop = 1; });
  flextcp_context ctx{};
  if (flextcp_init() != 0 || flextcp_context_create(&ctx) != 0) {
    std::fprintf(stderr, "many_conns_server: cannot attach to vtas (VTAS_RUNTIME_DIR set?)\n");
    return 1;
  }
  flextcp_listener listener{};
  if (flextcp_listen_open(&ctx, &listener, port, 1024, 0) != 0) {
    std::fprintf(stderr, "many_conns_server: listen on %u failed\n", port);
    return 1;
  }
  std::unordered_map<flextcp_connection*, std::unique_ptr<Conn>> conns;
  int posted = 0;
  uint64_t accepted = 0, closed = 0, failed_accepts = 0, reported_closed = 0;
  auto post = [&] {
    auto k = std::make_unique<Conn>();
    if (flextcp_listen_accept(&ctx, &listener, &k->c) == 0) {
      conns.emplace(&k->c, std::move(k));
      ++posted;
    }
  };
  auto find = [&](flextcp_connection* c) -> Conn* {
    auto it = conns.find(c);
    return it == conns.end() ? nullptr : it->second.get();
  };
  auto maybe_close = [&](Conn& k) {
    if (k.rx_closed && k.unechoed.empty() && !k.closing) {
      k.closing = true;
      flextcp_connection_tx_close(&ctx, &k.c);
      flextcp_connection_close(&ctx, &k.c);
    }
  };
  flextcp_event events[64];
  while (!g_stop) {
    const int n = flextcp_context_poll(&ctx, 64, events);
    if (n < 0) {
      std::fprintf(stderr, "many_conns_server: poll failed\n");
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      flextcp_event& e = events[i];
      switch (e.event_type) {
        case FLEXTCP_EV_LISTEN_OPEN:
          if (e.ev.listen_open.status != 0) {
            std::fprintf(stderr, "many_conns_server: listen failed: %d\n", e.ev.listen_open.status);
            return 1;
          }
          while (posted < kPostedAccepts) post();
          std::printf("listening %u\n", port);
          std::fflush(stdout);
          break;
        case FLEXTCP_EV_LISTEN_ACCEPT:
          --posted;
          if (e.ev.listen_accept.status == 0) {
            if (++accepted % 10000 == 0) {
              std::printf("accepted=%llu open=%zu\n", static_cast<unsigned long long>(accepted),
                          conns.size() - static_cast<size_t>(posted));
              std::fflush(stdout);
            }
          } else {
            ++failed_accepts;
            conns.erase(e.ev.listen_accept.conn);
          }
          while (posted < kPostedAccepts) post();
          break;
        case FLEXTCP_EV_CONN_RECEIVED: {
          Conn* k = find(e.ev.conn_received.conn);
          if (!k) break;
          auto* p = static_cast<uint8_t*>(e.ev.conn_received.buf);
          k->unechoed.insert(k->unechoed.end(), p, p + e.ev.conn_received.len);
          flextcp_connection_rx_done(&ctx, &k->c, e.ev.conn_received.len);
          flush(&ctx, *k);
          maybe_close(*k);
          break;
        }
        case FLEXTCP_EV_CONN_SENDBUF:
          if (Conn* k = find(e.ev.conn_sendbuf.conn)) {
            flush(&ctx, *k);
            maybe_close(*k);
          }
          break;
        case FLEXTCP_EV_CONN_RXCLOSED:
        case FLEXTCP_EV_CONN_RESET:
          if (Conn* k = find(e.event_type == FLEXTCP_EV_CONN_RESET ? e.ev.conn_reset.conn
                                                                   : e.ev.conn_rxclosed.conn)) {
            k->rx_closed = true;
            maybe_close(*k);
          }
          break;
        case FLEXTCP_EV_CONN_CLOSED:
          if (conns.erase(e.ev.conn_closed.conn) > 0) ++closed;
          break;
        default:
          break;
      }
    }
    if (n == 0) {
      // Idle: report closes since the last report (exact counts without a line per close).
      if (closed != reported_closed) {
        reported_closed = closed;
        std::printf("closed=%llu\n", static_cast<unsigned long long>(closed));
        std::fflush(stdout);
      }
      flextcp_context_wait(&ctx, 100);
    }
  }
  std::printf("closed_total=%llu accepted=%llu failed_accepts=%llu\n",
              static_cast<unsigned long long>(closed), static_cast<unsigned long long>(accepted),
              static_cast<unsigned long long>(failed_accepts));
  return 0;
}
