// Connection buffers: the app's side of a connection's circular rx and tx buffers in the app
// region, and the bumps (abi::AtxEntry) that tell the fast path about them:
//   rx_done(len)   the app is done with the oldest `len` delivered bytes -> rx_bump
//   tx_alloc(len)  space after the allocated tail of the tx buffer (pointers into the region)
//   tx_send(len)   allocated bytes are ready to go                        -> tx_bump
//   tx_close()     no more data: FIN after what was sent                  -> kAtxTxFin
// A bump goes to the atx ring of the core that last sent this connection an arx entry
// (fn_core), with bump_seq counting up per connection (the fast path drops stale ones); the
// core's doorbell rings only when it announced sleep. A full atx ring fails the call with
// EAGAIN and changes nothing: flextcp_connection_tx_possible() tells in advance.
#include <errno.h>

#include "clientlib/src/conn_state.h"
#include "clientlib/src/context.h"
#include "clientlib/src/errors.h"

namespace vtas::client {
namespace {

constexpr uint8_t kAtxTypeBump = 1;

// Pushes one bump for `conn`; 0, or -1 with EAGAIN (ring full) / EPROTO (ring corrupted).
int push_bump(Context& c, flextcp_connection* conn, uint32_t rx_bump, uint32_t tx_bump,
              uint8_t flags) {
  auto& ring = c.atx[conn->fn_core];  // fn_core < num_cores: checked when it was set
  abi::AtxEntry bump{};
  bump.type = kAtxTypeBump;
  bump.flags = flags;
  bump.bump_seq = static_cast<uint16_t>(conn->bump_seq + 1);
  bump.flow_id = conn->flow_id;
  bump.rx_bump = rx_bump;
  bump.tx_bump = tx_bump;
  if (!ring.try_push(bump)) {
    if (ring.corrupted()) return fail(EPROTO, "%s", ring.error().c_str());
    return fail(EAGAIN,
                "the bump queue to fast-path core %u is full (%u entries): poll and "
                "retry",
                conn->fn_core, ring.capacity());
  }
  ++conn->bump_seq;
  if (ring.consumer_needs_wakeup()) (void)c.attachment.core_doorbell(conn->fn_core).ring();
  return 0;
}

// 0 if `conn` may send: established, sending side open, not reset.
int check_sendable(const flextcp_connection* conn, const char* call) {
  if (conn->status != kConnOpen) {
    return fail(ENOTCONN, "%s: the connection is not established (state %u)", call, conn->status);
  }
  if (conn->flags & kConnReset) return fail(ECONNRESET, "%s: the peer reset the connection", call);
  if (conn->flags & kConnTxClosed) return fail(EPIPE, "%s: the sending side is closed", call);
  return 0;
}

// Where the next allocation starts and how much may be allocated.
uint32_t alloc_position(const flextcp_connection* conn) {
  return static_cast<uint32_t>((uint64_t{conn->txb_head} + conn->txb_allocated) % conn->txb_len);
}
uint32_t alloc_space(const flextcp_connection* conn) {
  return conn->txb_len - conn->txb_sent - conn->txb_allocated;
}

int rx_done(Context& c, flextcp_connection* conn, size_t len) {
  if (check_connection(c, conn, "flextcp_connection_rx_done") != 0) return -1;
  if (len > conn->rxb_used) {
    return fail(EINVAL,
                "flextcp_connection_rx_done: %zu bytes released, only %u were received "
                "and not released yet",
                len, conn->rxb_used);
  }
  if (len == 0) return 0;
  const auto bytes = static_cast<uint32_t>(len);
  if (conn->status == kConnOpen && !(conn->flags & kConnReset)) {
    if (push_bump(c, conn, bytes, 0, 0) != 0) return -1;
  }  // else the flow is going away: nothing to tell the fast path
  conn->rxb_used -= bytes;
  return 0;
}

// Allocates up to `len` bytes after the allocated tail: in two pieces when `may_wrap` and the
// range wraps around the buffer end, else stopping at the end (TAS's short alloc).
ssize_t allocate(flextcp_connection* conn, size_t len, bool may_wrap, void** buf_1, size_t* len_1,
                 void** buf_2) {
  if (conn == nullptr || !connection_is_live(conn)) {
    return fail(ENOTCONN, "flextcp_connection_tx_alloc: not an open connection");
  }
  if (check_sendable(conn, "flextcp_connection_tx_alloc") != 0) return -1;
  const uint32_t space = alloc_space(conn);
  auto bytes = static_cast<uint32_t>(len < space ? len : space);
  const uint32_t position = alloc_position(conn);
  const uint32_t until_end = conn->txb_len - position;
  if (!may_wrap && bytes > until_end) bytes = until_end;
  *buf_1 = conn->txb_base + position;
  *len_1 = bytes > until_end ? until_end : bytes;
  *buf_2 = bytes > until_end ? conn->txb_base : nullptr;
  conn->txb_allocated += bytes;
  return bytes;
}

int tx_send(Context& c, flextcp_connection* conn, size_t len) {
  if (check_connection(c, conn, "flextcp_connection_tx_send") != 0) return -1;
  if (check_sendable(conn, "flextcp_connection_tx_send") != 0) return -1;
  if (len > conn->txb_allocated) {
    return fail(EINVAL, "flextcp_connection_tx_send: %zu bytes sent, only %u were allocated", len,
                conn->txb_allocated);
  }
  if (len == 0) return 0;
  const auto bytes = static_cast<uint32_t>(len);
  if (push_bump(c, conn, 0, bytes, 0) != 0) return -1;
  conn->txb_allocated -= bytes;
  conn->txb_sent += bytes;
  conn->txb_head = static_cast<uint32_t>((uint64_t{conn->txb_head} + bytes) % conn->txb_len);
  return 0;
}

int tx_close(Context& c, flextcp_connection* conn) {
  if (check_connection(c, conn, "flextcp_connection_tx_close") != 0) return -1;
  if (check_sendable(conn, "flextcp_connection_tx_close") != 0) return -1;
  if (conn->txb_allocated != 0) {
    return fail(EINVAL,
                "flextcp_connection_tx_close: %u allocated bytes were not sent; send "
                "them first",
                conn->txb_allocated);
  }
  if (push_bump(c, conn, 0, 0, abi::kAtxTxFin) != 0) return -1;
  conn->flags |= kConnTxClosed;
  return 0;
}

int tx_possible(Context& c, flextcp_connection* conn) {
  if (check_connection(c, conn, "flextcp_connection_tx_possible") != 0) return -1;
  if (conn->status != kConnOpen) {
    return fail(ENOTCONN, "flextcp_connection_tx_possible: not established (state %u)",
                conn->status);
  }
  auto& ring = c.atx[conn->fn_core];
  if (ring.free_slots() > 0) return 0;
  if (ring.corrupted()) return fail(EPROTO, "%s", ring.error().c_str());
  return fail(EAGAIN, "the bump queue to fast-path core %u is full", conn->fn_core);
}

}  // namespace
}  // namespace vtas::client

using vtas::client::Context;
using vtas::client::with_context;

extern "C" int flextcp_connection_rx_done(struct flextcp_context* ctx,
                                          struct flextcp_connection* conn, size_t len) {
  return with_context(ctx, [&](Context& c) { return vtas::client::rx_done(c, conn, len); });
}

extern "C" ssize_t flextcp_connection_tx_alloc(struct flextcp_connection* conn, size_t len,
                                               void** buf) {
  if (buf == nullptr) return vtas::client::fail(EINVAL, "flextcp_connection_tx_alloc: buf is NULL");
  size_t first = 0;
  void* second = nullptr;
  return vtas::client::allocate(conn, len, false, buf, &first, &second);
}

extern "C" ssize_t flextcp_connection_tx_alloc2(struct flextcp_connection* conn, size_t len,
                                                void** buf_1, size_t* len_1, void** buf_2) {
  if (buf_1 == nullptr || len_1 == nullptr || buf_2 == nullptr) {
    return vtas::client::fail(EINVAL, "flextcp_connection_tx_alloc2: NULL output pointer");
  }
  return vtas::client::allocate(conn, len, true, buf_1, len_1, buf_2);
}

extern "C" int flextcp_connection_tx_send(struct flextcp_context* ctx,
                                          struct flextcp_connection* conn, size_t len) {
  return with_context(ctx, [&](Context& c) { return vtas::client::tx_send(c, conn, len); });
}

extern "C" int flextcp_connection_tx_close(struct flextcp_context* ctx,
                                           struct flextcp_connection* conn) {
  return with_context(ctx, [&](Context& c) { return vtas::client::tx_close(c, conn); });
}

extern "C" int flextcp_connection_tx_possible(struct flextcp_context* ctx,
                                              struct flextcp_connection* conn) {
  return with_context(ctx, [&](Context& c) { return vtas::client::tx_possible(c, conn); });
}
