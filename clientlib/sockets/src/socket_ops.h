// Operations on vtas sockets shared by the call implementations and the event dispatcher:
// readiness (poll bits), waiting, listener and connection life cycles, buffer copies.
// All run with the engine lock held.
#pragma once

#include <sys/uio.h>

#include <cstdint>

#include "clientlib/sockets/src/engine.h"
#include "clientlib/sockets/src/objects.h"

namespace vtas::sockets {

// ---- readiness ----
// The poll(2) bits Linux would report for `s` now.
uint32_t poll_events(const Socket* s);

// ---- waiting ----
// Blocks (lock released while asleep) until pred() holds after a pump. timeout_ns 0 = none.
// 0, or -1 with errno EAGAIN (timeout), EINTR (signal; restarted as SA_RESTART would unless a
// timeout is set), EBADF (the socket was closed meanwhile).
template <class Pred>
int wait_until(Engine& e, Socket* s, int64_t timeout_ns, Pred pred);
// True if a signal interrupting a blocking socket call should restart it (every caught
// signal has SA_RESTART, as Linux restarts such calls only then).
bool signals_restart();

// ---- listeners ----
// Sends the listen request; state kOpening. 0 or -1 with errno.
int request_listen(Engine& e, Socket* s, bool reuse_port);
// Waits for the answer to request_listen(); 0 or -1 with the service's errno.
int wait_listen_answer(Engine& e, Socket* s);
// Keeps accepts posted (VTAS_SOCKETS_ACCEPTS, bounded by the backlog).
void post_accepts(Engine& e, Socket* s);
// Reopens a listener that fork() left suspended (REUSEPORT, so parent and children share it).
int ensure_listening(Engine& e, Socket* s);
// Closes the listener in the service but keeps its queued connections; it becomes kSuspended
// once closed and reopens on next use (fork.cc).
void suspend_listener(Engine& e, Socket* s);
// Closes the listener in the service; queued connections are reset.
void close_listener(Engine& e, Socket* s);

// ---- connections ----
// Retries deferred bumps (rx release, tx send) and moves a closing connection along.
void flush_socket(Engine& e, Socket* s);
// Graceful close of an orphaned connection (FIN after the data, then the close request).
void advance_close(Engine& e, Socket* s);
// RST.
void abort_connection(Engine& e, Socket* s);
// Copies up to the iovec's size of received data out (peek: leave it). Returns bytes.
size_t copy_received(Engine& e, Socket* s, const iovec* iov, int count, bool peek, size_t limit);
// Copies into the tx buffer as much as fits; returns bytes taken (0: full).
size_t copy_to_send(Engine& e, Socket* s, const iovec* iov, int count, size_t skip);
// Free transmit buffer space.
uint32_t tx_space(const Socket* s);

// Last descriptor closed: close the socket (service side) and free it when possible.
void release_socket(Engine& e, Socket* s);
// Frees `s` if nothing refers to it any more.
void destroy_if_unused(Engine& e, Socket* s);

// ---- addresses ----
void fill_sockaddr(sockaddr* addr, socklen_t* len, uint32_t ip, uint16_t port);

}  // namespace vtas::sockets

#include "clientlib/sockets/src/wait_impl.h"
