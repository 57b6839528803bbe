#include "components/fastpath/tcp/transmit.h"

namespace vtas::tcp {

bool go_back_n(abi::FlowState& fs) {
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
  if (rate > 1) store_shared(fs.tx_rate_kbps, rate / 2);
  return true;
}

}  // namespace vtas::tcp
