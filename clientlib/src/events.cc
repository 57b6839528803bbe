// Events: flextcp_context_poll() turns the entries of a context's rings into flextcp events.
//   kin  (abi::AppEvent, answers and spontaneous control events) -> LISTEN_*, CONN_OPEN,
//        CONN_CLOSED, CONN_MOVED;
//   arx  (abi::ArxEntry, per fast-path core) -> CONN_RECEIVED (two events when the data wraps
//        the circular rx buffer, as in TAS), CONN_SENDBUF, CONN_TXCLOSED, CONN_RESET,
//        CONN_RXCLOSED.
// kin is read before arx, as in TAS, so a connection's open answer is seen before its data
// whenever both are there. Data that arrives before the answer (the fast path may deliver it
// first: different rings) is accumulated in the connection and reported right after the
// answer, again as in TAS.
//
// Everything read from a ring is untrusted: a cookie must name a live object of this context,
// positions and lengths must fit the connection's buffers, the state must allow the event.
// An invalid entry is dropped whole (counted in stats.rejected, reason in vtas_last_error()),
// never half applied, and never dereferenced before it is checked.
#include <arpa/inet.h>
#include <errno.h>

#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "clientlib/src/api_guard.h"
#include "clientlib/src/conn_state.h"
#include "clientlib/src/context.h"
#include "clientlib/src/errors.h"
#include "clientlib/src/registry.h"

namespace vtas::client {
namespace {

constexpr uint8_t kArxTypeUpdate = 1;
constexpr uint8_t kArxKnownFlags = abi::kArxRxFin | abi::kArxReset | abi::kArxTxFinAcked;

// The events one ring entry turns into.
struct EntryEvents {
  flextcp_event events[kMaxEventsPerEntry];
  int count = 0;

  flextcp_event& add(flextcp_event_type type) {
    flextcp_event& e = events[count++];
    std::memset(&e, 0, sizeof(e));
    e.event_type = static_cast<uint8_t>(type);
    return e;
  }
};

void reject(Context& c, const char* format, ...) __attribute__((format(printf, 2, 3)));
void reject(Context& c, const char* format, ...) {
  char text[400];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof(text), format, args);
  va_end(args);
  ++c.stats.rejected;
  note_invalid(&c.invalid_printed, "context %u: dropped an invalid entry from the service: %s",
               c.id, text);
}

unsigned long long ull(uint64_t v) {
  return static_cast<unsigned long long>(v);
}

// Statuses are 0 or -errno; anything else is garbage and becomes -EPROTO.
int16_t normalized_status(int16_t status) {
  return status > 0 ? static_cast<int16_t>(-EPROTO) : status;
}

flextcp_connection* find_connection(uint64_t cookie) {
  return static_cast<flextcp_connection*>(
      Registry::instance().find(cookie, ObjectKind::kConnection));
}

flextcp_listener* find_listener(uint64_t cookie) {
  return static_cast<flextcp_listener*>(Registry::instance().find(cookie, ObjectKind::kListener));
}

void forget(flextcp_connection* conn) {
  Registry::instance().remove(conn->vtas_cookie);
  conn->vtas_cookie = 0;
  conn->status = kConnClosed;
}

void forget(flextcp_listener* listener) {
  Registry::instance().remove(listener->vtas_cookie);
  listener->vtas_cookie = 0;
  listener->status = kListenerClosed;
}

// Asks the service to drop a flow the library cannot use (its open answer was invalid). Best
// effort: opaque 0 makes the answer one the library ignores.
void abort_flow(Context& c, uint32_t flow_id) {
  abi::AppRequest r{};
  r.type = static_cast<uint8_t>(abi::AppRequestType::kConnClose);
  r.flags = abi::kCloseReset;
  r.flow_id = flow_id;
  (void)push_request(c, r);
}

// Why the connection fields of an open/accept answer cannot be used, or nullptr.
const char* connection_fields_problem(Context& c, const flextcp_connection* conn,
                                      const abi::AppEvent& e) {
  Attachment& a = c.attachment;
  if (e.core >= a.num_cores()) return "core out of range";
  if (e.rx_len == 0 || e.tx_len == 0 || e.rx_len > INT32_MAX || e.tx_len > INT32_MAX) {
    return "buffer length 0 or above 2^31";
  }
  if (!a.buffer_range_ok(e.rx_buffer, e.rx_len))
    return "rx buffer outside the heap or on a queue block";
  if (!a.buffer_range_ok(e.tx_buffer, e.tx_len))
    return "tx buffer outside the heap or on a queue block";
  if (e.rx_buffer < e.tx_buffer + e.tx_len && e.tx_buffer < e.rx_buffer + e.rx_len) {
    return "rx and tx buffers overlap";
  }
  if ((conn->flags & kConnFlowKnown) && conn->flow_id != e.flow_id) {
    return "flow id differs from the one of the data that came first";
  }
  if (conn->rxb_used > e.rx_len) return "more early data than the rx buffer holds";
  return nullptr;
}

// kConnOpened / kAccepted: the answer to flextcp_connection_open / flextcp_listen_accept.
void on_connection_answer(Context& c, const abi::AppEvent& e, bool accepted, EntryEvents& out) {
  const char* what = accepted ? "accepted" : "conn-opened";
  flextcp_connection* conn = find_connection(e.opaque);
  if (conn == nullptr || conn->vtas_owner != &c) {
    // "closed before" tells a cookie answered twice from one that never was ours.
    return reject(c,
                  "%s event (flow %u, request %u, peer port %u): cookie %#llx names no "
                  "connection of this context (%s)",
                  what, e.flow_id, e.request_id, ntohs(e.remote_port), ull(e.opaque),
                  Registry::instance().is_stale(e.opaque) ? "closed before" : "never handed out");
  }
  const uint8_t expected = accepted ? kConnAcceptRequested : kConnOpenRequested;
  if (conn->status != expected) {
    return reject(c, "%s event for a connection in state %u", what, conn->status);
  }
  int16_t status = normalized_status(e.status);
  if (status == 0) {
    if (const char* problem = connection_fields_problem(c, conn, e)) {
      reject(c, "%s event for flow %u: %s (rx %llu+%u, tx %llu+%u, core %u)", what, e.flow_id,
             problem, ull(e.rx_buffer), e.rx_len, ull(e.tx_buffer), e.tx_len, e.core);
      abort_flow(c, e.flow_id);
      status = static_cast<int16_t>(-EPROTO);
    }
  }
  flextcp_event& answer = out.add(accepted ? FLEXTCP_EV_LISTEN_ACCEPT : FLEXTCP_EV_CONN_OPEN);
  if (accepted) {
    answer.ev.listen_accept.status = status;
    answer.ev.listen_accept.conn = conn;
  } else {
    answer.ev.conn_open.status = status;
    answer.ev.conn_open.conn = conn;
  }
  if (status != 0) return forget(conn);

  uint8_t* base = c.attachment.base();
  conn->rxb_base = base + e.rx_buffer;
  conn->rxb_len = e.rx_len;
  conn->rxb_head %= e.rx_len;  // early data started at position 0
  conn->txb_base = base + e.tx_buffer;
  conn->txb_len = e.tx_len;
  conn->txb_head = conn->txb_sent = conn->txb_allocated = 0;
  conn->local_ip = ntohl(e.local_ip);
  conn->local_port = ntohs(e.local_port);
  if (accepted) {
    conn->remote_ip = ntohl(e.remote_ip);
    conn->remote_port = ntohs(e.remote_port);
  }
  if (!(conn->flags & kConnFlowKnown)) conn->fn_core = e.core;  // else: the core that sent data
  conn->flow_id = e.flow_id;
  conn->flags |= kConnFlowKnown;
  conn->status = kConnOpen;

  if (conn->rxb_used > 0) {
    flextcp_event& data = out.add(FLEXTCP_EV_CONN_RECEIVED);
    data.ev.conn_received.buf = conn->rxb_base;
    data.ev.conn_received.len = conn->rxb_used;
    data.ev.conn_received.conn = conn;
  }
  if (conn->flags & kConnReset) out.add(FLEXTCP_EV_CONN_RESET).ev.conn_reset.conn = conn;
  if (conn->flags & (kConnEarlyRxFin | kConnReset)) {
    conn->rx_closed = 1;
    out.add(FLEXTCP_EV_CONN_RXCLOSED).ev.conn_rxclosed.conn = conn;
  }
}

void on_listen_opened(Context& c, const abi::AppEvent& e, EntryEvents& out) {
  flextcp_listener* listener = find_listener(e.opaque);
  if (listener == nullptr || listener->vtas_owner != &c) {
    return reject(c, "listen-opened event: cookie %#llx names no listener of this context",
                  ull(e.opaque));
  }
  if (listener->status != kListenerOpenRequested) {
    return reject(c, "listen-opened event for a listener in state %u", listener->status);
  }
  const int16_t status = normalized_status(e.status);
  flextcp_event& ev = out.add(FLEXTCP_EV_LISTEN_OPEN);
  ev.ev.listen_open.status = status;
  ev.ev.listen_open.listener = listener;
  if (status != 0) return forget(listener);
  listener->listener_id = e.listener_id;
  listener->status = kListenerOpen;
}

void on_listen_new_connection(Context& c, const abi::AppEvent& e, EntryEvents& out) {
  flextcp_listener* listener = find_listener(e.opaque);
  if (listener == nullptr || listener->vtas_owner != &c) {
    if (Registry::instance().is_stale(e.opaque)) return;  // raced with a listener close
    return reject(c, "listen-newconn event: cookie %#llx names no listener of this context",
                  ull(e.opaque));
  }
  if (listener->status != kListenerOpen) return;  // closing: nobody will accept it
  if (listener->listener_id != e.listener_id) {
    return reject(c, "listen-newconn event: listener id %u, the listener's is %u", e.listener_id,
                  listener->listener_id);
  }
  flextcp_event& ev = out.add(FLEXTCP_EV_LISTEN_NEWCONN);
  ev.ev.listen_newconn.remote_ip = ntohl(e.remote_ip);
  ev.ev.listen_newconn.remote_port = ntohs(e.remote_port);
  ev.ev.listen_newconn.listener = listener;
}

void on_connection_closed(Context& c, const abi::AppEvent& e, EntryEvents& out) {
  if (e.opaque == 0) return;  // the answer to an abort_flow()
  flextcp_connection* conn = find_connection(e.opaque);
  if (conn == nullptr || (conn->vtas_owner != &c && conn->vtas_move_target != &c)) {
    if (Registry::instance().is_stale(e.opaque)) return;
    return reject(c, "conn-closed event: cookie %#llx names no connection of this context",
                  ull(e.opaque));
  }
  if (normalized_status(e.status) == -ENOBUFS && conn->status == kConnCloseRequested) {
    // Refused for now, not done: the service still has the connection. Ask again (poll does)
    // instead of reporting a close that did not happen and leaving the flow behind.
    c.close_retries.push_back(conn->vtas_cookie);
    return;
  }
  flextcp_event& ev = out.add(FLEXTCP_EV_CONN_CLOSED);
  ev.ev.conn_closed.status = normalized_status(e.status);
  ev.ev.conn_closed.conn = conn;
  forget(conn);
}

void on_connection_moved(Context& c, const abi::AppEvent& e, EntryEvents& out) {
  flextcp_connection* conn = find_connection(e.opaque);
  if (conn == nullptr || conn->vtas_move_target != &c) {
    return reject(c, "conn-moved event: cookie %#llx names no connection moving to this context",
                  ull(e.opaque));
  }
  const int16_t status = normalized_status(e.status);
  conn->vtas_move_target = nullptr;
  if (status == 0) {
    conn->vtas_prev_owner = conn->vtas_owner;  // its older data events may still come there
    conn->vtas_owner = &c;
    Registry::instance().set_owner(conn->vtas_cookie, &c);
  }
  flextcp_event& ev = out.add(FLEXTCP_EV_CONN_MOVED);
  ev.ev.conn_moved.status = status;
  ev.ev.conn_moved.conn = conn;
}

void on_listen_closed(Context& c, const abi::AppEvent& e, EntryEvents& out) {
  flextcp_listener* listener = find_listener(e.opaque);
  if (listener == nullptr || listener->vtas_owner != &c) {
    return reject(c, "listen-closed event: cookie %#llx names no listener of this context",
                  ull(e.opaque));
  }
  flextcp_event& ev = out.add(FLEXTCP_EV_LISTEN_CLOSED);
  ev.ev.listen_closed.status = normalized_status(e.status);
  ev.ev.listen_closed.listener = listener;
  forget(listener);
}

void on_kin_event(Context& c, const abi::AppEvent& e, EntryEvents& out) {
  ++c.stats.kin_events;
  switch (static_cast<abi::AppEventType>(e.type)) {
    case abi::AppEventType::kConnOpened:
      return on_connection_answer(c, e, false, out);
    case abi::AppEventType::kAccepted:
      return on_connection_answer(c, e, true, out);
    case abi::AppEventType::kListenOpened:
      return on_listen_opened(c, e, out);
    case abi::AppEventType::kListenNewConn:
      return on_listen_new_connection(c, e, out);
    case abi::AppEventType::kConnClosed:
      return on_connection_closed(c, e, out);
    case abi::AppEventType::kConnMoved:
      return on_connection_moved(c, e, out);
    case abi::AppEventType::kListenClosed:
      return on_listen_closed(c, e, out);
    case abi::AppEventType::kScaled:
      return;  // no request of ours asks for it; nothing to report
    case abi::AppEventType::kNone:
      break;
  }
  reject(c, "kin event of unknown type %u", e.type);
}

// How far an entry's receive stream end lies ahead of what the connection has (entries are
// cumulative, see abi::ArxEntry): > 0 new bytes, <= 0 nothing new (an entry that came on
// another core's ring after a later one).
int32_t rx_ahead(const flextcp_connection* conn, const abi::ArxEntry& e) {
  return static_cast<int32_t>(e.rx_stream_end - conn->vtas_rx_stream);
}

// Data that arrived before the open answer: remembered in the connection, reported with it.
// The buffer's length is not known yet, so positions are checked when the answer comes.
void on_early_data(Context& c, flextcp_connection* conn, uint32_t core, const abi::ArxEntry& e) {
  if (e.tx_bump != 0 || (e.flags & abi::kArxTxFinAcked)) {
    return reject(c, "arx entry for flow %u acknowledges tx data before the connection opened",
                  e.flow_id);
  }
  const int32_t ahead = rx_ahead(conn, e);
  const uint32_t new_bytes = ahead > 0 ? static_cast<uint32_t>(ahead) : 0;
  if (new_bytes > INT32_MAX - conn->rxb_used) {
    return reject(c, "arx entry for flow %u: %u bytes of early data on top of %u", e.flow_id,
                  new_bytes, conn->rxb_used);
  }
  if (new_bytes != 0 && (conn->flags & kConnEarlyRxFin)) {
    return reject(c, "arx entry for flow %u: data after the peer's FIN", e.flow_id);
  }
  if (ahead < 0) {
    ++c.stats.stale_rx_entries;
    return;  // everything it says was said by a later entry
  }
  conn->rxb_head += new_bytes;
  conn->rxb_used += new_bytes;
  conn->vtas_rx_stream = e.rx_stream_end;
  conn->flow_id = e.flow_id;
  conn->fn_core = static_cast<uint16_t>(core);
  conn->flags |= kConnFlowKnown;
  if (e.flags & abi::kArxRxFin) conn->flags |= kConnEarlyRxFin;
  if (e.flags & abi::kArxReset) conn->flags |= kConnReset;
}

void on_open_data(Context& c, flextcp_connection* conn, uint32_t core, const abi::ArxEntry& e,
                  EntryEvents& out) {
  // Check everything first: an entry is applied whole or not at all.
  const int32_t ahead = rx_ahead(conn, e);
  const uint32_t new_bytes = ahead > 0 ? static_cast<uint32_t>(ahead) : 0;
  if (new_bytes != 0) {
    const uint32_t end =
        static_cast<uint32_t>((uint64_t{conn->rxb_head} + new_bytes) % conn->rxb_len);
    if (new_bytes > conn->rxb_len - conn->rxb_used || e.rx_end_pos != end) {
      return reject(c,
                    "arx entry for flow %u: %u new bytes ending at position %u, but the next "
                    "byte goes to %u and only %u of %u bytes are free",
                    e.flow_id, new_bytes, e.rx_end_pos, conn->rxb_head,
                    conn->rxb_len - conn->rxb_used, conn->rxb_len);
    }
    if (conn->rx_closed) {
      return reject(c, "arx entry for flow %u: %u bytes after the end of the stream", e.flow_id,
                    new_bytes);
    }
  }
  if (e.tx_bump > conn->txb_sent) {
    return reject(c, "arx entry for flow %u acknowledges %u bytes, only %u are in flight",
                  e.flow_id, e.tx_bump, conn->txb_sent);
  }
  if ((e.flags & abi::kArxTxFinAcked) && !(conn->flags & kConnTxClosed)) {
    return reject(c, "arx entry for flow %u acknowledges a FIN that was never sent", e.flow_id);
  }

  if (ahead >= 0) {
    conn->fn_core = static_cast<uint16_t>(core);  // the flow's current core (not an older one)
  } else {
    ++c.stats.stale_rx_entries;  // its data came with a later entry on another core's ring
  }
  if (new_bytes != 0) {
    conn->vtas_rx_stream = e.rx_stream_end;
    const uint32_t head = conn->rxb_head;
    const uint32_t first = new_bytes <= conn->rxb_len - head ? new_bytes : conn->rxb_len - head;
    flextcp_event& piece = out.add(FLEXTCP_EV_CONN_RECEIVED);
    piece.ev.conn_received.buf = conn->rxb_base + head;
    piece.ev.conn_received.len = first;
    piece.ev.conn_received.conn = conn;
    if (first < new_bytes) {  // wraps around the circular buffer: a second piece at its start
      flextcp_event& rest = out.add(FLEXTCP_EV_CONN_RECEIVED);
      rest.ev.conn_received.buf = conn->rxb_base;
      rest.ev.conn_received.len = new_bytes - first;
      rest.ev.conn_received.conn = conn;
    }
    conn->rxb_head = static_cast<uint32_t>((uint64_t{head} + new_bytes) % conn->rxb_len);
    conn->rxb_used += new_bytes;
  }
  if (e.tx_bump != 0) {
    conn->txb_sent -= e.tx_bump;
    out.add(FLEXTCP_EV_CONN_SENDBUF).ev.conn_sendbuf.conn = conn;
  }
  if ((e.flags & abi::kArxTxFinAcked) && !(conn->flags & kConnTxClosedAcked)) {
    conn->flags |= kConnTxClosedAcked;
    out.add(FLEXTCP_EV_CONN_TXCLOSED).ev.conn_txclosed.conn = conn;
  }
  if ((e.flags & abi::kArxReset) && !(conn->flags & kConnReset)) {
    conn->flags |= kConnReset;
    out.add(FLEXTCP_EV_CONN_RESET).ev.conn_reset.conn = conn;
  }
  if ((e.flags & (abi::kArxRxFin | abi::kArxReset)) && !conn->rx_closed) {
    conn->rx_closed = 1;
    out.add(FLEXTCP_EV_CONN_RXCLOSED).ev.conn_rxclosed.conn = conn;
  }
}

void on_arx_entry(Context& c, uint32_t core, const abi::ArxEntry& e, EntryEvents& out) {
  ++c.stats.arx_entries;
  if (e.type != kArxTypeUpdate || e.core != core || (e.flags & ~kArxKnownFlags) != 0) {
    return reject(c, "arx entry on core %u ring: type %u, core %u, flags %#x", core, e.type, e.core,
                  e.flags);
  }
  flextcp_connection* conn = find_connection(e.opaque);
  if (conn == nullptr) {
    if (Registry::instance().is_stale(e.opaque)) {
      ++c.stats.dropped_closed;  // data for a connection closed meanwhile
      return;
    }
    return reject(c, "arx entry: cookie %#llx names no connection", ull(e.opaque));
  }
  if (conn->vtas_owner != &c && conn->vtas_prev_owner != &c) {
    return reject(c, "arx entry: cookie %#llx names a connection of another context",
                  ull(e.opaque));
  }
  if ((conn->flags & kConnFlowKnown) && conn->flow_id != e.flow_id) {
    return reject(c, "arx entry: flow id %u for the connection of flow %u", e.flow_id,
                  conn->flow_id);
  }
  switch (conn->status) {
    case kConnOpenRequested:
    case kConnAcceptRequested:
      return on_early_data(c, conn, core, e);
    case kConnOpen:
      return on_open_data(c, conn, core, e, out);
    default:
      ++c.stats.dropped_closed;  // closing: the app said it is done with it
      return;
  }
}

// Hands out as many of `produced` as fit in events[n..num); the rest goes to the backlog.
int deliver(Context& c, const EntryEvents& produced, flextcp_event* events, int n, int num) {
  int i = 0;
  for (; i < produced.count && n < num; ++i) events[n++] = produced.events[i];
  for (; i < produced.count; ++i) c.backlog.events[c.backlog.count++] = produced.events[i];
  c.backlog.head = 0;
  return n;
}

int take_backlog(Context& c, flextcp_event* events, int num) {
  int n = 0;
  while (n < num && c.backlog.count > 0) {
    events[n++] = c.backlog.events[c.backlog.head++];
    --c.backlog.count;
  }
  if (c.backlog.count == 0) c.backlog.head = 0;
  return n;
}

int poll_context(Context& c, int num, flextcp_event* events) {
  if (!c.close_retries.empty()) retry_refused_closes(c);
  int n = take_backlog(c, events, num);
  EntryEvents produced;
  abi::AppEvent kin_event;
  while (n < num && c.backlog.empty() && c.kin.try_pop(kin_event)) {
    produced.count = 0;
    on_kin_event(c, kin_event, produced);
    n = deliver(c, produced, events, n, num);
  }
  const auto cores = static_cast<uint32_t>(c.arx.size());
  abi::ArxEntry arx_entry;
  for (uint32_t visited = 0; visited < cores && n < num && c.backlog.empty(); ++visited) {
    const uint32_t core = c.next_arx;
    c.next_arx = core + 1 < cores ? core + 1 : 0;
    while (n < num && c.backlog.empty() && c.arx[core].try_pop(arx_entry)) {
      produced.count = 0;
      on_arx_entry(c, core, arx_entry, produced);
      n = deliver(c, produced, events, n, num);
    }
  }
  if (n > 0) c.idle_since_ns = 0;  // blocking waits poll again for --fp-poll-interval-app
  // A dead service is reported once its last events were handed out.
  if (n == 0 && (context_corrupted(c) || service_gone(c))) return -1;
  return n;
}

}  // namespace
}  // namespace vtas::client

extern "C" int flextcp_context_poll(struct flextcp_context* ctx, int num,
                                    struct flextcp_event* events) {
  vtas::client::Context* c = vtas::client::context_of(ctx);
  if (c == nullptr) return -1;
  if (num <= 0) return 0;
  if (events == nullptr) return vtas::client::fail(EINVAL, "flextcp_context_poll: events is NULL");
  return vtas::client::guarded([&] { return vtas::client::poll_context(*c, num, events); }, -1);
}
