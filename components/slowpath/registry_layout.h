// The conn registry's shared-memory ABI (RegionKind::kConnRegistry, file
// <runtime_dir>/<actor name>.registry): what a conn incarnation leaves for the next one, so a
// kill -9 of conn loses no listener, posted accept, handshake (active or passive, up to the
// app's accept), connection record or TIME_WAIT entry. Only conn maps it (mode 0600); the
// layout is still pinned like every vtas shared ABI (runtime/shm/abi.h rules): fixed-width
// fields, explicit padding, static_asserts.
//
// Layout (offsets from the region base, every table 64-byte aligned):
//   RegionHeader (64) | RegistryHeader (64) | Slot<MetaRecord> | Slot<AppRecord>[apps]
//   | Slot<ListenerRecord>[listeners] | Slot<AcceptRecord>[accepts] | Slot<ConnRecord>[conns]
//   | Slot<TimeWaitRecord>[time_wait] | Slot<RequestLogRecord>[request_log]
//   | Slot<HandshakeRecord>[handshakes]
//
// Crash consistency: every slot holds two copies, each with a generation and a checksum. A
// write goes to the copy that is not the current one and bumps the generation, so a write
// torn by a crash leaves the previous version intact; on load the valid copy with the newer
// generation wins, and a slot with no valid copy is dropped (and counted). The records are
// also the in-memory representation of conn's tables: what is in memory is what is on file.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vtas::conn {

// 2: the handshakes table (passive opens in SYN-RECEIVED or waiting for an accept).
inline constexpr uint32_t kRegistryLayoutVersion = 2;

// ---- records ------------------------------------------------------------------------------

// Ids that survive restarts, the ISN key, and ordering counters.
struct MetaRecord {
  uint64_t isn_key0;
  uint64_t isn_key1;
  uint32_t next_conn_id;      // conn ids are never 0
  uint32_t next_listener_id;  // listener ids are never 0
  uint64_t next_order;        // orders listeners in a REUSEPORT group, accepts, request log
};
static_assert(sizeof(MetaRecord) == 32);
static_assert(offsetof(MetaRecord, next_conn_id) == 16);
static_assert(offsetof(MetaRecord, next_order) == 24);

// An attached application (AppAttached), so requests can be told from a detached app's.
struct AppRecord {
  uint32_t app_id;
  uint32_t pid;
  uint32_t uid;
  uint32_t reserved;
};
static_assert(sizeof(AppRecord) == 16);

struct ListenerRecord {
  uint32_t listener_id;
  uint32_t app_id;
  uint32_t context_id;  // gets LISTEN_NEW_CONN (the accept's context gets ACCEPTED)
  uint32_t local_ip;    // host order; 0 = any local address
  uint16_t local_port;  // host order
  uint8_t reuse_port;   // 0 or 1
  uint8_t reserved0;
  uint32_t backlog;     // SYNs that may wait without a posted accept (already capped)
  uint64_t opaque;      // the app's listener cookie
  uint32_t request_id;  // of the LISTEN_OPEN
  uint32_t reserved1;
  uint64_t order;  // creation order (stable REUSEPORT group order across restarts)
};
static_assert(sizeof(ListenerRecord) == 48);
static_assert(offsetof(ListenerRecord, local_port) == 16);
static_assert(offsetof(ListenerRecord, backlog) == 20);
static_assert(offsetof(ListenerRecord, opaque) == 24);
static_assert(offsetof(ListenerRecord, order) == 40);

// An accept an app posted ahead of time: the next connection of the listener gets `opaque`.
struct AcceptRecord {
  uint32_t listener_id;
  uint32_t app_id;
  uint32_t context_id;  // gets ACCEPTED and the connection's events
  uint32_t request_id;
  uint64_t opaque;
  uint64_t order;  // posting order (accepts are served first come, first served)
};
static_assert(sizeof(AcceptRecord) == 32);
static_assert(offsetof(AcceptRecord, opaque) == 16);

// ConnRecord::state.
enum class ConnState : uint8_t {
  kFree = 0,
  kResolving = 1,    // active open: waiting for the next hop's MAC from arp
  kSynSent = 2,      // active open: SYN sent, handshake timer armed
  kInstalling = 3,   // InstallFlow sent (carrying our SYN-ACK or our ACK), not answered yet
  kEstablished = 4,  // installed in the fast path; flow_id is valid
  kClosing = 5,      // the flow or the app is done with it; waiting for the other, or for
                     // FlowInfo / the flow's removal
};
inline constexpr uint8_t kConnStateMax = 5;

// ConnRecord::role.
enum class ConnRole : uint8_t { kActive = 1, kPassive = 2 };

// ConnRecord::flags bits.
// Negotiated in the handshake:
inline constexpr uint32_t kConnTimestamps = 1u << 0;
inline constexpr uint32_t kConnEcn = 1u << 1;
inline constexpr uint32_t kConnWindowScale = 1u << 2;  // the shifts are meaningful
inline constexpr uint32_t kConnVlan = 1u << 3;         // frames carry an 802.1Q tag (vlan_tci)
inline constexpr uint32_t kConnSack = 1u << 14;        // SACK-permitted both ways
// What the fast path reported (FlowEvent) and the app asked (CONN_CLOSE):
inline constexpr uint32_t kConnRxFin = 1u << 4;
inline constexpr uint32_t kConnTxFinAcked = 1u << 5;
// Our FIN was acknowledged before the peer's FIN arrived: we keep TIME_WAIT.
inline constexpr uint32_t kConnClosedFirst = 1u << 6;
inline constexpr uint32_t kConnFlowClosed = 1u << 7;  // both directions are done
inline constexpr uint32_t kConnFlowReset = 1u << 8;
inline constexpr uint32_t kConnAppClosed = 1u << 9;
inline constexpr uint32_t kConnAbort = 1u << 10;  // CONN_CLOSE with the reset flag
// Bookkeeping:
inline constexpr uint32_t kConnEphemeralPort = 1u << 11;  // local_port is an ephemeral one
inline constexpr uint32_t kConnQuerySent = 1u << 12;      // FlowQuery for TIME_WAIT under way
inline constexpr uint32_t kConnSeqsKnown = 1u << 13;      // snd_nxt / rcv_nxt from FlowInfo
// RemoveFlow sent, not yet acknowledged: the record stays (and is sent again after a restart)
// until the fast path confirms, so a kill cannot lose the removal and leak the flow.
inline constexpr uint32_t kConnRemoveSent = 1u << 15;
inline constexpr uint32_t kConnRemoveReset = 1u << 16;   // ... with send_reset

struct ConnRecord {
  uint32_t conn_id;
  uint8_t state;             // ConnState
  uint8_t role;              // ConnRole
  uint8_t attempts;          // SYNs sent so far (active open)
  uint8_t install_attempts;  // InstallFlow requests sent so far
  uint32_t local_ip;         // host order
  uint32_t remote_ip;
  uint16_t local_port;
  uint16_t remote_port;
  uint32_t app_id;
  uint32_t context_id;   // the context that gets this connection's events
  uint32_t flow_id;      // fast-path flow (flow + 1 as in PacketIn; 0 = not installed)
  uint64_t opaque;       // the app's connection cookie
  uint32_t request_id;   // of the CONN_OPEN, or of the ACCEPT that took the SYN
  uint32_t listener_id;  // passive: the listener the SYN came through
  uint32_t local_isn;
  uint32_t remote_isn;
  uint32_t remote_window;  // peer's window from its SYN / SYN-ACK (never scaled)
  uint32_t ts_recent;      // peer's TSval from its SYN / SYN-ACK
  uint16_t send_mss;
  uint8_t snd_wscale;
  uint8_t rcv_wscale;
  uint8_t remote_mac[6];  // next hop
  uint16_t vlan_tci;
  uint32_t flow_group;        // RSS bucket of the peer's SYN / SYN-ACK
  uint32_t flags;             // ConnFlags
  uint32_t close_request_id;  // of the CONN_CLOSE to answer
  uint32_t close_context_id;
  uint32_t rto_us;       // current handshake timeout (doubles per retry)
  uint64_t deadline_ns;  // monotonic: handshake retry (kSynSent) or close give-up (kClosing)
  uint32_t snd_nxt;      // from FlowInfo at close, for TIME_WAIT
  uint32_t rcv_nxt;
};
static_assert(sizeof(ConnRecord) == 112);
static_assert(offsetof(ConnRecord, local_ip) == 8);
static_assert(offsetof(ConnRecord, app_id) == 20);
static_assert(offsetof(ConnRecord, opaque) == 32);
static_assert(offsetof(ConnRecord, local_isn) == 48);
static_assert(offsetof(ConnRecord, send_mss) == 64);
static_assert(offsetof(ConnRecord, remote_mac) == 68);
static_assert(offsetof(ConnRecord, flow_group) == 76);
static_assert(offsetof(ConnRecord, flags) == 80);
static_assert(offsetof(ConnRecord, deadline_ns) == 96);
static_assert(offsetof(ConnRecord, rcv_nxt) == 108);

// TimeWaitRecord::flags bits.
inline constexpr uint8_t kTimeWaitTimestamps = 1u << 0;  // our ACKs carry timestamps
inline constexpr uint8_t kTimeWaitSeqsKnown = 1u << 1;   // snd_nxt / rcv_nxt from FlowInfo
inline constexpr uint8_t kTimeWaitEphemeral = 1u << 2;   // the local port is an ephemeral one
// Not a TIME_WAIT: a passive close's short linger (conn_close.cc), which swallows the peer's
// late ACKs instead of answering them with RSTs.
inline constexpr uint8_t kTimeWaitLinger = 1u << 3;

struct TimeWaitRecord {
  uint32_t local_ip;
  uint32_t remote_ip;
  uint16_t local_port;
  uint16_t remote_port;
  uint32_t snd_nxt;     // our next sequence number (after our FIN)
  uint32_t rcv_nxt;     // the peer's next (after its FIN)
  uint32_t ts_recent;   // highest TSval seen from the peer (RFC 6191 check)
  uint64_t expires_ns;  // monotonic
  uint8_t flags;        // TimeWaitFlags
  uint8_t reserved[7];
};
static_assert(sizeof(TimeWaitRecord) == 40);
static_assert(offsetof(TimeWaitRecord, snd_nxt) == 12);
static_assert(offsetof(TimeWaitRecord, expires_ns) == 24);
static_assert(offsetof(TimeWaitRecord, flags) == 32);

// One app request conn has seen, so a request the fast path relays again (after a conn
// restart) is not executed twice, and its answer can be sent again.
struct RequestLogRecord {
  uint64_t order;  // insertion order: the newest entry is the ring's head
  uint32_t app_id;
  uint32_t context_id;
  uint32_t request_id;
  uint8_t request_type;  // fastpath::AppRequestIn::Type
  uint8_t answered;      // 1 once answered
  uint8_t notify_type;   // fastpath::AppNotify::Type to send again; 0 = nothing to resend
  uint8_t reserved0;
  int32_t status;
  uint32_t flow_id;
  uint64_t opaque;
  uint32_t listener_id;
  uint32_t local_ip;
  uint32_t remote_ip;
  uint16_t local_port;
  uint16_t remote_port;
};
static_assert(sizeof(RequestLogRecord) == 56);
static_assert(offsetof(RequestLogRecord, status) == 24);
static_assert(offsetof(RequestLogRecord, opaque) == 32);
static_assert(offsetof(RequestLogRecord, remote_port) == 54);

// HandshakeRecord::stage.
enum class HandshakeStage : uint8_t {
  kSynReceived = 1,     // our SYN-ACK is out, the third ACK has not come (SynReceivedTable)
  kAwaitingAccept = 2,  // the handshake completed; it waits in its listener's backlog
};
inline constexpr uint8_t kHandshakeStageMax = 2;

// HandshakeRecord::options bits: what the peer's SYN carried.
inline constexpr uint8_t kSynHasMss = 1u << 0;
inline constexpr uint8_t kSynHasWscale = 1u << 1;
inline constexpr uint8_t kSynSackPermitted = 1u << 2;
inline constexpr uint8_t kSynTimestamps = 1u << 3;
inline constexpr uint8_t kSynVlan = 1u << 4;  // it came with an 802.1Q tag (vlan_tci)
inline constexpr uint8_t kSynOptionsAll = 0x1f;

// A passive open conn answered with a stateful SYN-ACK, from that SYN-ACK until an accept
// turns it into a ConnRecord: the peer's SYN as negotiate_passive() needs it, our ISN, and
// (stage kSynReceived) the SYN-ACK retransmission state. Without it a conn killed in between
// would answer the peer's third ACK, or its first data, with a RST (no cookie matches a
// stateful SYN-ACK's ISN). A SYN answered with a cookie leaves no record until its third ACK.
struct HandshakeRecord {
  uint32_t local_ip;  // host order
  uint32_t remote_ip;
  uint16_t local_port;
  uint16_t remote_port;
  uint32_t listener_id;  // the listener the SYN was counted against
  uint32_t peer_isn;     // the SYN's sequence number
  uint32_t local_isn;    // our SYN-ACK's
  uint32_t ts_recent;    // the peer's TSval: its SYN's, then its third ACK's
  uint32_t flow_group;   // RSS bucket of the SYN
  uint32_t core;         // fast-path core that saw it
  uint16_t peer_mss;
  uint16_t peer_window;  // the SYN's window field (never scaled)
  uint8_t peer_wscale;
  uint8_t tcp_flags;  // the SYN's flags (ECE|CWR ask for ECN)
  uint8_t options;    // kSyn* bits
  uint8_t stage;      // HandshakeStage
  uint8_t src_mac[6];  // the previous hop: where answers go
  uint8_t dst_mac[6];  // our MAC as the peer addressed it
  uint16_t vlan_tci;
  uint8_t retransmits;  // SYN-ACKs sent again so far
  uint8_t reserved0;
  uint32_t rto_us;        // wait before the next SYN-ACK retransmission
  uint64_t received_ns;   // monotonic: the SYN (kSynReceived) or the third ACK (kAwaitingAccept)
  uint64_t deadline_ns;   // monotonic: the next SYN-ACK retransmission (kSynReceived)
};
static_assert(sizeof(HandshakeRecord) == 80);
static_assert(offsetof(HandshakeRecord, listener_id) == 12);
static_assert(offsetof(HandshakeRecord, peer_mss) == 36);
static_assert(offsetof(HandshakeRecord, stage) == 43);
static_assert(offsetof(HandshakeRecord, src_mac) == 44);
static_assert(offsetof(HandshakeRecord, vlan_tci) == 56);
static_assert(offsetof(HandshakeRecord, rto_us) == 60);
static_assert(offsetof(HandshakeRecord, received_ns) == 64);

// ---- slots --------------------------------------------------------------------------------

template <class Record>
struct SlotCopy {
  uint32_t generation;  // 0 = never written; of two valid copies the newer generation wins
  uint32_t checksum;    // over table, slot index, generation, in_use and the record
  uint32_t in_use;      // 1 = holds a record; 0 = free (a tombstone after an erase)
  uint32_t reserved;
  Record record;
};

template <class Record>
struct Slot {
  SlotCopy<Record> copies[2];
};

static_assert(sizeof(SlotCopy<ConnRecord>) == 128);
static_assert(sizeof(Slot<ConnRecord>) == 256);
static_assert(sizeof(SlotCopy<MetaRecord>) == 48);
static_assert(sizeof(SlotCopy<AppRecord>) == 32);
static_assert(sizeof(SlotCopy<ListenerRecord>) == 64);
static_assert(sizeof(SlotCopy<AcceptRecord>) == 48);
static_assert(sizeof(SlotCopy<TimeWaitRecord>) == 56);
static_assert(sizeof(SlotCopy<RequestLogRecord>) == 72);
static_assert(sizeof(SlotCopy<HandshakeRecord>) == 96);
static_assert(offsetof(SlotCopy<ConnRecord>, record) == 16);

// ---- header -------------------------------------------------------------------------------

inline constexpr uint64_t kRegistryHeaderOffset = 64;

// Table capacities, fixed when the file is created.
struct RegistryHeader {
  uint32_t apps;
  uint32_t listeners;
  uint32_t accepts;
  uint32_t conns;
  uint32_t time_wait;
  uint32_t request_log;
  uint32_t handshakes;
  uint8_t reserved[36];
};
static_assert(sizeof(RegistryHeader) == 64);
static_assert(offsetof(RegistryHeader, request_log) == 20);
static_assert(offsetof(RegistryHeader, handshakes) == 24);

// Upper bounds on the capacities a registry may declare (a corrupt header must not make conn
// map or walk terabytes).
inline constexpr uint32_t kMaxRegistryApps = 1u << 16;
inline constexpr uint32_t kMaxRegistryListeners = 1u << 16;
inline constexpr uint32_t kMaxRegistryAccepts = 1u << 20;
inline constexpr uint32_t kMaxRegistryConns = 1u << 21;
inline constexpr uint32_t kMaxRegistryTimeWait = 1u << 21;
inline constexpr uint32_t kMaxRegistryRequestLog = 1u << 16;
inline constexpr uint32_t kMaxRegistryHandshakes = 1u << 21;

}  // namespace vtas::conn
