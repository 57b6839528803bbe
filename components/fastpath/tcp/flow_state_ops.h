// Small derived values and accessors of abi::FlowState for the fast path's TCP core: the send
// sequence space (SND.UNA, what may be sent), circular-buffer position arithmetic, and the
// writes other processes can observe. Callers: the TCP core, and the fast-path loop and
// timer logic when they need the same definitions (e.g. snd_una for the RTO check).
//
// The send sequence space of a flow, from the FlowState fields:
//
//     snd_una            tx_next_seq (SND.NXT)          SND.MAX = SND.NXT + tx_resend_ahead
//        |<-- tx_sent data -->|[FIN]|                       |
//        |                    |<- tx_avail: queued, unsent; the first tx_resend_ahead of it
//                                     (plus a FIN) went out before a go-back-N ->|
//
// tx_sent counts data bytes only; our FIN occupies tx_next_seq - 1 while kFlowTxFinSent is set
// and kFlowTxFinAcked is not. The FIN takes no buffer space (no dummy byte, unlike TAS).
#pragma once

#include <cstdint>

#include "components/fastpath/abi/flow_state.h"

namespace vtas::tcp {

inline constexpr uint8_t kMaxWindowScale = 14;       // RFC 7323 section 2.3
inline constexpr uint32_t kMaxRttSampleUs = 100000;  // TAS: larger samples are ignored
inline constexpr uint16_t kDupAckThreshold = 3;      // RFC 5681 fast retransmit
inline constexpr uint16_t kMaxDupAckThreshold = 128; // learnt under reordering (Linux: 300)

// FlowState::tcp_bits.
enum TcpCoreBits : uint8_t {
  kBitRttTiming = 1u << 0,     // a segment is being timed (rtt_timed_end / rtt_timed_us)
  kBitRecoverValid = 1u << 1,  // recover_seq holds SND.MAX of the last go-back-N
  kBitUndoArmed = 1u << 2,     // a go-back-N may still prove spurious (recovery_start_us,
                               // undo_rate_kbps hold what undoing it needs)
};

// ---- flags and fields read by other processes (timer, cc): relaxed atomic accesses ----------

inline uint32_t load_flags(const abi::FlowState& fs) {
  return __atomic_load_n(&fs.flags, __ATOMIC_RELAXED);
}
inline void set_flags(abi::FlowState& fs, uint32_t bits) {
  __atomic_fetch_or(&fs.flags, bits, __ATOMIC_ACQ_REL);
}
inline void clear_flags(abi::FlowState& fs, uint32_t bits) {
  __atomic_fetch_and(&fs.flags, ~bits, __ATOMIC_ACQ_REL);
}
inline void store_shared(uint32_t& field, uint32_t value) {
  __atomic_store_n(&field, value, __ATOMIC_RELAXED);
}
// Monotonic counter: the fast-path core is the only writer, readers take relaxed snapshots.
inline void add_counter(uint32_t& counter, uint32_t delta) {
  store_shared(counter, counter + delta);
}

// ---- send sequence space -------------------------------------------------------------------

// 1 when our FIN is on the wire and not yet acknowledged (it sits at tx_next_seq - 1).
inline uint32_t fin_in_flight(uint32_t flags) {
  return (flags & (abi::kFlowTxFinSent | abi::kFlowTxFinAcked)) == abi::kFlowTxFinSent ? 1u : 0u;
}

// SND.UNA: the oldest unacknowledged sequence number.
inline uint32_t snd_una(const abi::FlowState& fs, uint32_t flags) {
  return fs.tx_next_seq - fs.tx_sent - fin_in_flight(flags);
}
inline uint32_t snd_una(const abi::FlowState& fs) {
  return snd_una(fs, load_flags(fs));
}

// SND.MAX: one past the highest sequence number ever sent (go-back-N rewinds SND.NXT only).
inline uint32_t snd_max(const abi::FlowState& fs) {
  return fs.tx_next_seq + fs.tx_resend_ahead;
}

// Bytes of the peer's window not taken by data in flight.
inline uint32_t usable_peer_window(const abi::FlowState& fs) {
  return fs.rx_remote_avail > fs.tx_sent ? fs.rx_remote_avail - fs.tx_sent : 0;
}

// What next_segment() could put on the wire now, in sequence units: data bytes that fit the
// peer's window, plus 1 when a FIN would go with them (a bare FIN needs no window, see
// next_segment). The scheduler's "avail".
inline uint32_t tx_sendable(const abi::FlowState& fs, uint32_t flags) {
  uint32_t usable = fs.mss != 0 ? usable_peer_window(fs) : 0;  // mss 0: a broken install
  uint32_t data = fs.tx_avail < usable ? fs.tx_avail : usable;
  bool fin =
      (flags & (abi::kFlowTxFin | abi::kFlowTxFinSent)) == abi::kFlowTxFin && data == fs.tx_avail;
  return data + (fin ? 1u : 0u);
}
inline uint32_t tx_sendable(const abi::FlowState& fs) {
  return tx_sendable(fs, load_flags(fs));
}
// True when next_segment() would return a segment now.
inline bool has_sendable(const abi::FlowState& fs) {
  const uint32_t flags = load_flags(fs);
  const uint32_t gate = abi::kFlowActive | abi::kFlowReset | abi::kFlowSlowPath;
  return (flags & gate) == abi::kFlowActive && tx_sendable(fs, flags) != 0;
}

// ---- circular buffers ----------------------------------------------------------------------

// pos + n modulo len, for pos < len and n <= len (no division, no overflow).
inline uint32_t ring_advance(uint32_t pos, uint32_t n, uint32_t len) {
  uint32_t room = len - pos;
  return n < room ? pos + n : n - room;
}
// pos - n modulo len, for pos < len and n <= len.
inline uint32_t ring_retreat(uint32_t pos, uint32_t n, uint32_t len) {
  return n <= pos ? pos - n : pos + (len - n);
}

inline uint8_t clamp_wscale(uint8_t shift) {
  return shift < kMaxWindowScale ? shift : kMaxWindowScale;
}

}  // namespace vtas::tcp
