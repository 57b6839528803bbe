// The framing of QEMU's ivshmem server protocol (QEMU docs/specs/ivshmem-spec.rst): over a unix
// stream socket, every message is one little-endian int64, optionally with one fd in
// SCM_RIGHTS, sent with one sendmsg so the fd stays attached to its 8 bytes. The host proxy
// sends (server side); the guest proxy's client transport receives, as QEMU does.
//
// What the server sends a new peer, in order: version 0; the peer's id; -1 with the shared
// memory fd; then per peer that peer's id with each of its eventfds (one per vector); the new
// peer's own eventfds come last. A peer id with no fd later means that peer disconnected.
#pragma once

#include <cstdint>

namespace vtas::proxy {

inline constexpr int64_t kIvshmemProtocolVersion = 0;
// The largest peer id (QEMU's IVSHMEM_MAX_PEERS).
inline constexpr int64_t kIvshmemMaxPeerId = 0xffff;

// Sends `value` with `fd` (-1: none). Returns 0 or -errno.
int send_ivshmem_message(int socket, int64_t value, int fd);

// Receives one message, waiting at most `timeout_ms`. Returns 0 with *value and *fd (-1 when
// none came with it; the caller owns it), -ETIMEDOUT, -ECONNRESET at end of stream, or -errno.
int receive_ivshmem_message(int socket, int64_t* value, int* fd, int timeout_ms);

}  // namespace vtas::proxy
