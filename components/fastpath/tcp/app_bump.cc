#include "components/fastpath/tcp/app_bump.h"

#include "components/fastpath/tcp/flow_state_ops.h"
#include "components/fastpath/tcp/window.h"

namespace vtas::tcp {
namespace {

BumpReject validate(const abi::FlowState& fs, uint32_t flags, const abi::AtxEntry& bump) {
  if (bump.type != kAtxTypeBump) return BumpReject::kBadType;
  if ((bump.flags & ~abi::kAtxTxFin) != 0) return BumpReject::kUnknownFlags;
  if ((flags & (abi::kFlowActive | abi::kFlowReset)) != abi::kFlowActive) {
    return BumpReject::kFlowClosed;
  }
  if (static_cast<int16_t>(static_cast<uint16_t>(bump.bump_seq - fs.bump_seq)) <= 0) {
    return BumpReject::kStale;
  }
  // 64-bit sums: the checks hold even if a field were corrupt.
  if (uint64_t{bump.rx_bump} + fs.rx_avail > fs.rx_len) return BumpReject::kRxBumpTooLarge;
  if (uint64_t{bump.tx_bump} + fs.tx_avail + fs.tx_sent > fs.tx_len) {
    return BumpReject::kTxBumpTooLarge;
  }
  if (bump.tx_bump != 0 && (flags & abi::kFlowTxFin)) return BumpReject::kDataAfterFin;
  return BumpReject::kNone;
}

}  // namespace

BumpOutcome app_bump(abi::FlowState& fs, const abi::AtxEntry& bump) {
  BumpOutcome out;
  uint32_t flags = load_flags(fs);
  out.reject = validate(fs, flags, bump);
  if (out.reject != BumpReject::kNone) return out;

  const uint32_t sendable_before = tx_sendable(fs, flags);
  const uint32_t window_before = promised_window(fs);  // what the peer believes
  fs.bump_seq = bump.bump_seq;
  fs.rx_avail += bump.rx_bump;
  fs.tx_avail += bump.tx_bump;
  if ((bump.flags & abi::kAtxTxFin) && (flags & abi::kFlowTxFin) == 0) {
    set_flags(fs, abi::kFlowTxFin);
    flags |= abi::kFlowTxFin;
  }
  if (flags & abi::kFlowSlowPath) return out;

  const uint32_t sendable_after = tx_sendable(fs, flags);
  out.tx_newly_sendable = sendable_after > sendable_before ? sendable_after - sendable_before : 0;

  if (bump.rx_bump != 0) {
    const uint8_t shift = clamp_wscale(fs.rcv_wscale);
    uint32_t units = fs.rx_avail >> shift;
    if (units > 0xFFFF) units = 0xFFFF;
    const uint32_t window_after = units << shift;
    if (window_after > window_before) {
      uint32_t threshold = fs.rx_len / 2 < fs.mss ? fs.rx_len / 2 : fs.mss;
      if (threshold == 0) threshold = 1;
      // An emptied buffer matters only while the peer may be holding back for a window of a
      // full segment; otherwise (a request/response app freeing 64 bytes of a 256 KiB buffer)
      // the update would be one extra packet per request for nothing.
      out.send_window_update = window_before == 0 || window_after - window_before >= threshold ||
                               (fs.rx_avail == fs.rx_len && window_before < fs.mss);
    }
  }
  return out;
}

}  // namespace vtas::tcp
