// Control operations: listen, accept, open, close, move. Each one registers or looks up the
// object's cookie and pushes one abi::AppRequest on the context's kout ring; the answer comes
// back as a kin event (events.cc). A full kout ring fails the call with EAGAIN and leaves the
// object untouched, so the caller can simply retry after polling.
#include <arpa/inet.h>
#include <errno.h>

#include <cstring>

#include "clientlib/src/api_guard.h"
#include "clientlib/src/conn_state.h"
#include "clientlib/src/context.h"
#include "clientlib/src/errors.h"
#include "clientlib/src/registry.h"

namespace vtas::client {
namespace {

// Registers a fresh connection struct for an open or accept on `c`; 0 or -1.
int start_connection(Context& c, flextcp_connection* conn, const char* call) {
  if (conn == nullptr) return fail(EINVAL, "%s: conn is NULL", call);
  if (connection_is_live(conn)) {
    return fail(EBUSY,
                "%s: this flextcp_connection is still in use; close it (and wait for "
                "FLEXTCP_EV_CONN_CLOSED) before reusing its memory",
                call);
  }
  std::memset(conn, 0, sizeof(*conn));
  conn->vtas_cookie = Registry::instance().add(ObjectKind::kConnection, conn, &c);
  if (conn->vtas_cookie == 0) return fail(ENOMEM, "%s: too many open connections", call);
  conn->vtas_owner = &c;
  return 0;
}

// Pushes `r` for a freshly registered object; undoes the registration if kout is full.
int push_or_forget(Context& c, abi::AppRequest& r, uint64_t& cookie) {
  if (push_request(c, r) == 0) return 0;
  Registry::instance().remove(cookie);
  cookie = 0;
  return -1;
}

int listen_open(Context& c, flextcp_listener* listener, uint16_t port, uint32_t backlog,
                uint32_t flags) {
  if (listener == nullptr) return fail(EINVAL, "flextcp_listen_open: lst is NULL");
  if ((flags & ~uint32_t{FLEXTCP_LISTEN_REUSEPORT}) != 0) {
    return fail(EINVAL, "flextcp_listen_open: unknown flags %#x (only FLEXTCP_LISTEN_REUSEPORT)",
                flags);
  }
  if (listener_is_live(listener)) {
    return fail(EBUSY, "flextcp_listen_open: this flextcp_listener is still open");
  }
  std::memset(listener, 0, sizeof(*listener));
  listener->vtas_cookie = Registry::instance().add(ObjectKind::kListener, listener, &c);
  if (listener->vtas_cookie == 0) return fail(ENOMEM, "flextcp_listen_open: too many listeners");
  listener->vtas_owner = &c;
  listener->local_port = port;
  abi::AppRequest r{};
  r.type = static_cast<uint8_t>(abi::AppRequestType::kListenOpen);
  r.flags = (flags & FLEXTCP_LISTEN_REUSEPORT) ? abi::kListenReusePort : 0;
  r.opaque = listener->vtas_cookie;
  r.local_port = htons(port);
  r.backlog = backlog;
  if (push_or_forget(c, r, listener->vtas_cookie) != 0) return -1;
  listener->status = kListenerOpenRequested;
  return 0;
}

int listen_accept(Context& c, flextcp_listener* listener, flextcp_connection* conn) {
  if (listener == nullptr || !listener_is_live(listener) || listener->vtas_owner != &c) {
    return fail(EINVAL, "flextcp_listen_accept: not an open listener of this context");
  }
  if (listener->status != kListenerOpen) {
    return fail(EINVAL,
                "flextcp_listen_accept: the listener is not open yet (wait for "
                "FLEXTCP_EV_LISTEN_OPEN) or is closing");
  }
  if (start_connection(c, conn, "flextcp_listen_accept") != 0) return -1;
  conn->local_port = listener->local_port;
  abi::AppRequest r{};
  r.type = static_cast<uint8_t>(abi::AppRequestType::kAccept);
  r.opaque = conn->vtas_cookie;
  r.listener_id = listener->listener_id;
  r.local_port = htons(listener->local_port);
  if (push_or_forget(c, r, conn->vtas_cookie) != 0) return -1;
  conn->status = kConnAcceptRequested;
  return 0;
}

int connection_open(Context& c, flextcp_connection* conn, uint32_t ip, uint16_t port) {
  if (start_connection(c, conn, "flextcp_connection_open") != 0) return -1;
  conn->remote_ip = ip;
  conn->remote_port = port;
  abi::AppRequest r{};
  r.type = static_cast<uint8_t>(abi::AppRequestType::kConnOpen);
  r.opaque = conn->vtas_cookie;
  r.remote_ip = htonl(ip);
  r.remote_port = htons(port);
  if (push_or_forget(c, r, conn->vtas_cookie) != 0) return -1;
  conn->status = kConnOpenRequested;
  return 0;
}

// The kConnClose request for `conn` (a reset when `reset`): sent by connection_close and again
// by retry_refused_closes.
abi::AppRequest close_request(const flextcp_connection* conn, bool reset) {
  abi::AppRequest r{};
  r.type = static_cast<uint8_t>(abi::AppRequestType::kConnClose);
  r.flags = reset ? abi::kCloseReset : 0;
  r.opaque = conn->vtas_cookie;
  r.flow_id = conn->flow_id;
  return r;
}

int connection_close(Context& c, flextcp_connection* conn, bool reset, const char* call) {
  if (check_connection(c, conn, call) != 0) return -1;
  if (conn->status == kConnOpenRequested || conn->status == kConnAcceptRequested) {
    return fail(EINPROGRESS,
                "%s: the connection is not established yet; wait for its "
                "FLEXTCP_EV_CONN_OPEN / FLEXTCP_EV_LISTEN_ACCEPT, then close it",
                call);
  }
  if (conn->status == kConnCloseRequested && !reset) {
    return fail(EALREADY, "%s: the connection is already closing", call);
  }
  if (conn->vtas_move_target != nullptr) {
    return fail(EBUSY,
                "%s: the connection is moving to another context; wait for "
                "FLEXTCP_EV_CONN_MOVED",
                call);
  }
  abi::AppRequest r = close_request(conn, reset);
  if (push_request(c, r) != 0) return -1;
  conn->status = kConnCloseRequested;
  if (reset) conn->flags |= kConnAbortRequested;
  return 0;
}

int connection_move(Context& target, flextcp_connection* conn) {
  if (conn == nullptr || !connection_is_live(conn)) {
    return fail(EINVAL, "flextcp_connection_move: not an open connection");
  }
  if (conn->vtas_owner == &target) return 0;  // already there
  if (conn->status != kConnOpen) {
    return fail(EINVAL, "flextcp_connection_move: only established connections can move (state %u)",
                conn->status);
  }
  if (conn->vtas_move_target != nullptr) {
    return fail(EALREADY, "flextcp_connection_move: a move of this connection is pending");
  }
  abi::AppRequest r{};
  r.type = static_cast<uint8_t>(abi::AppRequestType::kConnMove);
  r.opaque = conn->vtas_cookie;
  r.flow_id = conn->flow_id;
  r.new_context = static_cast<uint16_t>(target.id);
  if (push_request(target, r) != 0) return -1;
  conn->vtas_move_target = &target;
  return 0;
}

int listen_close(Context& c, flextcp_listener* listener) {
  if (listener == nullptr || !listener_is_live(listener) || listener->vtas_owner != &c) {
    return fail(EINVAL, "vtas_listen_close: not an open listener of this context");
  }
  if (listener->status != kListenerOpen) {
    return fail(EINVAL, "vtas_listen_close: the listener is not open (state %u)", listener->status);
  }
  abi::AppRequest r{};
  r.type = static_cast<uint8_t>(abi::AppRequestType::kListenClose);
  r.opaque = listener->vtas_cookie;
  r.listener_id = listener->listener_id;
  r.local_port = htons(listener->local_port);
  if (push_request(c, r) != 0) return -1;
  listener->status = kListenerCloseRequested;
  return 0;
}

}  // namespace

void retry_refused_closes(Context& c) {
  size_t kept = 0;
  for (size_t i = 0; i < c.close_retries.size(); ++i) {
    flextcp_connection* conn = static_cast<flextcp_connection*>(
        Registry::instance().find(c.close_retries[i], ObjectKind::kConnection));
    if (conn == nullptr || conn->vtas_owner != &c || conn->status != kConnCloseRequested) continue;
    abi::AppRequest r = close_request(conn, (conn->flags & kConnAbortRequested) != 0);
    if (push_request(c, r) != 0) c.close_retries[kept++] = c.close_retries[i];  // kout full
  }
  c.close_retries.resize(kept);
}

}  // namespace vtas::client

using vtas::client::Context;
using vtas::client::with_context;

extern "C" int flextcp_listen_open(struct flextcp_context* ctx, struct flextcp_listener* lst,
                                   uint16_t port, uint32_t backlog, uint32_t flags) {
  return with_context(
      ctx, [&](Context& c) { return vtas::client::listen_open(c, lst, port, backlog, flags); });
}

extern "C" int flextcp_listen_accept(struct flextcp_context* ctx, struct flextcp_listener* lst,
                                     struct flextcp_connection* conn) {
  return with_context(ctx, [&](Context& c) { return vtas::client::listen_accept(c, lst, conn); });
}

extern "C" int flextcp_connection_open(struct flextcp_context* ctx, struct flextcp_connection* conn,
                                       uint32_t dst_ip, uint16_t dst_port) {
  return with_context(
      ctx, [&](Context& c) { return vtas::client::connection_open(c, conn, dst_ip, dst_port); });
}

extern "C" int flextcp_connection_close(struct flextcp_context* ctx,
                                        struct flextcp_connection* conn) {
  return with_context(ctx, [&](Context& c) {
    return vtas::client::connection_close(c, conn, false, "flextcp_connection_close");
  });
}

extern "C" int vtas_connection_abort(struct flextcp_context* ctx, struct flextcp_connection* conn) {
  return with_context(ctx, [&](Context& c) {
    return vtas::client::connection_close(c, conn, true, "vtas_connection_abort");
  });
}

extern "C" int flextcp_connection_move(struct flextcp_context* ctx,
                                       struct flextcp_connection* conn) {
  return with_context(ctx, [&](Context& c) { return vtas::client::connection_move(c, conn); });
}

extern "C" int vtas_listen_close(struct flextcp_context* ctx, struct flextcp_listener* lst) {
  return with_context(ctx, [&](Context& c) { return vtas::client::listen_close(c, lst); });
}
