// Applies an application's atx bump (abi::AtxEntry: rx bytes consumed, tx bytes queued, close)
// to its flow. Called by the fast-path loop for each atx entry, holding the flow lock, after it
// checked that the entry's flow_id names a flow of the app that wrote the ring. Everything else
// in the entry is untrusted and validated here: a bump is applied completely or not at all.
#pragma once

#include "components/fastpath/abi/app_abi.h"
#include "components/fastpath/abi/flow_state.h"
#include "components/fastpath/tcp/outcome.h"

namespace vtas::tcp {

inline constexpr uint8_t kAtxTypeBump = 1;  // abi::AtxEntry::type of a bump

// Checks, in order (the first failure is the reject reason, nothing changes):
//   type is a bump; no flag bits but kAtxTxFin; the flow is active and not reset; bump_seq is
//   after the last accepted one (u16 serial arithmetic: up to 32767 ahead; equal = duplicate);
//   rx_bump <= rx_len - rx_avail (bytes the app holds); tx_bump <= tx_len - tx_avail - tx_sent
//   (free tx space); no tx bytes after the app closed its sending side.
// Then rx_avail += rx_bump, tx_avail += tx_bump, kFlowTxFin on kAtxTxFin. The outcome asks for a
// window update (pure_ack) when the peer's view of the window was 0 or the window grew by at
// least min(rx_len / 2, mss) or to the whole buffer (receiver SWS avoidance, RFC 1122
// 4.2.3.3); the caller may skip it when it sends a data segment at once.
// On a kFlowSlowPath flow the accounting is applied but nothing is to be sent.
BumpOutcome app_bump(abi::FlowState& fs, const abi::AtxEntry& bump);

}  // namespace vtas::tcp
