// The sending half of the fast path's TCP core: which segment to send next from a flow's tx
// buffer, the header fields of pure ACKs and zero-window probes, and go-back-N loss recovery.
// Callers: the fast-path loop, holding the flow lock (next_segment when the scheduler fires,
// pure_ack for the ACKs the receive path asks for and window updates, window_probe and
// go_back_n when the timer actor reports a persist or retransmission timeout). Pure: no I/O,
// no clock reads (the caller passes now_us, its microsecond clock, also used as TSval).
#pragma once

#include <cstdint>

#include "components/fastpath/abi/flow_state.h"
#include "components/fastpath/tcp/flow_state_ops.h"
#include "components/fastpath/tcp/outcome.h"
#include "components/fastpath/tcp/segment.h"
#include "components/fastpath/tcp/window.h"

namespace vtas::tcp {

// ECE on the next segment we send when CE arrived on the last data segment (DCTCP-style
// precise echo: every data segment is ACKed at once, so each ACK reports its own segment).
inline uint8_t take_ece(abi::FlowState& fs, uint32_t flags) {
  if ((flags & abi::kFlowEcn) == 0 || fs.rx_ce_pending == 0) return 0;
  fs.rx_ce_pending = 0;
  return kTcpEce;
}

// Header fields for a segment starting at `seq`: ACK, window (recorded as advertised), ECE,
// timestamps.
inline AckFields header_fields(abi::FlowState& fs, uint32_t flags, uint32_t seq, uint32_t now_us) {
  AckFields h;
  h.seq = seq;
  h.ack = fs.rx_next_seq;
  h.window = take_window_field(fs);
  h.flags = static_cast<uint8_t>(kTcpAck | take_ece(fs, flags));
  if (flags & abi::kFlowTimestamps) {
    h.has_ts = true;
    h.tsval = now_us;
    h.tsecr = fs.ts_recent;
  }
  return h;
}

// A pure ACK (also a window update): seq = SND.NXT.
inline AckFields pure_ack(abi::FlowState& fs, uint32_t now_us) {
  return header_fields(fs, load_flags(fs), fs.tx_next_seq, now_us);
}

// A zero-window probe: a pure ACK with seq = SND.UNA - 1, i.e. an old sequence number. Every
// RFC 793 receiver answers an unacceptable segment with an ACK carrying its current window, so
// this gets the window without committing a byte beyond it. (The alternative, one byte of new
// data beyond the window, would be dropped by a receiver with no space, sit in tx_sent, turn
// the receiver's answers into duplicate ACKs and trigger a spurious go-back-N; Linux probes the
// same way: tcp_xmit_probe_skb.) No flow state changes besides the advertised window and ECE.
inline AckFields window_probe(abi::FlowState& fs, uint32_t now_us) {
  uint32_t flags = load_flags(fs);
  return header_fields(fs, flags, snd_una(fs, flags) - 1, now_us);
}

// The next segment to send, or valid = false. Payload: min(tx_avail, usable peer window, mss)
// bytes from tx_next_pos (two spans when it wraps). After kFlowTxFin the segment that carries
// the last queued byte also carries FIN; with nothing queued a bare FIN goes out even into a
// zero window (it takes no buffer space; Linux and this core accept it). Sending advances
// tx_next_seq/pos and moves the bytes from tx_avail to tx_sent. ECT(0) marks new data of ECN
// flows; retransmissions are not ECT (RFC 3168 section 6.1.5). Without timestamps one new
// segment per RTT is timed (Karn: never a retransmission).
inline TxSegment next_segment(abi::FlowState& fs, uint32_t now_us) {
  TxSegment s;
  const uint32_t flags = load_flags(fs);
  if ((flags & (abi::kFlowActive | abi::kFlowReset | abi::kFlowSlowPath)) != abi::kFlowActive) {
    return s;
  }
  uint32_t len = usable_peer_window(fs);
  if (fs.tx_avail < len) len = fs.tx_avail;
  if (fs.mss < len) len = fs.mss;
  const bool fin =
      (flags & (abi::kFlowTxFin | abi::kFlowTxFinSent)) == abi::kFlowTxFin && len == fs.tx_avail;
  if (len == 0 && !fin) return s;

  const uint32_t seq = fs.tx_next_seq;
  const uint32_t units = len + (fin ? 1u : 0u);
  s.retransmission = fs.tx_resend_ahead != 0;
  fs.tx_resend_ahead -= fs.tx_resend_ahead < units ? fs.tx_resend_ahead : units;

  s.hdr = header_fields(fs, flags, seq, now_us);
  s.hdr.flags = static_cast<uint8_t>(s.hdr.flags | (len ? kTcpPsh : 0) | (fin ? kTcpFin : 0));
  const uint32_t pos = fs.tx_next_pos;
  const uint32_t first = fs.tx_len - pos < len ? fs.tx_len - pos : len;
  s.payload[0] = {pos, first};
  s.payload[1] = {0, len - first};
  s.len = len;
  s.valid = true;
  s.ect = (flags & abi::kFlowEcn) && len > 0 && !s.retransmission;

  fs.tx_next_pos = ring_advance(pos, len, fs.tx_len);
  fs.tx_next_seq = seq + units;
  fs.tx_avail -= len;
  fs.tx_sent += len;
  if (fin) set_flags(fs, abi::kFlowTxFinSent);
  if ((flags & abi::kFlowTimestamps) == 0 && len > 0 && !s.retransmission &&
      (fs.tcp_bits & kBitRttTiming) == 0) {
    fs.tcp_bits = static_cast<uint8_t>(fs.tcp_bits | kBitRttTiming);
    fs.rtt_timed_end = seq + len;
    fs.rtt_timed_us = now_us;
  }
  return s;
}

// Go-back-N (fast retransmit at dupack_threshold() duplicate ACKs, or a retransmission
// timeout): sending restarts at SND.UNA. tx_next_seq/pos move back over the data in flight
// (and a sent FIN, which will be sent again), those bytes become unsent again (tx_avail),
// dupack_count resets, RTT timing stops (Karn), recover_seq = SND.MAX, cnt_tx_drops counts the
// loss event and the pacing rate halves on every loss event (0 = unlimited stays 0). The
// peer's window is not touched (TAS PR #17). With timestamps the go-back-N is armed for undo
// (see undo_if_spurious). Returns false, changing nothing, when nothing is in flight.
bool go_back_n(abi::FlowState& fs, uint32_t now_us);

// Eifel detection (RFC 3522) with timestamps: the first ACK that advances SND.UNA after a
// go-back-N tells whether the peer got the original segments (its TSecr echoes a TSval from
// before the go-back-N: the "loss" was reordering) or the resent ones. When spurious, the
// rate halving is undone, cnt_tx_undos counts it and the flow's duplicate-ACK threshold
// doubles (up to kMaxDupAckThreshold), so the same reordering no longer looks like a loss.
// Called by receive() with every such ACK; disarms either way. Returns true when undone.
bool undo_if_spurious(abi::FlowState& fs, bool has_tsecr, uint32_t tsecr);

// Duplicate ACKs that mean a loss: the flow's learnt threshold (3 until reordering was seen),
// but never more than the segments in flight can produce, so a loss in a small window is
// still repaired without waiting for a timeout.
inline uint32_t dupack_threshold(const abi::FlowState& fs) {
  const uint32_t learnt = fs.dupack_threshold > kDupAckThreshold ? fs.dupack_threshold
                                                                 : kDupAckThreshold;
  const uint32_t in_flight = fs.mss != 0 ? fs.tx_sent / fs.mss : 0;
  const uint32_t producible = in_flight > kDupAckThreshold + 1 ? in_flight - 1 : kDupAckThreshold;
  return learnt < producible ? learnt : producible;
}

}  // namespace vtas::tcp
