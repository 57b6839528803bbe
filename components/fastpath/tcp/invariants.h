// The invariants of a flow's TCP state that every TCP-core function preserves, as one check.
// For tests (after every step) and for debug checks in the fast path; cheap but not free, so
// not called on the per-packet path of release builds.
//
//   I1  tx_avail + tx_sent <= tx_len            (queued + in flight fit the tx buffer)
//   I2  rx_avail <= rx_len
//   I3  rx_next_pos < rx_len, tx_next_pos < tx_len (or 0 for a zero-length buffer)
//   I4  rx_ooo_count <= kMaxOooIntervals; each interval is non-empty and lies in
//       (rx_next_seq, rx_next_seq + rx_avail): it starts after RCV.NXT (else it would have
//       been delivered) and fits the free space; they are sorted and do not touch
//   I5  kFlowTxFinAcked => kFlowTxFinSent => kFlowTxFin and tx_avail == 0 (FIN after all data)
//   I6  tx_resend_ahead <= tx_avail + 1 if a FIN is still to be sent, else <= tx_avail
//       (what was sent before a go-back-N is a prefix of what is to be sent again)
// Preconditions the installer establishes (conn / the fast path's InstallFlow): I1-I6,
// buffers of at most 1 GiB (the largest scaled window), mss > 0, rx_adv_right = RCV.NXT + the
// window advertised in the handshake, snd_wl1/wl2 = the handshake segment's seq/ack.
#pragma once

#include <cstdint>

#include "components/fastpath/abi/flow_state.h"
#include "components/fastpath/tcp/flow_state_ops.h"

namespace vtas::tcp {

// nullptr when all invariants hold, else which one fails.
inline const char* invariant_violation(const abi::FlowState& fs) {
  const uint32_t flags = load_flags(fs);
  if (uint64_t{fs.tx_avail} + fs.tx_sent > fs.tx_len) return "I1: tx_avail + tx_sent > tx_len";
  if (fs.rx_avail > fs.rx_len) return "I2: rx_avail > rx_len";
  if (fs.rx_len == 0 ? fs.rx_next_pos != 0 : fs.rx_next_pos >= fs.rx_len) {
    return "I3: rx_next_pos outside the rx buffer";
  }
  if (fs.tx_len == 0 ? fs.tx_next_pos != 0 : fs.tx_next_pos >= fs.tx_len) {
    return "I3: tx_next_pos outside the tx buffer";
  }
  if (fs.rx_ooo_count > abi::kMaxOooIntervals) return "I4: rx_ooo_count too large";
  uint64_t previous_end = 0;  // offsets from RCV.NXT
  for (uint32_t i = 0; i < fs.rx_ooo_count; ++i) {
    const uint32_t offset = fs.rx_ooo[i].start - fs.rx_next_seq;
    if (fs.rx_ooo[i].len == 0 || offset == 0 ||
        uint64_t{offset} + fs.rx_ooo[i].len > fs.rx_avail) {
      return "I4: out-of-order interval empty or outside (rx_next_seq, rx_next_seq + rx_avail)";
    }
    if (i > 0 && offset <= previous_end) return "I4: out-of-order intervals unsorted or touching";
    previous_end = uint64_t{offset} + fs.rx_ooo[i].len;
  }
  if ((flags & abi::kFlowTxFinAcked) && !(flags & abi::kFlowTxFinSent)) {
    return "I5: FIN acknowledged but not sent";
  }
  if ((flags & abi::kFlowTxFinSent) && (!(flags & abi::kFlowTxFin) || fs.tx_avail != 0)) {
    return "I5: FIN sent before the app closed or before all data";
  }
  const bool fin_unsent = (flags & (abi::kFlowTxFin | abi::kFlowTxFinSent)) == abi::kFlowTxFin;
  if (uint64_t{fs.tx_resend_ahead} > uint64_t{fs.tx_avail} + (fin_unsent ? 1 : 0)) {
    return "I6: tx_resend_ahead beyond the data to send";
  }
  return nullptr;
}

}  // namespace vtas::tcp
