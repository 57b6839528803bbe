#include "clientlib/sockets/src/socket_ops.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "clientlib/sockets/src/config.h"

namespace vtas::sockets {
namespace {

constexpr uint32_t kClosedEvents = POLLHUP | POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM;

// Accept slots of closed listeners: libvtas keeps them registered (the service drops posted
// accepts silently), so their memory must stay valid. Bounded by VTAS_SOCKETS_ACCEPTS per
// listener close.
std::vector<Socket*>& abandoned_slots() {
  static auto* slots = new std::vector<Socket*>();
  return *slots;
}

bool service_holds(const Socket* s) {
  if (s->inherited) return false;
  if (s->kind == SocketKind::kConnection) {
    if (s->forgotten) return false;
    return s->state == ConnState::kConnecting || s->state == ConnState::kEstablished ||
           (s->state == ConnState::kIdle && s->listener != nullptr);
  }
  if (s->kind == SocketKind::kListener) {
    return s->listen_state == ListenState::kOpening || s->listen_state == ListenState::kOpen ||
           s->listen_state == ListenState::kClosing;
  }
  return false;
}

void remove_watchers(Socket* s) {
  for (EpollItem* item : s->watchers) {
    EpollSet* set = item->set;
    std::erase(set->items, item);
    std::erase(set->ready, item);
    delete item;
  }
  s->watchers.clear();
}

}  // namespace

uint32_t tx_space(const Socket* s) {
  const flextcp_connection& c = s->conn.c;
  if (c.txb_len == 0) return 0;
  return c.txb_len - c.txb_sent - c.txb_allocated;
}

uint32_t poll_events(const Socket* s) {
  switch (s->kind) {
    case SocketKind::kUndecided:
      return POLLOUT | POLLWRNORM | POLLHUP;  // an unconnected TCP socket, as Linux reports it
    case SocketKind::kListener:
      return s->accept_queue.empty() ? 0 : (POLLIN | POLLRDNORM);
    case SocketKind::kConnection:
      break;
  }
  uint32_t m = s->error != 0 ? POLLERR : 0;
  switch (s->state) {
    case ConnState::kIdle:
      return POLLOUT | POLLWRNORM | POLLHUP;
    case ConnState::kConnecting:
      return m;
    case ConnState::kFailed:
    case ConnState::kClosed:
      return m | kClosedEvents;
    case ConnState::kEstablished:
      break;
  }
  if (s->reset || s->inherited) return m | kClosedEvents;
  const bool rx_shut = s->peer_fin || s->rd_shut;
  if (rx_shut && s->wr_shut) m |= POLLHUP;
  if (rx_shut) m |= POLLIN | POLLRDNORM | POLLRDHUP;
  if (s->rx_avail > 0) m |= POLLIN | POLLRDNORM;
  // Writable as Linux's sk_stream_is_writeable: at least a third of the buffer is free.
  if (s->wr_shut || uint64_t{tx_space(s)} * 3 >= s->conn.c.txb_len) m |= POLLOUT | POLLWRNORM;
  return m;
}

bool signals_restart() {
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa {};
    if (sigaction(sig, nullptr, &sa) != 0) continue;
    if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN) continue;
    if (!(sa.sa_flags & SA_RESTART)) return false;
  }
  return true;
}

// ---- listeners --------------------------------------------------------------------------------

int request_listen(Engine& e, Socket* s, bool reuse_port) {
  const uint32_t flags = reuse_port ? FLEXTCP_LISTEN_REUSEPORT : 0;
  const uint32_t backlog = static_cast<uint32_t>(std::max(s->backlog, 1));
  if (flextcp_listen_open(e.context(), &s->lst.l, ntohs(s->bound_port), backlog, flags) != 0) {
    const int err = errno == EAGAIN ? ENOBUFS : errno;
    debug("listen on port %u failed: %s", ntohs(s->bound_port), vtas_last_error());
    errno = err;
    return -1;
  }
  s->listen_state = ListenState::kOpening;
  s->listen_status = 0;
  return 0;
}

int wait_listen_answer(Engine& e, Socket* s) {
  constexpr int64_t kAnswerTimeoutNs = 10'000'000'000;
  if (wait_until(e, s, kAnswerTimeoutNs,
                 [&] { return s->listen_state != ListenState::kOpening; }) != 0) {
    if (errno == EAGAIN) errno = ETIMEDOUT;
    return -1;
  }
  if (s->listen_state != ListenState::kOpen) {
    errno = s->listen_status != 0 ? s->listen_status : EIO;
    return -1;
  }
  return 0;
}

void post_accepts(Engine& e, Socket* s) {
  if (s->listen_state != ListenState::kOpen || s->orphan) return;
  const int limit = std::max(1, s->backlog);
  while (static_cast<int>(s->posted.size()) < config().accepts_ahead &&
         static_cast<int>(s->posted.size() + s->accept_queue.size()) < limit) {
    auto* slot = new (std::nothrow) Socket();
    if (slot == nullptr) return;
    slot->kind = SocketKind::kConnection;
    slot->state = ConnState::kIdle;
    slot->listener = s;
    if (flextcp_listen_accept(e.context(), &s->lst.l, &slot->conn.c) != 0) {
      delete slot;  // kout full: LISTEN_NEWCONN or the next accept() posts again
      return;
    }
    s->posted.push_back(slot);
  }
}

int ensure_listening(Engine& e, Socket* s) {
  if (s->listen_state == ListenState::kOpen) {
    post_accepts(e, s);
    return 0;
  }
  if (s->listen_state == ListenState::kClosing && s->suspend_when_closed) {
    constexpr int64_t kAnswerTimeoutNs = 10'000'000'000;
    if (wait_until(e, s, kAnswerTimeoutNs,
                   [&] { return s->listen_state != ListenState::kClosing; }) != 0) {
      return -1;
    }
  }
  if (s->listen_state != ListenState::kSuspended) return 0;
  if (!e.available()) {
    errno = ENETDOWN;
    return -1;
  }
  // The parent's listener may still be closing: EADDRINUSE for a short while.
  const timespec give_up = deadline_after_ns(2'000'000'000);
  for (;;) {
    if (request_listen(e, s, true) != 0) return -1;
    if (wait_listen_answer(e, s) == 0) break;
    if (errno != EADDRINUSE || deadline_passed(give_up)) {
      s->listen_state = ListenState::kSuspended;
      return -1;
    }
    timespec pause{0, 20'000'000};
    e.mutex().unlock();
    nanosleep(&pause, nullptr);
    e.mutex().lock();
  }
  s->inherited = false;  // the reopened listener is this process's own
  debug("listener on port %u reopened in this process", ntohs(s->bound_port));
  post_accepts(e, s);
  return 0;
}

void suspend_listener(Engine& e, Socket* s) {
  // Connections it took before the fork: a parent that does not watch its listener will not
  // accept them; a reset makes their clients retry rather than hang.
  for (Socket* conn : s->accept_queue) {
    conn->orphan = true;
    conn->listener = nullptr;
    abort_connection(e, conn);
  }
  s->accept_queue.clear();
  for (Socket* slot : s->posted) {
    slot->listener = nullptr;
    abandoned_slots().push_back(slot);
  }
  s->posted.clear();
  if (vtas_listen_close(e.context(), &s->lst.l) == 0) {
    s->listen_state = ListenState::kClosing;
    s->suspend_when_closed = true;
  }
}

void close_listener(Engine& e, Socket* s) {
  for (Socket* conn : s->accept_queue) {
    conn->orphan = true;
    conn->listener = nullptr;
    abort_connection(e, conn);
  }
  s->accept_queue.clear();
  for (Socket* slot : s->posted) {
    slot->listener = nullptr;
    abandoned_slots().push_back(slot);
  }
  s->posted.clear();
  if (s->listen_state == ListenState::kOpen && !s->inherited) {
    if (vtas_listen_close(e.context(), &s->lst.l) == 0) {
      s->listen_state = ListenState::kClosing;
    } else {
      debug("closing the listener on port %u failed: %s", ntohs(s->bound_port), vtas_last_error());
    }
  }
  // kOpening: the answer's handler closes it (the socket is an orphan by then).
}

// ---- connections ------------------------------------------------------------------------------

void flush_socket(Engine& e, Socket* s) {
  if (s->kind != SocketKind::kConnection || s->forgotten || s->inherited ||
      s->state != ConnState::kEstablished) {
    return;
  }
  if (s->abort_requested) {
    if (!s->close_sent) abort_connection(e, s);
    return;
  }
  flextcp_connection* c = &s->conn.c;
  const uint32_t unreleased = c->rxb_used - s->rx_avail;
  if (unreleased > 0) {
    if (flextcp_connection_rx_done(e.context(), c, unreleased) != 0 && errno == EAGAIN) {
      e.defer_flush(s);
    }
  }
  if (c->txb_allocated > 0 && (!s->cork || s->wr_shut) && !s->reset) {
    if (flextcp_connection_tx_send(e.context(), c, c->txb_allocated) != 0 && errno == EAGAIN) {
      e.defer_flush(s);
    }
  }
  if (s->wr_shut || s->orphan) advance_close(e, s);
}

void advance_close(Engine& e, Socket* s) {
  if (s->kind != SocketKind::kConnection || s->forgotten || s->inherited ||
      s->state != ConnState::kEstablished) {
    return;
  }
  flextcp_connection* c = &s->conn.c;
  if (s->wr_shut && !s->fin_sent && !s->reset && c->txb_allocated == 0) {
    if (flextcp_connection_tx_close(e.context(), c) == 0) {
      s->fin_sent = true;
    } else if (errno == EAGAIN) {
      e.defer_flush(s);
    } else {
      s->fin_sent = true;  // EPIPE / ECONNRESET: nothing more to send anyway
    }
  }
  if (s->orphan && !s->close_sent && (s->fin_sent || s->reset)) {
    if (flextcp_connection_close(e.context(), c) == 0) {
      s->close_sent = true;
    } else if (errno == EAGAIN) {
      e.defer_flush(s);
    }
  }
}

void abort_connection(Engine& e, Socket* s) {
  if (s->kind != SocketKind::kConnection || s->forgotten || s->inherited) return;
  if (s->state == ConnState::kConnecting) {
    s->abort_requested = true;
    return;
  }
  if (s->state != ConnState::kEstablished) return;
  s->abort_requested = true;
  if (vtas_connection_abort(e.context(), &s->conn.c) == 0) {
    s->close_sent = true;
  } else if (errno == EAGAIN) {
    e.defer_flush(s);
  }
}

size_t copy_received(Engine& e, Socket* s, const iovec* iov, int count, bool peek, size_t limit) {
  flextcp_connection* c = &s->conn.c;
  size_t want = std::min<size_t>(s->rx_avail, limit);
  size_t copied = 0;
  uint32_t pos = s->rx_tail;
  for (int i = 0; i < count && copied < want; ++i) {
    auto* dst = static_cast<uint8_t*>(iov[i].iov_base);
    size_t n = std::min(iov[i].iov_len, want - copied);
    while (n > 0) {
      const size_t piece = std::min<size_t>(n, c->rxb_len - pos);
      std::memcpy(dst, c->rxb_base + pos, piece);
      dst += piece;
      n -= piece;
      copied += piece;
      pos = static_cast<uint32_t>((pos + piece) % c->rxb_len);
    }
  }
  if (!peek && copied > 0) {
    s->rx_tail = pos;
    s->rx_avail -= static_cast<uint32_t>(copied);
    flush_socket(e, s);
  }
  return copied;
}

size_t copy_to_send(Engine& e, Socket* s, const iovec* iov, int count, size_t skip) {
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  if (skip >= total) return 0;
  flextcp_connection* c = &s->conn.c;
  void* first = nullptr;
  void* second = nullptr;
  size_t first_len = 0;
  const ssize_t got = flextcp_connection_tx_alloc2(c, total - skip, &first, &first_len, &second);
  if (got <= 0) return 0;
  auto* dst = static_cast<uint8_t*>(first);
  size_t dst_left = first_len;
  size_t left = static_cast<size_t>(got);
  for (int i = 0; i < count && left > 0; ++i) {
    const auto* src = static_cast<const uint8_t*>(iov[i].iov_base);
    size_t n = iov[i].iov_len;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    src += skip;
    n -= skip;
    skip = 0;
    n = std::min(n, left);
    while (n > 0) {
      if (dst_left == 0) {
        dst = static_cast<uint8_t*>(second);
        dst_left = static_cast<size_t>(got) - first_len;
      }
      const size_t piece = std::min(n, dst_left);
      std::memcpy(dst, src, piece);
      dst += piece;
      dst_left -= piece;
      src += piece;
      n -= piece;
      left -= piece;
    }
  }
  flush_socket(e, s);
  return static_cast<size_t>(got);
}

// ---- life cycle -------------------------------------------------------------------------------

void release_socket(Engine& e, Socket* s) {
  s->orphan = true;
  e.notify(s);  // blocked callers return EBADF
  remove_watchers(s);
  if (s->kind == SocketKind::kListener) {
    close_listener(e, s);
  } else if (s->kind == SocketKind::kConnection && !s->inherited && !s->forgotten) {
    if (s->state == ConnState::kConnecting) {
      s->abort_requested = true;
    } else if (s->state == ConnState::kEstablished) {
      if (s->linger_seconds == 0 || s->rx_avail > 0 || s->reset) {
        // Linux resets a connection closed with unread data or SO_LINGER {1, 0}.
        if (s->reset) {
          advance_close(e, s);
        } else {
          abort_connection(e, s);
        }
      } else {
        s->wr_shut = true;
        flush_socket(e, s);
      }
    }
  }
  destroy_if_unused(e, s);
}

void destroy_if_unused(Engine& e, Socket* s) {
  if (!s->orphan || s->fd_refs > 0 || s->busy > 0 || service_holds(s)) return;
  remove_watchers(s);
  e.destroy(s);
}

void fill_sockaddr(sockaddr* addr, socklen_t* len, uint32_t ip, uint16_t port) {
  if (addr == nullptr || len == nullptr) return;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = ip;
  in.sin_port = port;
  std::memcpy(addr, &in, std::min<size_t>(*len, sizeof(in)));
  *len = sizeof(in);
}

}  // namespace vtas::sockets
