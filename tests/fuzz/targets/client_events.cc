// Fuzz target: libvtas's handling of what the service writes into shared memory
// (clientlib/src/events.cc): arx entries on every core's ring and kin events, mostly plausible
// (the right cookie, flow id, core, positions near the connection's state), often garbage,
// interleaved with the app's own calls (poll, rx_done, tx_alloc/tx_send, tx_close). The
// service is clientlib's FakeService (a real region, real rings, the real attach protocol),
// set up once per process; every input gets a fresh listener and connection and removes them
// at the end. Checks: no crash, poll never fails on well-formed rings, and every event names
// our objects and points only into the connection's own buffers.
#include <arpa/inet.h>
#include <stdlib.h>

#include <cstring>
#include <memory>
#include <string>

#include "clientlib/tests/fake_service.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/quiet_logs.h"
#include "vtas/tas_ll.h"

namespace vtas::fuzz {
namespace {

using client::testing::FakeContext;
using client::testing::FakeService;

constexpr uint32_t kMaxBuffer = 4096;
constexpr uint16_t kPort = 7;
constexpr int kMaxSteps = 64;

class Client {
 public:
  static Client& instance() {
    static Client* client = new Client();  // never destroyed: the service thread runs on
    return *client;
  }

  flextcp_context ctx{};
  std::unique_ptr<FakeService> service;
  FakeContext* fake = nullptr;
  uint64_t rx_buffer = 0, tx_buffer = 0;
  uint32_t next_flow_id = 100;

  // Polls until nothing more comes, checking every event against our objects.
  void poll_all(flextcp_listener& listener, flextcp_connection& conn) {
    flextcp_event events[16];
    for (int round = 0; round < 64; ++round) {
      const int n = flextcp_context_poll(&ctx, 16, events);
      VTAS_FUZZ_CHECK(n >= 0, vtas_last_error());
      if (n == 0) return;
      for (int i = 0; i < n; ++i) check_event(events[i], listener, conn);
    }
  }

  // Empties the service's side of the app's queues (requests and bumps we do not answer).
  void drain_service() {
    while (fake->pop_request()) {
    }
    for (uint32_t core = 0; core < service->options().num_cores; ++core) {
      while (fake->pop_bump(core)) {
      }
    }
  }

 private:
  Client() {
    char pattern[] = "/tmp/vtas-fuzz-clientlib.XXXXXX";
    VTAS_FUZZ_CHECK(::mkdtemp(pattern) != nullptr, "mkdtemp");
    dir_ = pattern;
    ::setenv("VTAS_RUNTIME_DIR", dir_.c_str(), 1);
    ::unsetenv("VTAS_INSTANCE");
    service = FakeService::start(dir_);
    VTAS_FUZZ_CHECK(service != nullptr, "cannot start the fake service");
    VTAS_FUZZ_CHECK(flextcp_init() == 0, vtas_last_error());
    VTAS_FUZZ_CHECK(flextcp_context_create(&ctx) == 0, vtas_last_error());
    fake = service->wait_for_context(ctx.ctx_id, 5000);
    VTAS_FUZZ_CHECK(fake != nullptr, "the fake service has no context");
    rx_buffer = service->allocate(kMaxBuffer);
    tx_buffer = service->allocate(kMaxBuffer);
    VTAS_FUZZ_CHECK(rx_buffer != 0 && tx_buffer != 0, "cannot allocate buffers");
    std::atexit([] {
      Client& c = instance();
      (void)vtas_context_destroy(&c.ctx);
      (void)vtas_fini();
      c.service.reset();
      ::rmdir(c.dir_.c_str());
    });
  }

  static void check_conn(const flextcp_connection* named, const flextcp_connection& conn) {
    VTAS_FUZZ_CHECK(named == &conn, "an event for a connection the app does not have");
  }
  static void check_listener(const flextcp_listener* named, const flextcp_listener& listener) {
    VTAS_FUZZ_CHECK(named == &listener, "an event for a listener the app does not have");
  }

  static void check_event(const flextcp_event& e, flextcp_listener& listener,
                          flextcp_connection& conn) {
    switch (e.event_type) {
      case FLEXTCP_EV_CONN_RECEIVED: {
        VTAS_FUZZ_CHECK(e.ev.conn_received.conn == &conn, "data event for another connection");
        const auto* buf = static_cast<const uint8_t*>(e.ev.conn_received.buf);
        VTAS_FUZZ_CHECK(buf >= conn.rxb_base && e.ev.conn_received.len <= conn.rxb_len &&
                            buf + e.ev.conn_received.len <= conn.rxb_base + conn.rxb_len,
                        "received data outside the connection's rx buffer");
        VTAS_FUZZ_CHECK(conn.rxb_used <= conn.rxb_len, "more bytes held than the buffer has");
        break;
      }
      case FLEXTCP_EV_CONN_SENDBUF:
        check_conn(e.ev.conn_sendbuf.conn, conn);
        break;
      case FLEXTCP_EV_CONN_RXCLOSED:
        check_conn(e.ev.conn_rxclosed.conn, conn);
        break;
      case FLEXTCP_EV_CONN_TXCLOSED:
        check_conn(e.ev.conn_txclosed.conn, conn);
        break;
      case FLEXTCP_EV_CONN_CLOSED:
        check_conn(e.ev.conn_closed.conn, conn);
        break;
      case FLEXTCP_EV_CONN_RESET:
        check_conn(e.ev.conn_reset.conn, conn);
        break;
      case FLEXTCP_EV_CONN_MOVED:
        check_conn(e.ev.conn_moved.conn, conn);
        break;
      case FLEXTCP_EV_CONN_OPEN:
        VTAS_FUZZ_CHECK(false, "an open event, but the app opened no connection");
        break;
      case FLEXTCP_EV_LISTEN_ACCEPT:
        check_conn(e.ev.listen_accept.conn, conn);
        break;
      case FLEXTCP_EV_LISTEN_OPEN:
        check_listener(e.ev.listen_open.listener, listener);
        break;
      case FLEXTCP_EV_LISTEN_NEWCONN:
        check_listener(e.ev.listen_newconn.listener, listener);
        break;
      case FLEXTCP_EV_LISTEN_CLOSED:
        check_listener(e.ev.listen_closed.listener, listener);
        break;
      default:
        VTAS_FUZZ_CHECK(false, "an event of unknown type");
    }
  }

  std::string dir_;
};

// A listener and an accepted connection, set up as the service would.
bool open_connection(Client& c, FuzzInput& in, flextcp_listener& listener,
                     flextcp_connection& conn, uint32_t* flow_id) {
  VTAS_FUZZ_CHECK(flextcp_listen_open(&c.ctx, &listener, kPort, 16, 0) == 0, vtas_last_error());
  auto request = c.fake->pop_request();
  VTAS_FUZZ_CHECK(request.has_value(), "listen_open queued no request");
  abi::AppEvent answer{};
  answer.type = static_cast<uint8_t>(abi::AppEventType::kListenOpened);
  answer.request_id = request->request_id;
  answer.opaque = request->opaque;
  answer.listener_id = 1000;
  VTAS_FUZZ_CHECK(c.fake->push_kin(answer), "kin ring full");
  c.poll_all(listener, conn);

  VTAS_FUZZ_CHECK(flextcp_listen_accept(&c.ctx, &listener, &conn) == 0, vtas_last_error());
  request = c.fake->pop_request();
  VTAS_FUZZ_CHECK(request.has_value(), "listen_accept queued no request");
  abi::AppEvent accepted{};
  accepted.type = static_cast<uint8_t>(abi::AppEventType::kAccepted);
  accepted.request_id = request->request_id;
  accepted.listener_id = request->listener_id;
  accepted.opaque = request->opaque;
  accepted.flow_id = *flow_id = c.next_flow_id++;
  accepted.rx_buffer = c.rx_buffer;
  accepted.tx_buffer = c.tx_buffer;
  accepted.rx_len = 1 + in.below(kMaxBuffer);
  accepted.tx_len = 1 + in.below(kMaxBuffer);
  accepted.local_ip = htonl(0x0a000001);
  accepted.remote_ip = htonl(0x0a000002);
  accepted.local_port = htons(kPort);
  accepted.remote_port = htons(40000);
  accepted.core = static_cast<uint16_t>(in.below(c.service->options().num_cores));
  VTAS_FUZZ_CHECK(c.fake->push_kin(accepted), "kin ring full");
  c.poll_all(listener, conn);
  return conn.vtas_cookie != 0;
}

abi::ArxEntry build_arx(FuzzInput& in, const flextcp_connection& conn, uint32_t flow_id,
                        uint64_t listener_cookie, uint32_t* stream_end) {
  const uint8_t choice = in.u8();
  abi::ArxEntry e{};
  e.type = (choice & 1) ? in.u8() : 1;
  e.flags = (choice & 2) ? in.u8() : static_cast<uint8_t>((in.u8() & 0x18) ? 0 : in.u8() & 7);
  e.core = (choice & 4) ? in.u16() : conn.fn_core;
  e.flow_id = (choice & 8) ? in.u32() : flow_id;
  e.opaque = (choice & 16) ? ((choice & 32) ? listener_cookie : in.u64()) : conn.vtas_cookie;
  if (choice & 64) {
    e.rx_stream_end = in.u32();
    e.rx_end_pos = in.u32();
  } else {
    // New bytes that fit the free space, or a little more; positions consistent.
    const uint32_t free_space = conn.rxb_len > conn.rxb_used ? conn.rxb_len - conn.rxb_used : 0;
    const uint32_t grow = in.below(free_space + 3);
    e.rx_stream_end = *stream_end + grow;
    e.rx_end_pos = (conn.rxb_head + grow) % (conn.rxb_len == 0 ? 1 : conn.rxb_len);
    if (choice & 128) e.rx_end_pos = in.below(conn.rxb_len + 2);
    if (grow <= free_space) *stream_end = e.rx_stream_end;
  }
  e.tx_bump = (in.u8() & 1) ? in.u32() : in.below(conn.txb_sent + 2);
  return e;
}

abi::AppEvent build_kin(FuzzInput& in, const flextcp_connection& conn,
                        const flextcp_listener& listener) {
  abi::AppEvent e{};
  const uint8_t choice = in.u8();
  e.type = static_cast<uint8_t>(in.below(10));
  e.flags = (choice & 1) ? in.u8() : 0;
  e.status = (choice & 2) ? static_cast<int16_t>(in.u16()) : 0;
  e.request_id = in.below(4);
  switch ((choice >> 2) & 3) {
    case 0: e.opaque = conn.vtas_cookie; break;
    case 1: e.opaque = listener.vtas_cookie; break;
    case 2: e.opaque = 0; break;
    default: e.opaque = in.u64(); break;
  }
  e.flow_id = in.u32();
  e.listener_id = in.u32();
  e.rx_buffer = in.u64();
  e.tx_buffer = in.u64();
  e.rx_len = in.u32();
  e.tx_len = in.u32();
  e.core = in.u16();
  return e;
}

}  // namespace

int fuzz_client_events(const uint8_t* data, size_t size) {
  quiet_logs();
  Client& c = Client::instance();
  FuzzInput in(data, size);
  flextcp_listener listener{};
  flextcp_connection conn{};
  uint32_t flow_id = 0;
  if (!open_connection(c, in, listener, conn, &flow_id)) {
    VTAS_FUZZ_CHECK(false, "cannot open a connection on a clean context");
  }
  const uint64_t listener_cookie = listener.vtas_cookie;
  const uint32_t num_cores = c.service->options().num_cores;
  uint32_t stream_end = 0;

  for (int step = 0; step < kMaxSteps && !in.empty(); ++step) {
    switch (in.u8() % 8) {
      case 0:
      case 1:
      case 2: {
        const abi::ArxEntry e = build_arx(in, conn, flow_id, listener_cookie, &stream_end);
        const uint32_t ring = (in.u8() & 7) == 0 ? 1 - conn.fn_core % 2 : conn.fn_core;
        if (!c.fake->push_arx(ring % num_cores, e)) c.poll_all(listener, conn);
        break;
      }
      case 3:
        if (!c.fake->push_kin(build_kin(in, conn, listener))) c.poll_all(listener, conn);
        break;
      case 4:
        c.poll_all(listener, conn);
        break;
      case 5:
        if (conn.vtas_cookie != 0 && conn.rxb_used > 0) {
          (void)flextcp_connection_rx_done(&c.ctx, &conn, 1 + in.below(conn.rxb_used));
        }
        break;
      case 6:
        if (conn.vtas_cookie != 0) {
          void* buf = nullptr;
          const ssize_t n = flextcp_connection_tx_alloc(&conn, in.below(conn.txb_len + 1), &buf);
          if (n > 0) {
            VTAS_FUZZ_CHECK(buf >= conn.txb_base &&
                                static_cast<uint8_t*>(buf) + n <= conn.txb_base + conn.txb_len,
                            "tx_alloc outside the tx buffer");
            std::memset(buf, 'x', static_cast<size_t>(n));
            (void)flextcp_connection_tx_send(&c.ctx, &conn, static_cast<size_t>(n));
          }
        }
        break;
      default:
        if (conn.vtas_cookie != 0 && (in.u8() & 3) == 0) {
          (void)flextcp_connection_tx_close(&c.ctx, &conn);
        }
        break;
    }
    if ((step & 7) == 7) c.drain_service();
  }
  c.poll_all(listener, conn);

  // Remove both as the service would (spontaneous close events), whatever the input did.
  if (conn.vtas_cookie != 0) {
    abi::AppEvent closed{};
    closed.type = static_cast<uint8_t>(abi::AppEventType::kConnClosed);
    closed.opaque = conn.vtas_cookie;
    closed.flow_id = flow_id;
    c.poll_all(listener, conn);
    VTAS_FUZZ_CHECK(c.fake->push_kin(closed), "kin ring full");
  }
  if (listener.vtas_cookie != 0) {
    abi::AppEvent closed{};
    closed.type = static_cast<uint8_t>(abi::AppEventType::kListenClosed);
    closed.opaque = listener.vtas_cookie;
    c.poll_all(listener, conn);
    VTAS_FUZZ_CHECK(c.fake->push_kin(closed), "kin ring full");
  }
  c.poll_all(listener, conn);
  c.drain_service();
  VTAS_FUZZ_CHECK(conn.vtas_cookie == 0 && listener.vtas_cookie == 0,
                  "the library kept a closed connection or listener");
  return 0;
}

}  // namespace vtas::fuzz
