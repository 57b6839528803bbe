// The library-private state values kept in the application's flextcp_connection and
// flextcp_listener structs (`status`, `flags`), and the ownership checks every entry point
// makes before it touches one: an object belongs to exactly one context, and only that
// context may name it (to the service, or in a call). Used by control.cc, connection.cc and
// events.cc.
#pragma once

#include <cerrno>
#include <cstdint>

#include "clientlib/src/context.h"
#include "clientlib/src/errors.h"
#include "clientlib/src/registry.h"
#include "vtas/tas_ll.h"

namespace vtas::client {

enum ConnStatus : uint8_t {
  kConnClosed = 0,           // not known to the service (fresh, failed, or closed)
  kConnOpenRequested = 1,    // kConnOpen sent, waiting for kConnOpened
  kConnAcceptRequested = 2,  // kAccept posted, waiting for kAccepted
  kConnOpen = 3,             // buffers known, data flows
  kConnCloseRequested = 4,   // kConnClose sent, waiting for kConnClosed
};

enum ConnFlags : uint8_t {
  kConnTxClosed = 1 << 0,       // the app closed its sending side (kAtxTxFin queued)
  kConnTxClosedAcked = 1 << 1,  // ...and the peer acknowledged the FIN
  kConnReset = 1 << 2,          // the peer reset the connection
  kConnFlowKnown = 1 << 3,      // flow_id is set (from data that came before the open answer)
  kConnEarlyRxFin = 1 << 4,     // the peer's FIN came before the open answer
  kConnAbortRequested = 1 << 5,  // the close request asks for a reset (vtas_connection_abort)
};

enum ListenerStatus : uint8_t {
  kListenerClosed = 0,
  kListenerOpenRequested = 1,
  kListenerOpen = 2,
  kListenerCloseRequested = 3,
};

// True if `conn` is registered (live) in the library; a struct being reused while live would
// corrupt the library's view of it.
inline bool connection_is_live(const flextcp_connection* conn) {
  return Registry::instance().find(conn->vtas_cookie, ObjectKind::kConnection) == conn;
}
inline bool listener_is_live(const flextcp_listener* listener) {
  return Registry::instance().find(listener->vtas_cookie, ObjectKind::kListener) == listener;
}

// 0 if `conn` is a live connection of `c`; else -1 with errno EINVAL (another context's, or
// NULL) or ENOTCONN (not opened, or already closed). `call` names the API function.
inline int check_connection(Context& c, const flextcp_connection* conn, const char* call) {
  if (conn == nullptr) return fail(EINVAL, "%s: conn is NULL", call);
  if (!connection_is_live(conn)) {
    return fail(ENOTCONN, "%s: the connection is not open (never opened, or already closed)", call);
  }
  if (conn->vtas_owner != &c) {
    return fail(EINVAL,
                "%s: the connection belongs to another context; use the context it was "
                "opened, accepted or moved on",
                call);
  }
  return 0;
}

}  // namespace vtas::client
