// Engine::dispatch: what each libvtas event does to the sockets (state, readiness, waking
// whoever waits), and how orphaned sockets finish their close once the service answers.
#include <errno.h>

#include <algorithm>
#include <cstring>

#include "clientlib/sockets/src/config.h"
#include "clientlib/sockets/src/engine.h"
#include "clientlib/sockets/src/socket_ops.h"

namespace vtas::sockets {
namespace {

void on_listen_open(Engine& e, Socket* s, int16_t status) {
  if (status == 0) {
    s->listen_state = ListenState::kOpen;
    if (s->orphan) {
      close_listener(e, s);
    } else {
      post_accepts(e, s);
    }
  } else {
    s->listen_state = ListenState::kNone;
    s->listen_status = status_errno(status);
    if (s->orphan) {
      destroy_if_unused(e, s);
      return;
    }
  }
  e.notify(s);
}

void on_accepted(Engine& e, Socket* slot, int16_t status) {
  Socket* l = slot->listener;
  if (l != nullptr) std::erase(l->posted, slot);
  if (status != 0) {
    debug("a posted accept failed: status %d", status);
    delete slot;  // libvtas forgot it; no descriptor ever referred to it
    if (l != nullptr) post_accepts(e, l);
    return;
  }
  slot->state = ConnState::kEstablished;
  if (l == nullptr || l->orphan || l->listen_state != ListenState::kOpen) {
    slot->orphan = true;
    slot->listener = nullptr;
    abort_connection(e, slot);
    return;
  }
  l->accept_queue.push_back(slot);
  post_accepts(e, l);
  e.notify(l);
}

void on_opened(Engine& e, Socket* s, int16_t status) {
  if (status == 0) {
    s->state = ConnState::kEstablished;
    if (s->orphan || s->abort_requested) abort_connection(e, s);
  } else {
    s->state = ConnState::kFailed;
    s->forgotten = true;
    s->error = status_errno(status);
    debug("connect failed: %s", strerror(s->error));
  }
  if (s->orphan) {
    destroy_if_unused(e, s);
    return;
  }
  e.notify(s);
}

void on_received(Engine& e, Socket* s, const void* buf, size_t len) {
  if (s->rx_avail == 0) {
    s->rx_tail = static_cast<uint32_t>(static_cast<const uint8_t*>(buf) - s->conn.c.rxb_base);
  }
  s->rx_avail += static_cast<uint32_t>(len);
  if (s->orphan) {
    abort_connection(e, s);  // data after close(): Linux answers with a reset
    return;
  }
  if (s->rd_shut) {  // discarded, as after shutdown(SHUT_RD)
    s->rx_tail = static_cast<uint32_t>((s->rx_tail + s->rx_avail) % s->conn.c.rxb_len);
    s->rx_avail = 0;
    flush_socket(e, s);
    return;
  }
  e.notify(s);
}

void on_closed(Engine& e, Socket* s, int16_t status) {
  s->forgotten = true;
  if (s->state == ConnState::kEstablished) s->state = ConnState::kClosed;
  if (status < 0 && !s->orphan && !s->reset && !s->peer_fin) s->error = status_errno(status);
  if (s->orphan) {
    destroy_if_unused(e, s);
    return;
  }
  e.notify(s);
}

}  // namespace

void Engine::dispatch(const flextcp_event& ev) {
  switch (ev.event_type) {
    case FLEXTCP_EV_LISTEN_OPEN:
      return on_listen_open(*this, socket_of(ev.ev.listen_open.listener), ev.ev.listen_open.status);
    case FLEXTCP_EV_LISTEN_NEWCONN:
      return post_accepts(*this, socket_of(ev.ev.listen_newconn.listener));
    case FLEXTCP_EV_LISTEN_ACCEPT:
      return on_accepted(*this, socket_of(ev.ev.listen_accept.conn), ev.ev.listen_accept.status);
    case FLEXTCP_EV_CONN_OPEN:
      return on_opened(*this, socket_of(ev.ev.conn_open.conn), ev.ev.conn_open.status);
    case FLEXTCP_EV_CONN_RECEIVED:
      return on_received(*this, socket_of(ev.ev.conn_received.conn), ev.ev.conn_received.buf,
                         ev.ev.conn_received.len);
    case FLEXTCP_EV_CONN_SENDBUF: {
      // Linux wakes writers (and reports an EPOLLOUT edge) only when a writer had found the
      // buffer full and it is writable again, not on every acknowledgement.
      Socket* s = socket_of(ev.ev.conn_sendbuf.conn);
      if (s->nospace && (poll_events(s) & POLLOUT)) {
        s->nospace = false;
        return notify(s);
      }
      if (s->orphan) advance_close(*this, s);
      return;
    }
    case FLEXTCP_EV_CONN_RXCLOSED: {
      Socket* s = socket_of(ev.ev.conn_rxclosed.conn);
      s->peer_fin = true;
      if (s->orphan) return advance_close(*this, s);
      return notify(s);
    }
    case FLEXTCP_EV_CONN_TXCLOSED: {
      Socket* s = socket_of(ev.ev.conn_txclosed.conn);
      s->fin_acked = true;
      return notify(s);
    }
    case FLEXTCP_EV_CONN_RESET: {
      Socket* s = socket_of(ev.ev.conn_reset.conn);
      s->reset = true;
      if (s->orphan) return advance_close(*this, s);
      s->error = ECONNRESET;
      return notify(s);
    }
    case FLEXTCP_EV_CONN_CLOSED:
      return on_closed(*this, socket_of(ev.ev.conn_closed.conn), ev.ev.conn_closed.status);
    case FLEXTCP_EV_LISTEN_CLOSED: {
      Socket* s = socket_of(ev.ev.listen_closed.listener);
      s->listen_state = s->suspend_when_closed ? ListenState::kSuspended : ListenState::kNone;
      s->suspend_when_closed = false;
      if (s->orphan) return destroy_if_unused(*this, s);
      return notify(s);
    }
    default:
      return;  // CONN_MOVED: connections never move (one context per process)
  }
}

}  // namespace vtas::sockets
