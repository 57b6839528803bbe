// The ABI between the fast path and an application (clientlib), in the app's own shared
// region (RegionKind::kAppContext, one memfd per app, created by the fast path at attach and
// passed to the app over the attach socket). Nothing in it belongs to another app.
//
// Region layout (offsets from the region base):
//   RegionHeader (64 B) | AppRegionHeader (64 B) | ContextDescriptor[max_contexts] (64 B each)
//   | heap: context queue blocks and connection buffers, allocated by the fast path
//
// Each context (flextcp_context) owns one queue block, all SPSC rings of 64-byte entries
// (runtime/shm/spsc_ring.h):
//   kin        service -> app   AppEvent     connection / listener lifecycle events
//   kout       app -> service   AppRequest   open, listen, accept, close, move
//   arx[core]  fast path core -> app   ArxEntry    data arrived / space freed / FIN / reset
//   atx[core]  app -> fast path core   AtxEntry    app consumed rx bytes / queued tx bytes
// Block layout: kin, kout, then arx[0..cores), then atx[0..cores), each ring_bytes(capacity).
//
// Trust: the fast path never reads the descriptors back (it keeps its own copy) and bounds-
// checks every field of every entry an app writes; garbage only hurts the app that wrote it.
#pragma once

#include <sched.h>

#include <cstddef>
#include <cstdint>

#include "runtime/shm/spsc_ring.h"

namespace vtas::abi {

inline constexpr uint32_t kAppLayoutVersion = 2;  // 2: cumulative arx entries
inline constexpr uint32_t kMaxAppContexts = 64;
inline constexpr uint32_t kMaxAppCores = 16;

struct AppRegionHeader {
  uint32_t app_id;
  uint32_t num_cores;         // fast-path cores: number of arx/atx rings per context
  uint32_t max_contexts;
  uint32_t heap_offset;       // start of the allocator's area
  uint64_t heap_size;
  uint32_t kin_capacity;      // ring capacities (entries) used for every context
  uint32_t kout_capacity;
  uint32_t arx_capacity;
  uint32_t atx_capacity;
  uint32_t local_ip;          // the service's address (network order), for getsockname
  uint8_t local_mac[6];
  uint8_t reserved[6];
  // CPUs 0-63 the fast-path cores may run on (bit i: CPU i); 0 = unknown, as for apps in a
  // VM (the host's CPUs are not theirs). libvtas does not spin in its poll interval when every
  // CPU the app may use is one of these: spinning there only takes the CPU from the fast path.
  uint64_t fastpath_cpus;
};
static_assert(sizeof(AppRegionHeader) == 64);
static_assert(offsetof(AppRegionHeader, app_id) == 0);
static_assert(offsetof(AppRegionHeader, num_cores) == 4);
static_assert(offsetof(AppRegionHeader, max_contexts) == 8);
static_assert(offsetof(AppRegionHeader, heap_offset) == 12);
static_assert(offsetof(AppRegionHeader, heap_size) == 16);
static_assert(offsetof(AppRegionHeader, kin_capacity) == 24);
static_assert(offsetof(AppRegionHeader, atx_capacity) == 36);
static_assert(offsetof(AppRegionHeader, local_ip) == 40);
static_assert(offsetof(AppRegionHeader, local_mac) == 44);
static_assert(offsetof(AppRegionHeader, fastpath_cpus) == 56);

// `set` in the encoding of AppRegionHeader::fastpath_cpus (bit i: CPU i) in *mask; false when
// it holds a CPU above 63, which the mask cannot name. Both sides (the fast path
// describing its cores, libvtas comparing its own affinity) use this one encoding.
inline bool cpu_mask_of(const cpu_set_t& set, uint64_t* mask) {
  *mask = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    if (cpu >= 64) return false;
    *mask |= uint64_t{1} << cpu;
  }
  return true;
}

inline constexpr uint64_t kAppRegionHeaderOffset = 64;
inline constexpr uint64_t kContextDescriptorsOffset = 128;

enum class ContextState : uint32_t { kFree = 0, kActive = 1 };

struct ContextDescriptor {
  uint32_t state;             // ContextState
  uint32_t context_id;        // index of this descriptor
  uint64_t queue_block;       // offset of the context's queue block
  uint8_t reserved[48];
};
static_assert(sizeof(ContextDescriptor) == 64);
static_assert(offsetof(ContextDescriptor, queue_block) == 8);

// Offsets of one context's rings relative to its queue block.
struct QueueBlockLayout {
  uint64_t kin, kout, arx0, atx0, arx_stride, atx_stride, total;
};
constexpr QueueBlockLayout queue_block_layout(uint32_t cores, uint32_t kin_cap, uint32_t kout_cap,
                                              uint32_t arx_cap, uint32_t atx_cap) {
  QueueBlockLayout l{};
  l.kin = 0;
  l.kout = l.kin + shm::ring_bytes(kin_cap);
  l.arx0 = l.kout + shm::ring_bytes(kout_cap);
  l.arx_stride = shm::ring_bytes(arx_cap);
  l.atx0 = l.arx0 + l.arx_stride * cores;
  l.atx_stride = shm::ring_bytes(atx_cap);
  l.total = l.atx0 + l.atx_stride * cores;
  return l;
}

// ---- kout: app -> service control requests ----------------------------------------------------

enum class AppRequestType : uint8_t {
  kNone = 0,
  kConnOpen = 1,     // active open to remote_ip:remote_port
  kConnClose = 2,    // close a connection (flags: kCloseReset = abortive)
  kListenOpen = 3,   // listen on local_port (flags: kListenReusePort)
  kListenClose = 4,
  kAccept = 5,       // post an accept on a listener: the next connection gets `opaque`
  kConnMove = 6,     // deliver a connection's events to another context
  kRequestScale = 7, // ask for a number of fast-path cores
};

inline constexpr uint8_t kCloseReset = 1;
inline constexpr uint8_t kListenReusePort = 1;

struct AppRequest {
  uint8_t type;          // AppRequestType
  uint8_t flags;
  uint16_t context_id;   // context to answer on (must be the context whose kout carries it)
  uint32_t request_id;   // echoed in the answer
  uint64_t opaque;       // connection or listener cookie of the app
  uint32_t flow_id;      // kConnClose, kConnMove: the connection
  uint32_t listener_id;  // kListenClose, kAccept
  uint32_t remote_ip;    // kConnOpen (network order)
  uint32_t local_ip;     // kListenOpen: 0 = any
  uint16_t remote_port;  // kConnOpen (network order)
  uint16_t local_port;   // kListenOpen (network order)
  uint32_t backlog;      // kListenOpen
  uint16_t new_context;  // kConnMove
  uint16_t reserved0;
  uint32_t cores;        // kRequestScale
  uint8_t reserved[16];
};
static_assert(sizeof(AppRequest) == 64);
static_assert(offsetof(AppRequest, request_id) == 4);
static_assert(offsetof(AppRequest, opaque) == 8);
static_assert(offsetof(AppRequest, flow_id) == 16);
static_assert(offsetof(AppRequest, listener_id) == 20);
static_assert(offsetof(AppRequest, remote_ip) == 24);
static_assert(offsetof(AppRequest, local_ip) == 28);
static_assert(offsetof(AppRequest, remote_port) == 32);
static_assert(offsetof(AppRequest, local_port) == 34);
static_assert(offsetof(AppRequest, backlog) == 36);
static_assert(offsetof(AppRequest, new_context) == 40);
static_assert(offsetof(AppRequest, cores) == 44);

// ---- kin: service -> app events ----------------------------------------------------------------

enum class AppEventType : uint8_t {
  kNone = 0,
  kConnOpened = 1,     // answer to kConnOpen: status 0 and the connection, or -errno
  kListenOpened = 2,   // answer to kListenOpen: status and listener_id
  kListenNewConn = 3,  // a SYN waits on the listener and no accept is posted
  kAccepted = 4,       // a posted accept got a connection (opaque = the accept's cookie)
  kConnClosed = 5,     // the connection is gone (answer to kConnClose, or peer reset/timeout)
  kConnMoved = 6,
  kListenClosed = 7,
  kScaled = 8,
};

struct AppEvent {
  uint8_t type;          // AppEventType
  uint8_t flags;
  int16_t status;        // 0 or -errno (ECONNREFUSED, ETIMEDOUT, EADDRINUSE, ...)
  uint32_t request_id;   // of the request answered, 0 for spontaneous events
  uint64_t opaque;       // connection or listener cookie
  uint32_t flow_id;
  uint32_t listener_id;
  uint64_t rx_buffer;    // region offsets of the connection's buffers
  uint64_t tx_buffer;
  uint32_t rx_len;
  uint32_t tx_len;
  uint32_t local_ip;     // network order
  uint32_t remote_ip;
  uint16_t local_port;
  uint16_t remote_port;
  uint16_t core;         // fast-path core whose atx ring to use for this connection
  uint16_t reserved;
};
static_assert(sizeof(AppEvent) == 64);
static_assert(offsetof(AppEvent, request_id) == 4);
static_assert(offsetof(AppEvent, opaque) == 8);
static_assert(offsetof(AppEvent, flow_id) == 16);
static_assert(offsetof(AppEvent, listener_id) == 20);
static_assert(offsetof(AppEvent, rx_buffer) == 24);
static_assert(offsetof(AppEvent, tx_buffer) == 32);
static_assert(offsetof(AppEvent, rx_len) == 40);
static_assert(offsetof(AppEvent, tx_len) == 44);
static_assert(offsetof(AppEvent, local_ip) == 48);
static_assert(offsetof(AppEvent, remote_ip) == 52);
static_assert(offsetof(AppEvent, local_port) == 56);
static_assert(offsetof(AppEvent, remote_port) == 58);
static_assert(offsetof(AppEvent, core) == 60);

// ---- arx: fast path -> app data events ---------------------------------------------------------

inline constexpr uint8_t kArxRxFin = 1;      // the peer closed its side; rx stream ended
inline constexpr uint8_t kArxReset = 2;      // connection reset: no more data either way
inline constexpr uint8_t kArxTxFinAcked = 4; // our FIN was acknowledged

// Receive data is reported cumulatively, not as a delta: an entry says "in-order data now ends
// at stream byte rx_stream_end, which is buffer position rx_end_pos". With several fast-path
// cores a connection's entries can reach the app on two rings in either order (its flow moved
// between cores); the app takes whatever lies between what it has and rx_stream_end, and an
// entry that is not ahead of what it has adds nothing. rx_stream_end counts bytes since the
// connection opened (0 at open) and wraps at 2^32; buffers are far smaller than 2^31, so
// "ahead" is the sign of the 32-bit difference.
struct ArxEntry {
  uint8_t type;            // 1 = update
  uint8_t flags;           // kArx*
  uint16_t core;           // the core that produced it (use its atx ring for this connection)
  uint32_t flow_id;
  uint64_t opaque;
  uint32_t rx_stream_end;  // in-order bytes received since the connection opened (mod 2^32)...
  uint32_t rx_end_pos;     // ...ending at this rx buffer position (where the next byte goes)
  uint32_t tx_bump;        // tx bytes acknowledged since this core's previous entry: buffer
                           // space the app may reuse (deltas: they add up in any order)
  uint8_t reserved[36];
};
static_assert(sizeof(ArxEntry) == 64);
static_assert(offsetof(ArxEntry, flow_id) == 4);
static_assert(offsetof(ArxEntry, opaque) == 8);
static_assert(offsetof(ArxEntry, rx_stream_end) == 16);
static_assert(offsetof(ArxEntry, rx_end_pos) == 20);
static_assert(offsetof(ArxEntry, tx_bump) == 24);

// ---- atx: app -> fast path bumps ---------------------------------------------------------------

inline constexpr uint8_t kAtxTxFin = 1;  // the app closed its sending side (after tx_bump bytes)

struct AtxEntry {
  uint8_t type;         // 1 = bump
  uint8_t flags;        // kAtx*
  uint16_t bump_seq;    // increments per bump of this connection (stale-bump filter)
  uint32_t flow_id;
  uint32_t rx_bump;     // bytes the app consumed from the rx buffer (window opens)
  uint32_t tx_bump;     // bytes the app appended to the tx buffer
  uint8_t reserved[48];
};
static_assert(sizeof(AtxEntry) == 64);
static_assert(offsetof(AtxEntry, flow_id) == 4);
static_assert(offsetof(AtxEntry, rx_bump) == 8);
static_assert(offsetof(AtxEntry, tx_bump) == 12);

}  // namespace vtas::abi
