// The receiving half of the fast path's TCP core: one received segment of an established flow
// -> the flow's new state + what to do (ACK, app event, slow-path event, scheduling). Called by
// the fast-path loop for every segment of an installed flow, holding the flow lock, with the
// segment parsed and checksum-verified (components/wire). Pure: no I/O, no clock reads, no
// allocation; the only memory it writes besides `fs` is payload into `rx` (the flow's circular
// receive buffer), at rx_next_pos and, for out-of-order data, at its final position.
//
// Covered (details in receive.cc): RFC 9293 acceptability and trimming, in-order delivery, one
// out-of-order interval (merging, closest to RCV.NXT kept), ACK processing with SND.MAX after
// go-back-N, window updates (SND.WL1/WL2, scaling), duplicate ACKs -> go-back-N with an RFC 6582
// recover point, RTT (timestamps or one timed segment), PAWS, FIN, RST and SYN per RFC 5961,
// DCTCP-style ECN echo. Every data segment is ACKed at once (no delayed ACK, as in TAS).
#pragma once

#include <cstdint>

#include "components/fastpath/abi/flow_state.h"
#include "components/fastpath/tcp/outcome.h"
#include "components/fastpath/tcp/segment.h"

namespace vtas::tcp {

// Largest payload a single IPv4 segment can carry; longer Segment::payload_len is malformed.
inline constexpr uint32_t kMaxSegmentPayload = 65535;

RxOutcome receive(abi::FlowState& fs, const Segment& seg, uint32_t now_us, RxBuffer rx);

}  // namespace vtas::tcp
