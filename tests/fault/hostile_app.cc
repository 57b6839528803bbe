// hostile_app: an application that attaches to vtas like any other (libvtas) and then writes
// garbage into its own shared-memory queues, for tests/fault/hostile_app_test.cc. It reaches
// past the public API into the library's Context (clientlib/src/context.h) to push raw entries.
//
//   hostile_app IP PORT [--seed S]
//
// Opens one connection to IP:PORT (so it owns a real flow), then, phase by phase, printing
// "phase <name> entries=<n>" after each:
//   atx-random        whole-random 64-byte entries on every atx ring
//   atx-foreign-flows bumps naming flow ids 0..4095 (other apps' connections), random amounts
//   atx-huge-bumps    its own flow: rx/tx bumps of 2^32-1, the buffer length + 1, random seqs
//   kout-random       whole-random control requests
//   kout-foreign      closes (abortive) of flow ids 1..512, accepts on listeners 1..64, a
//                     listen on the victim's port, moves to context 999, scale to 1000 cores
//   atx-index         its atx ring's head index set to a value the consumer cannot accept
//   arx-kin-tail      its arx and kin rings' tail indices moved far past the service's head
//   kout-index        its kout ring's head index likewise
// then prints "corrupted" and polls its context for up to --linger-ms (default 10000),
// printing "poll=<result> errno=<name>" once the library reports an error, and finally
// "hostile done". Exit status 0 unless the library itself failed unexpectedly before the abuse.
#include <arpa/inet.h>
#include <errno.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "clientlib/src/context.h"
#include "components/fastpath/abi/app_abi.h"
#include "vtas/tas_ll.h"

namespace {

using vtas::abi::AppRequest;
using vtas::abi::AppRequestType;
using vtas::abi::AtxEntry;

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Polls events (and drops them) for `ms`; returns the first negative poll result, or 0.
int drain_events(flextcp_context* ctx, uint64_t ms) {
  flextcp_event events[64];
  const uint64_t until = now_ms() + ms;
  do {
    int n = flextcp_context_poll(ctx, 64, events);
    if (n < 0) return n;
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (now_ms() < until);
  return 0;
}

// Pushes `e` on atx ring `core`, waiting briefly while the fast path catches up.
bool push_atx(vtas::client::Context& c, uint32_t core, const AtxEntry& e) {
  for (int tries = 0; tries < 1000; ++tries) {
    if (c.atx[core].try_push(e)) {
      if (c.atx[core].consumer_needs_wakeup()) (void)c.attachment.core_doorbell(core).ring();
      return true;
    }
    if (c.atx[core].corrupted()) return false;
    (void)c.attachment.core_doorbell(core).ring();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return false;
}

bool push_kout(vtas::client::Context& c, const AppRequest& r) {
  for (int tries = 0; tries < 1000; ++tries) {
    if (c.kout.try_push(r)) {
      (void)c.attachment.control_doorbell().ring();
      return true;
    }
    if (c.kout.corrupted()) return false;
    (void)c.attachment.control_doorbell().ring();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return false;
}

template <class T>
T random_entry(std::mt19937_64& rng) {
  T e;
  auto* p = reinterpret_cast<uint8_t*>(&e);
  for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<uint8_t>(rng());
  return e;
}

void phase(const char* name, uint64_t entries) {
  std::printf("phase %s entries=%llu\n", name, static_cast<unsigned long long>(entries));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: hostile_app IP PORT [--seed S] [--linger-ms MS]\n");
    return 2;
  }
  uint64_t seed = 1, linger_ms = 10000;
  for (int i = 3; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--linger-ms")) linger_ms = std::strtoull(argv[++i], nullptr, 10);
  }
  in_addr addr{};
  if (inet_pton(AF_INET, argv[1], &addr) != 1) {
    std::fprintf(stderr, "hostile_app: bad address %s\n", argv[1]);
    return 2;
  }
  std::mt19937_64 rng(seed);
  flextcp_context ctx{};
  if (flextcp_init() != 0 || flextcp_context_create(&ctx) != 0) {
    std::fprintf(stderr, "hostile_app: attach failed: %s\n", vtas_last_error());
    return 1;
  }
  flextcp_connection conn{};
  if (flextcp_connection_open(&ctx, &conn, ntohl(addr.s_addr), static_cast<uint16_t>(std::atoi(argv[2]))) != 0) {
    std::fprintf(stderr, "hostile_app: open failed: %s\n", vtas_last_error());
    return 1;
  }
  flextcp_event events[16];
  bool open = false;
  for (uint64_t until = now_ms() + 10000; !open && now_ms() < until;) {
    int n = flextcp_context_poll(&ctx, 16, events);
    for (int i = 0; i < n; ++i) {
      if (events[i].event_type == FLEXTCP_EV_CONN_OPEN && events[i].ev.conn_open.status == 0) open = true;
    }
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!open) {
    std::fprintf(stderr, "hostile_app: connection to %s:%s did not open\n", argv[1], argv[2]);
    return 1;
  }
  std::printf("opened flow=%u core=%u\n", conn.flow_id, conn.fn_core);
  std::fflush(stdout);

  vtas::client::Context* c = vtas::client::context_of(&ctx);
  if (c == nullptr) return 1;
  const uint32_t cores = static_cast<uint32_t>(c->atx.size());
  uint64_t n = 0;

  // A push that does not go through within 0.2 s ends the phase: the consumer stopped reading
  // (the service gave up on this ring), which is a fine answer to garbage.
  for (int i = 0; i < 20000; ++i) {
    if (!push_atx(*c, static_cast<uint32_t>(i) % cores, random_entry<AtxEntry>(rng))) break;
    ++n;
  }
  drain_events(&ctx, 50);
  phase("atx-random", n);

  n = 0;
  for (uint32_t flow = 0; flow < 4096; ++flow) {
    if (flow == conn.flow_id) continue;
    AtxEntry e{};
    e.type = 1;
    e.flags = static_cast<uint8_t>(rng() & 1);
    e.bump_seq = static_cast<uint16_t>(rng());
    e.flow_id = flow;
    e.rx_bump = static_cast<uint32_t>(rng() % 65536);
    e.tx_bump = static_cast<uint32_t>(rng() % 65536);
    bool pushed = true;
    for (uint32_t core = 0; core < cores && pushed; ++core) {
      pushed = push_atx(*c, core, e);
      n += pushed ? 1 : 0;
    }
    if (!pushed) break;
  }
  drain_events(&ctx, 50);
  phase("atx-foreign-flows", n);

  n = 0;
  const uint32_t huge[] = {0xffffffffu, 0x80000000u, conn.txb_len + 1, conn.rxb_len + 1, 0x7fffffffu};
  for (uint32_t h : huge) {
    for (int variant = 0; variant < 4; ++variant) {
      AtxEntry e{};
      e.type = static_cast<uint8_t>(variant == 3 ? rng() : 1);
      e.flags = static_cast<uint8_t>(variant == 2 ? 0xff : 0);
      e.bump_seq = static_cast<uint16_t>(variant == 1 ? conn.bump_seq - 5 : conn.bump_seq + 1 + variant);
      e.flow_id = conn.flow_id;
      e.rx_bump = variant % 2 ? h : 0;
      e.tx_bump = variant % 2 ? 0 : h;
      n += push_atx(*c, conn.fn_core % cores, e);
    }
  }
  drain_events(&ctx, 100);
  phase("atx-huge-bumps", n);

  n = 0;
  for (int i = 0; i < 2000; ++i) {
    if (!push_kout(*c, random_entry<AppRequest>(rng))) break;
    ++n;
  }
  drain_events(&ctx, 200);
  phase("kout-random", n);

  n = 0;
  auto request = [&](AppRequestType type) {
    AppRequest r{};
    r.type = static_cast<uint8_t>(type);
    r.context_id = static_cast<uint16_t>(c->id);
    r.request_id = static_cast<uint32_t>(1000000 + n);
    return r;
  };
  for (uint32_t flow = 1; flow <= 512; ++flow) {
    if (flow == conn.flow_id) continue;
    AppRequest r = request(AppRequestType::kConnClose);
    r.flags = vtas::abi::kCloseReset;
    r.flow_id = flow;
    n += push_kout(*c, r);
  }
  for (uint32_t listener = 0; listener <= 64; ++listener) {
    AppRequest r = request(AppRequestType::kAccept);
    r.listener_id = listener;
    n += push_kout(*c, r);
    r = request(AppRequestType::kListenClose);
    r.listener_id = listener;
    n += push_kout(*c, r);
  }
  for (uint32_t port : {7300u, 7100u, 7101u, 0u, 65535u}) {
    AppRequest r = request(AppRequestType::kListenOpen);
    r.local_port = htons(static_cast<uint16_t>(port));
    r.backlog = 0xffffffffu;
    n += push_kout(*c, r);
  }
  for (uint16_t target : {uint16_t{999}, uint16_t{0xffff}}) {
    AppRequest r = request(AppRequestType::kConnMove);
    r.flow_id = 1;
    r.new_context = target;
    n += push_kout(*c, r);
  }
  {
    AppRequest r = request(AppRequestType::kRequestScale);
    r.cores = 1000;
    n += push_kout(*c, r);
    r = request(AppRequestType::kConnOpen);
    r.remote_ip = 0xffffffffu;
    r.remote_port = 0;
    n += push_kout(*c, r);
    r.context_id = 77;  // a context that is not this ring's
    r.remote_ip = addr.s_addr;
    r.remote_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    n += push_kout(*c, r);
  }
  drain_events(&ctx, 300);
  phase("kout-foreign", n);

  // The rings' own indices: the producer line (head) of this context's first atx ring and of
  // its kout ring, written as if the library had gone mad.
  const vtas::abi::AppRegionHeader& h = c->attachment.header();
  const vtas::abi::QueueBlockLayout layout =
      vtas::abi::queue_block_layout(h.num_cores, h.kin_capacity, h.kout_capacity, h.arx_capacity, h.atx_capacity);
  uint8_t* block = c->attachment.base() + c->queue_block;
  auto* atx_head = reinterpret_cast<volatile uint32_t*>(block + layout.atx0 + vtas::shm::kRingProducerOffset);
  *atx_head = *atx_head + h.atx_capacity * 4 + 17;
  (void)c->attachment.core_doorbell(0).ring();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  phase("atx-index", 1);
  // Its consumer side too: the tail of its first arx ring and of kin jump far ahead of anything
  // the service pushed (the service's producers must notice and stop, not overwrite).
  auto* arx_tail = reinterpret_cast<volatile uint32_t*>(block + layout.arx0 + vtas::shm::kRingConsumerOffset);
  *arx_tail = *arx_tail + 123457;
  auto* kin_tail = reinterpret_cast<volatile uint32_t*>(block + layout.kin + vtas::shm::kRingConsumerOffset);
  *kin_tail = *kin_tail + 7777;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  phase("arx-kin-tail", 2);
  auto* kout_head = reinterpret_cast<volatile uint32_t*>(block + layout.kout + vtas::shm::kRingProducerOffset);
  *kout_head = *kout_head - 1000;  // backwards: impossible for a producer
  (void)c->attachment.control_doorbell().ring();
  phase("kout-index", 1);
  std::printf("corrupted\n");
  std::fflush(stdout);

  int got = 0;
  const uint64_t until = now_ms() + linger_ms;
  while (now_ms() < until && got >= 0) {
    got = flextcp_context_poll(&ctx, 16, events);
    if (got == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (got < 0) std::printf("poll=%d errno=%s\n", got, std::strerror(errno));
  std::printf("hostile done\n");
  std::fflush(stdout);
  return 0;
}
