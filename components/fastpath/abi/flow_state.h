// FlowState: the per-connection TCP state of an established flow, as the fast path keeps it
// in its flow-table region (FlowTableLayout). This header is the ABI between the fast path
// (which owns and writes it) and the slow-path actors that map the table: `timer` and `cc`
// read it; `cc` writes only `tx_rate_kbps`, `timer` only `rto_backoff`. Applications never
// map it.
//
// Four cache lines (TAS used two; vTAS grew to three with tunnel fields). Line 0 is written
// when the flow is installed and read on every packet; line 1 is the hot TCP state written by
// the owning fast-path core under `lock`; line 2 holds counters written per ACK and read by
// `cc`/`timer`, plus rarely used state; line 3 holds what the fast path tells the app about
// the receive stream (written with data delivery, under `lock`), the out-of-order intervals
// (touched only while segments arrive out of order) and loss-recovery undo state. Readers
// outside the fast path read fields with relaxed atomic loads and treat them as approximate
// (they are monotonic counters or snapshots).
//
// Sequence numbers are host order. Addresses and ports are network order (as on the wire).
// Buffer positions are byte offsets inside the flow's circular rx/tx buffers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vtas::abi {

// FlowState::flags bits.
enum FlowFlags : uint32_t {
  kFlowActive = 1u << 0,        // installed; the fast path may process it
  kFlowTimestamps = 1u << 1,    // TCP timestamps negotiated (TSval/TSecr on every segment)
  kFlowEcn = 1u << 2,           // ECN negotiated: data is ECT(0), CE is echoed as ECE
  kFlowSlowPath = 1u << 3,      // hand every segment to the slow path (closing, reset)
  kFlowTxFin = 1u << 4,         // the app closed its sending side: FIN after the last byte
  kFlowTxFinSent = 1u << 5,     // our FIN is on the wire (occupies tx_next_seq - 1)
  kFlowTxFinAcked = 1u << 6,    // the peer acknowledged our FIN
  kFlowRxFin = 1u << 7,         // the peer's FIN arrived in order
  kFlowReset = 1u << 8,         // RST received or sent: no more data either way
  kFlowSackPermitted = 1u << 9, // the peer accepts SACK blocks: our ACKs carry them (RFC 2018)
};

// A range of out-of-order bytes held in the receive buffer: [start, start + len).
struct OooInterval {
  uint32_t start;  // sequence number of the first byte
  uint32_t len;    // bytes, > 0 for a used slot
};
inline constexpr uint32_t kMaxOooIntervals = 4;  // what fits one ACK's SACK option (with TS: 3)

struct alignas(64) FlowState {
  // ---- line 0: identity and configuration (set at install) ---------------------------------
  uint64_t opaque;          // the app's cookie for this connection, echoed in its events
  uint64_t rx_buffer;       // offset of the receive buffer in the owning app's region
  uint64_t tx_buffer;       // offset of the transmit buffer in the owning app's region
  uint32_t rx_len;          // receive buffer size (bytes)
  uint32_t tx_len;          // transmit buffer size (bytes)
  uint32_t local_ip;        // network order
  uint32_t remote_ip;       // network order
  uint16_t local_port;      // network order
  uint16_t remote_port;     // network order
  uint8_t remote_mac[6];    // next hop
  uint16_t app_id;          // owning app (index into the fast path's app table)
  uint16_t context_id;      // the app context that receives this flow's events
  uint16_t flow_group;      // RSS bucket: flow_steering[flow_group] is the owning core
  uint16_t mss;             // payload bytes per segment we send
  uint8_t snd_wscale;       // shift applied to the peer's advertised window
  uint8_t rcv_wscale;       // shift applied to the window we advertise
  uint32_t flags;           // FlowFlags; changed with atomic or/and

  // ---- line 1: hot TCP state (owning core, under lock) --------------------------------------
  uint32_t lock;            // spinlock (0 free, 1 held)
  uint32_t rx_avail;        // free bytes in the receive buffer (our window)
  uint32_t rx_next_pos;     // buffer position of the next in-order byte
  uint32_t rx_next_seq;     // next sequence number expected from the peer (RCV.NXT)
  uint32_t rx_remote_avail; // peer's receive window in bytes, already scaled (SND.WND)
  uint8_t rx_ooo_count;     // out-of-order intervals held in rx_ooo[] (0..kMaxOooIntervals)
  uint8_t rx_ooo_recent;    // index in rx_ooo[] of the interval that grew last (first SACK block)
  uint16_t dupack_threshold; // duplicate ACKs that mean a loss; 0 = the RFC's 3. Raised when
                            // a go-back-N proves spurious (reordering), see tcp/transmit.h
  uint32_t recovery_start_us; // fast-path time (TSval) of the last go-back-N: an ACK echoing an
                            // older TSval acknowledges an original transmission (RFC 3522)
  uint32_t tx_avail;        // bytes the app queued that were not sent yet
  uint32_t tx_sent;         // bytes sent and not acknowledged (in flight)
  uint32_t tx_next_pos;     // buffer position of the next byte to send
  uint32_t tx_next_seq;     // sequence number of the next byte to send (SND.NXT)
  uint32_t ts_recent;       // peer's last TSval, echoed as our TSecr
  uint32_t rtt_us;          // smoothed RTT estimate (us), 0 until the first sample
  uint16_t dupack_count;    // duplicate ACKs in a row
  uint16_t bump_seq;        // last accepted app bump sequence (stale-bump filter)
  uint32_t snd_wl1;         // seq of the segment that last updated the peer window
  uint32_t snd_wl2;         // ack of the segment that last updated the peer window

  // ---- line 2: counters (monotonic, wrap freely) and rare state ------------------------------
  uint32_t tx_rate_kbps;     // pacing rate set by cc; 0 = unlimited
  uint32_t cnt_rx_acks;      // segments with ACK received
  uint32_t cnt_rx_ack_bytes; // bytes newly acknowledged
  uint32_t cnt_rx_ecn_bytes; // of those, acknowledged with ECE
  uint32_t cnt_tx_drops;     // loss events (fast retransmit or timeout go-back-N)
  uint32_t cnt_rexmit_timeouts; // timeouts signalled by the timer actor
  uint32_t last_ack_us;      // fast-path clock (us) of the last ACK that advanced snd_una
  uint32_t rto_backoff;      // consecutive timeouts without progress (timer's backoff)
  uint32_t rx_adv_right;     // right edge of the window we last advertised (never shrink)
  uint32_t rx_ce_pending;    // CE seen on data not yet echoed (ECE on the next ACKs)
  uint32_t rtt_var_us;       // RTT variance estimate (us)
  // TCP-core bookkeeping (components/fastpath/tcp). Every field is valid when zero, so an
  // installer that leaves them zeroed installs a correct flow.
  uint32_t tx_resend_ahead;  // sequence space beyond tx_next_seq that was already sent once
                             // before a go-back-N (SND.MAX - SND.NXT); ACKs up to there are valid
  uint32_t rtt_timed_end;    // flows without timestamps: an ACK at or past this times a segment
  uint32_t rtt_timed_us;     // ...which was sent at this fast-path time (us)
  uint32_t recover_seq;      // SND.MAX at the last go-back-N (RFC 6582 "recover")
  uint8_t tcp_bits;          // tcp::TcpCoreBits (tcp/flow_state_ops.h): timing, recover valid
  uint8_t reserved[3];

  // ---- line 3: receive stream, out-of-order intervals, undo (owning core, under lock) ------
  uint32_t rx_stream_end;    // in-order bytes delivered into the rx buffer since install (wraps):
                             // stamped on every app event (ArxEntry::rx_stream_end) so an app
                             // can order events that reach it on different cores' rings
  OooInterval rx_ooo[kMaxOooIntervals]; // sorted by sequence, disjoint and not touching
  uint32_t undo_rate_kbps;   // tx_rate_kbps before the last go-back-N halved it
  uint32_t cnt_tx_undos;     // go-back-Ns found spurious and undone (cc discounts them)
  uint8_t spare[20];
};

static_assert(sizeof(FlowState) == 256);
static_assert(offsetof(FlowState, opaque) == 0);
static_assert(offsetof(FlowState, rx_buffer) == 8);
static_assert(offsetof(FlowState, tx_buffer) == 16);
static_assert(offsetof(FlowState, rx_len) == 24);
static_assert(offsetof(FlowState, tx_len) == 28);
static_assert(offsetof(FlowState, local_ip) == 32);
static_assert(offsetof(FlowState, remote_ip) == 36);
static_assert(offsetof(FlowState, local_port) == 40);
static_assert(offsetof(FlowState, remote_port) == 42);
static_assert(offsetof(FlowState, remote_mac) == 44);
static_assert(offsetof(FlowState, app_id) == 50);
static_assert(offsetof(FlowState, context_id) == 52);
static_assert(offsetof(FlowState, flow_group) == 54);
static_assert(offsetof(FlowState, mss) == 56);
static_assert(offsetof(FlowState, snd_wscale) == 58);
static_assert(offsetof(FlowState, rcv_wscale) == 59);
static_assert(offsetof(FlowState, flags) == 60);
static_assert(offsetof(FlowState, lock) == 64);
static_assert(offsetof(FlowState, rx_avail) == 68);
static_assert(offsetof(FlowState, rx_next_pos) == 72);
static_assert(offsetof(FlowState, rx_next_seq) == 76);
static_assert(offsetof(FlowState, rx_remote_avail) == 80);
static_assert(offsetof(FlowState, rx_ooo_count) == 84);
static_assert(offsetof(FlowState, rx_ooo_recent) == 85);
static_assert(offsetof(FlowState, dupack_threshold) == 86);
static_assert(offsetof(FlowState, recovery_start_us) == 88);
static_assert(offsetof(FlowState, tx_avail) == 92);
static_assert(offsetof(FlowState, tx_sent) == 96);
static_assert(offsetof(FlowState, tx_next_pos) == 100);
static_assert(offsetof(FlowState, tx_next_seq) == 104);
static_assert(offsetof(FlowState, ts_recent) == 108);
static_assert(offsetof(FlowState, rtt_us) == 112);
static_assert(offsetof(FlowState, dupack_count) == 116);
static_assert(offsetof(FlowState, bump_seq) == 118);
static_assert(offsetof(FlowState, snd_wl1) == 120);
static_assert(offsetof(FlowState, snd_wl2) == 124);
static_assert(offsetof(FlowState, tx_rate_kbps) == 128);
static_assert(offsetof(FlowState, cnt_rx_acks) == 132);
static_assert(offsetof(FlowState, cnt_rx_ack_bytes) == 136);
static_assert(offsetof(FlowState, cnt_rx_ecn_bytes) == 140);
static_assert(offsetof(FlowState, cnt_tx_drops) == 144);
static_assert(offsetof(FlowState, cnt_rexmit_timeouts) == 148);
static_assert(offsetof(FlowState, last_ack_us) == 152);
static_assert(offsetof(FlowState, rto_backoff) == 156);
static_assert(offsetof(FlowState, rx_stream_end) == 192);
static_assert(offsetof(FlowState, rx_ooo) == 196);
static_assert(offsetof(FlowState, undo_rate_kbps) == 228);
static_assert(offsetof(FlowState, cnt_tx_undos) == 232);
static_assert(offsetof(FlowState, rx_adv_right) == 160);
static_assert(offsetof(FlowState, rx_ce_pending) == 164);
static_assert(offsetof(FlowState, rtt_var_us) == 168);
static_assert(offsetof(FlowState, tx_resend_ahead) == 172);
static_assert(offsetof(FlowState, rtt_timed_end) == 176);
static_assert(offsetof(FlowState, rtt_timed_us) == 180);
static_assert(offsetof(FlowState, recover_seq) == 184);
static_assert(offsetof(FlowState, tcp_bits) == 188);
static_assert(offsetof(FlowState, reserved) == 189);

}  // namespace vtas::abi
