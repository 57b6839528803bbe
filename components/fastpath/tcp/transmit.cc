#include "components/fastpath/tcp/transmit.h"

#include "components/fastpath/tcp/seq.h"

namespace vtas::tcp {

bool go_back_n(abi::FlowState& fs, uint32_t now_us) {
  const uint32_t flags = load_flags(fs);
  const uint32_t fin = fin_in_flight(flags);
  const uint32_t rewind = fs.tx_sent + fin;
  if (rewind == 0) return false;

  fs.recover_seq = snd_max(fs);
  fs.tx_resend_ahead += rewind;
  fs.tx_next_seq -= rewind;
  fs.tx_next_pos = ring_retreat(fs.tx_next_pos, fs.tx_sent, fs.tx_len);
  fs.tx_avail += fs.tx_sent;
  fs.tx_sent = 0;
  if (fin) clear_flags(fs, abi::kFlowTxFinSent);
  fs.dupack_count = 0;
  fs.tcp_bits = static_cast<uint8_t>((fs.tcp_bits & ~kBitRttTiming) | kBitRecoverValid);

  add_counter(fs.cnt_tx_drops, 1);
  // cc may write the rate concurrently; losing one of two racing updates is fine, cc
  // recomputes it every interval.
  const uint32_t rate = __atomic_load_n(&fs.tx_rate_kbps, __ATOMIC_RELAXED);
  // Undo restores the rate from before the first go-back-N of an episode, and the episode's
  // start is that first go-back-N: an ACK echoing an older TSval means none was needed.
  if ((flags & abi::kFlowTimestamps) && (fs.tcp_bits & kBitUndoArmed) == 0) {
    fs.tcp_bits = static_cast<uint8_t>(fs.tcp_bits | kBitUndoArmed);
    fs.recovery_start_us = now_us;
    fs.undo_rate_kbps = rate;
  }
  if (rate > 1) store_shared(fs.tx_rate_kbps, rate / 2);
  return true;
}

bool undo_if_spurious(abi::FlowState& fs, bool has_tsecr, uint32_t tsecr) {
  if ((fs.tcp_bits & kBitUndoArmed) == 0) return false;
  fs.tcp_bits = static_cast<uint8_t>(fs.tcp_bits & ~kBitUndoArmed);
  if (!has_tsecr || !seq_lt(tsecr, fs.recovery_start_us)) return false;

  // The rate: back to what it was, unless cc has set a higher one since (0 = unlimited).
  const uint32_t rate = __atomic_load_n(&fs.tx_rate_kbps, __ATOMIC_RELAXED);
  if (rate != 0 && (fs.undo_rate_kbps == 0 || fs.undo_rate_kbps > rate)) {
    store_shared(fs.tx_rate_kbps, fs.undo_rate_kbps);
  }
  add_counter(fs.cnt_tx_undos, 1);
  const uint32_t learnt = fs.dupack_threshold > kDupAckThreshold ? fs.dupack_threshold
                                                                 : kDupAckThreshold;
  fs.dupack_threshold =
      static_cast<uint16_t>(learnt * 2 < kMaxDupAckThreshold ? learnt * 2 : kMaxDupAckThreshold);
  return true;
}

}  // namespace vtas::tcp
