#include "components/fastpath/tcp/receive.h"

#include <cstring>

#include "components/fastpath/abi/app_abi.h"
#include "components/fastpath/tcp/flow_state_ops.h"
#include "components/fastpath/tcp/out_of_order.h"
#include "components/fastpath/tcp/rtt.h"
#include "components/fastpath/tcp/seq.h"
#include "components/fastpath/tcp/transmit.h"
#include "components/fastpath/tcp/window.h"

namespace vtas::tcp {
namespace {

void copy_into_ring(RxBuffer rx, uint32_t pos, const uint8_t* src, uint32_t n) {
  uint32_t first = rx.len - pos < n ? rx.len - pos : n;
  std::memcpy(rx.base + pos, src, first);
  if (n > first) std::memcpy(rx.base, src + first, n - first);
}

// n more in-order bytes: they become the app's (app_rx_bump), the window's left edge moves.
void deliver(abi::FlowState& fs, RxOutcome& out, uint32_t n) {
  fs.rx_next_pos = ring_advance(fs.rx_next_pos, n, fs.rx_len);
  fs.rx_avail -= n;
  fs.rx_next_seq += n;
  fs.rx_stream_end += n;
  out.app_rx_bump += n;
}

void answer(RxOutcome& out, DropReason reason) {
  out.send_ack = true;
  out.drop = reason;
}

// RFC 5961 section 3.2: only an RST at exactly RCV.NXT resets; one elsewhere in the window
// gets a challenge ACK (a genuine peer answers it with an exact RST); others are ignored.
void on_rst(abi::FlowState& fs, const Segment& seg, RxOutcome& out) {
  if (seg.seq == fs.rx_next_seq) {
    set_flags(fs, abi::kFlowReset);
    out.app_flags = abi::kArxReset;
    out.flow_event = FlowEvent::kReset;
  } else if (seg.seq - fs.rx_next_seq < receive_window(fs)) {
    answer(out, DropReason::kRstChallenged);
  } else {
    out.drop = DropReason::kRstOutOfWindow;
  }
}

// Processes the ACK field of an acceptable segment whose ACK lies in [SND.UNA, SND.MAX].
// `acked` = SEG.ACK - SND.UNA. Returns true when our FIN became acknowledged.
bool take_ack(abi::FlowState& fs, const Segment& seg, uint32_t flags, uint32_t acked,
              uint32_t now_us, RxOutcome& out) {
  const uint32_t in_flight = fs.tx_sent + fin_in_flight(flags);
  uint32_t freed = 0;  // data bytes acknowledged: tx buffer space back to the app
  bool fin_acked = false;
  if (acked <= in_flight) {
    freed = acked < fs.tx_sent ? acked : fs.tx_sent;
    fs.tx_sent -= freed;
    fin_acked = acked > freed;
  } else {
    // Beyond SND.NXT but within SND.MAX: after a go-back-N the peer already had this data
    // (it filled a hole); skip it instead of sending it again.
    const uint32_t skip = acked - in_flight;
    const uint32_t data_skip = skip < fs.tx_avail ? skip : fs.tx_avail;
    fin_acked = skip > data_skip && (flags & abi::kFlowTxFin);
    freed = fs.tx_sent + data_skip;
    fs.tx_sent = 0;
    fs.tx_avail -= data_skip;
    fs.tx_next_pos = ring_advance(fs.tx_next_pos, data_skip, fs.tx_len);
    fs.tx_next_seq += skip;
    fs.tx_resend_ahead -= skip;
  }
  if (fin_acked) set_flags(fs, abi::kFlowTxFinSent | abi::kFlowTxFinAcked);

  out.app_tx_bump = freed;
  add_counter(fs.cnt_rx_ack_bytes, freed);
  if ((seg.flags & kTcpEce) && (flags & abi::kFlowEcn)) add_counter(fs.cnt_rx_ecn_bytes, freed);
  store_shared(fs.last_ack_us, now_us);
  fs.dupack_count = 0;
  undo_if_spurious(fs, (flags & abi::kFlowTimestamps) && seg.has_ts, seg.tsecr);
  if ((fs.tcp_bits & kBitRecoverValid) && seq_gt(seg.ack, fs.recover_seq)) {
    fs.tcp_bits = static_cast<uint8_t>(fs.tcp_bits & ~kBitRecoverValid);
  }

  // RTT. With timestamps the echo times the segment that triggered this ACK, retransmitted or
  // not (Karn-safe by nature). Without, the timed segment counts only if it was never resent:
  // go_back_n cancels the timing.
  if (flags & abi::kFlowTimestamps) {
    if (seg.has_ts) add_rtt_sample(fs, now_us - seg.tsecr);
  } else if ((fs.tcp_bits & kBitRttTiming) && seq_geq(seg.ack, fs.rtt_timed_end)) {
    fs.tcp_bits = static_cast<uint8_t>(fs.tcp_bits & ~kBitRttTiming);
    add_rtt_sample(fs, now_us - fs.rtt_timed_us);
  }
  return fin_acked;
}

// Out-of-order payload at `offset` beyond RCV.NXT (inside the buffer): kept as an interval
// (out_of_order.h) and written into the ring, or dropped when every interval slot is taken.
void take_out_of_order(abi::FlowState& fs, RxBuffer rx, uint32_t offset, const uint8_t* data,
                       uint32_t len, RxOutcome& out) {
  const uint32_t start = fs.rx_next_seq + offset;
  if (!ooo_add(fs, start, start + len)) {
    out.drop = DropReason::kOooDropped;
    return;
  }
  copy_into_ring(rx, ring_advance(fs.rx_next_pos, offset, fs.rx_len), data, len);
}

// RFC 9293 acceptability, with two allowances as in Linux: a zero-length segment may sit at
// the right edge (a pure ACK after the peer filled our window), and a segment starting at
// RCV.NXT is acceptable for its ACK even when the window is zero (zero-window probes carry
// ACKs; their data is trimmed away below).
bool acceptable(const abi::FlowState& fs, const Segment& seg, uint32_t seg_len) {
  const uint32_t offset = seg.seq - fs.rx_next_seq;  // "negative" when it starts before
  if (seq_lt(seg.seq, fs.rx_next_seq)) return fs.rx_next_seq - seg.seq < seg_len;
  if (seg_len == 0) return offset <= receive_window(fs);
  return offset == 0 || offset < receive_window(fs);
}

// Everything after the control checks: acceptability, ACK, window, data, FIN.
void process(abi::FlowState& fs, const Segment& seg, uint32_t flags, uint32_t now_us, RxBuffer rx,
             RxOutcome& out) {
  const uint32_t fin = (seg.flags & kTcpFin) ? 1u : 0u;
  const uint32_t seg_len = seg.payload_len + fin;
  if (!acceptable(fs, seg, seg_len)) {
    answer(out,
           seq_lt(seg.seq, fs.rx_next_seq) ? DropReason::kDuplicate : DropReason::kOutOfWindow);
    return;
  }

  // ---- ACK field ----
  const uint32_t una = snd_una(fs, flags);
  const uint32_t acked = seg.ack - una;
  const bool ack_in_range = acked <= snd_max(fs) - una;
  if (!ack_in_range) {
    if (seq_gt(seg.ack, snd_max(fs))) {
      answer(out, DropReason::kAckUnsent);  // RFC 9293: ACK of something never sent
      return;
    }
    // RFC 5961 section 5.2: an ACK older than a window's worth is not a delayed duplicate.
    const uint32_t max_window = fs.tx_len > fs.rx_remote_avail ? fs.tx_len : fs.rx_remote_avail;
    if (una - seg.ack > max_window) {
      answer(out, DropReason::kAckTooOld);
      return;
    }
    // An old duplicate ACK: ignored (no window update either), the data is still used.
  }

  // RFC 7323 section 4.3: TS.Recent follows segments that cover RCV.NXT (the last ACK sent).
  if ((flags & abi::kFlowTimestamps) && seg.has_ts && seq_leq(seg.seq, fs.rx_next_seq)) {
    fs.ts_recent = seg.tsval;
  }

  const uint32_t sendable_before = tx_sendable(fs, flags);
  bool fin_acked = false;
  if (ack_in_range) {
    add_counter(fs.cnt_rx_acks, 1);
    if (acked != 0) fin_acked = take_ack(fs, seg, flags, acked, now_us, out);

    // RFC 9293 window update: only from segments newer than the last one that set it. A WL1
    // beyond our receive window's right edge cannot come from an accepted segment: it is an
    // uninitialised field, so the window is taken.
    const uint32_t window = static_cast<uint32_t>(seg.window) << clamp_wscale(fs.snd_wscale);
    const bool window_changed = window != fs.rx_remote_avail;
    if (seq_lt(fs.snd_wl1, seg.seq) || (fs.snd_wl1 == seg.seq && seq_leq(fs.snd_wl2, seg.ack)) ||
        seq_gt(fs.snd_wl1, fs.rx_next_seq + receive_window(fs))) {
      fs.rx_remote_avail = window;
      fs.snd_wl1 = seg.seq;
      fs.snd_wl2 = seg.ack;
    }

    // RFC 5681 duplicate ACK: nothing new acknowledged, no data, same window, data in flight.
    // The threshold-th starts go-back-N unless we are still recovering from the last one (RFC
    // 6582: duplicate ACKs caused by our own resent segments must not halve the rate again).
    // The threshold grows when reordering made a go-back-N spurious (undo_if_spurious).
    if (acked == 0 && seg_len == 0 && !window_changed && fs.tx_sent != 0) {
      if (fs.dupack_count != UINT16_MAX) ++fs.dupack_count;
      if (fs.dupack_count == dupack_threshold(fs) && (fs.tcp_bits & kBitRecoverValid) == 0) {
        out.went_back_n = go_back_n(fs, now_us);
      }
    }
  }

  // ---- data and FIN ----
  bool fin_taken = false;
  if (seg_len != 0) {
    out.send_ack = true;  // every segment that occupies sequence space is ACKed at once
    if (flags & abi::kFlowRxFin) {
      out.drop = DropReason::kDataAfterFin;
    } else {
      const uint8_t* data = seg.payload;
      uint32_t len = seg.payload_len;
      bool has_fin = fin != 0;
      uint32_t offset = seg.seq - fs.rx_next_seq;
      if (seq_lt(seg.seq, fs.rx_next_seq)) {            // starts with bytes we already have
        const uint32_t old = fs.rx_next_seq - seg.seq;  // < seg_len (acceptable), so <= len
        data += old;
        len -= old;
        offset = 0;
      }
      if (offset + len > fs.rx_avail) {  // beyond the buffer (zero-window probes included)
        len = offset < fs.rx_avail ? fs.rx_avail - offset : 0;
        has_fin = false;
        out.drop = DropReason::kTrimmed;
      }
      if (offset == 0) {
        if (len != 0) {
          out.app_rx_pos = fs.rx_next_pos;
          copy_into_ring(rx, fs.rx_next_pos, data, len);
          deliver(fs, out, len);
          // A hole before kept intervals is filled: deliver them at once.
          uint32_t beyond = 0;
          while (ooo_take_reached(fs, &beyond)) {
            if (beyond != 0) deliver(fs, out, beyond);
          }
        }
        // The FIN counts when everything before it arrived and nothing lies beyond it.
        if (has_fin && fs.rx_ooo_count == 0 && fs.rx_next_seq == seg.seq + seg.payload_len) {
          fs.rx_next_seq += 1;
          set_flags(fs, abi::kFlowRxFin);
          out.app_flags |= abi::kArxRxFin;
          fin_taken = true;
        }
      } else if (len != 0) {
        take_out_of_order(fs, rx, offset, data, len, out);
      }
    }
  }

  // ---- results ----
  const uint32_t flags_now = load_flags(fs);
  if (fin_acked) out.app_flags |= abi::kArxTxFinAcked;
  if (fin_acked || fin_taken) {
    const uint32_t both = abi::kFlowRxFin | abi::kFlowTxFinAcked;
    out.flow_event = (flags_now & both) == both ? FlowEvent::kClosed
                     : fin_taken                ? FlowEvent::kRxFin
                                                : FlowEvent::kTxFinAcked;
  }
  const uint32_t sendable_after = tx_sendable(fs, flags_now);
  out.tx_newly_sendable = sendable_after > sendable_before ? sendable_after - sendable_before : 0;
  out.ack_delayable = out.send_ack && out.app_rx_bump != 0 && out.drop == DropReason::kNone &&
                      !fin_taken && fs.rx_ooo_count == 0 && fs.rx_ce_pending == 0;
}

RxOutcome finish(abi::FlowState& fs, RxOutcome& out, uint32_t now_us) {
  if (out.send_ack && !out.ack_delayable) out.ack = pure_ack(fs, now_us);
  return out;
}

}  // namespace

RxOutcome receive(abi::FlowState& fs, const Segment& seg, uint32_t now_us, RxBuffer rx) {
  RxOutcome out;
  const uint32_t flags = load_flags(fs);
  if (flags & abi::kFlowReset) {
    out.drop = DropReason::kFlowReset;
    return out;
  }
  if ((flags & (abi::kFlowActive | abi::kFlowSlowPath)) != abi::kFlowActive) {
    out.to_slow_path = true;
    return out;
  }
  if (rx.len != fs.rx_len || (rx.base == nullptr && rx.len != 0)) {
    out.drop = DropReason::kBadBuffer;
    return out;
  }
  if (seg.payload_len > kMaxSegmentPayload || (seg.payload == nullptr && seg.payload_len != 0)) {
    out.drop = DropReason::kMalformed;
    return out;
  }

  if (seg.flags & kTcpRst) {
    on_rst(fs, seg, out);
    return finish(fs, out, now_us);
  }
  if (seg.flags & kTcpSyn) {
    // RFC 5961 section 4: a SYN on a synchronized connection gets a challenge ACK, except the
    // peer's retransmitted original SYN (our SYN-ACK was lost): conn re-sends the SYN-ACK. A
    // retransmitted SYN-ACK is answered by the challenge ACK: it is the ACK the peer wants.
    // Once both FINs are through the connection is over for us (a passive close is CLOSED;
    // an active one is TIME_WAIT, which conn keeps): a SYN then is the peer reusing the
    // tuple, not a stray segment. A challenge ACK from a flow whose removal is still under
    // way (conn restarting, say) would meet the peer's SYN-SENT, which answers it with a RST.
    // conn decides: a listener or its TIME_WAIT rules, or a drop until the flow is gone.
    const uint32_t closed = abi::kFlowRxFin | abi::kFlowTxFinAcked;
    if ((seg.flags & kTcpAck) == 0 &&
        (seg.seq == fs.rx_next_seq - 1 || (flags & closed) == closed)) {
      out.to_slow_path = true;
    } else {
      answer(out, DropReason::kSynChallenged);
    }
    return finish(fs, out, now_us);
  }
  if ((seg.flags & kTcpAck) == 0) {
    out.drop = DropReason::kNoAck;
    return out;
  }

  // ECN: the ACK for a CE-marked data segment carries ECE, the ACK for an unmarked one not.
  if ((flags & abi::kFlowEcn) && seg.payload_len != 0) fs.rx_ce_pending = seg.ce ? 1 : 0;

  // RFC 7323 section 5.3 (PAWS): a TSval older than TS.Recent is an old duplicate.
  if ((flags & abi::kFlowTimestamps) && seg.has_ts && seq_lt(seg.tsval, fs.ts_recent)) {
    answer(out, DropReason::kPaws);
    return finish(fs, out, now_us);
  }

  process(fs, seg, flags, now_us, rx, out);
  return finish(fs, out, now_us);
}

}  // namespace vtas::tcp
