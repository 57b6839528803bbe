// The out-of-order intervals of a flow's receive buffer (FlowState::rx_ooo): bytes that
// arrived beyond a hole, kept until the hole fills. Up to kMaxOooIntervals disjoint intervals,
// sorted by sequence, never touching (touching ones are merged). Callers: receive() (the TCP
// core), and the segment builder, which reports the intervals to the peer as SACK blocks.
//
// Why several: with one interval, a second hole (common under reordering, where several
// segments of a window are late at once) made every segment beyond it a loss for the
// peer to recover. Why never renege: once an interval was reported in a SACK block the peer
// may stop retransmitting it, so a full set drops the *new* non-adjacent segment instead of
// forgetting a kept interval.
#pragma once

#include <cstddef>
#include <cstdint>

#include "components/fastpath/abi/flow_state.h"

namespace vtas::tcp {

// Records [start, end) (beyond RCV.NXT, inside the window): merges it with every interval it
// overlaps or touches, or takes a free slot. Returns false, changing nothing, when it touches
// none and every slot is used. The caller copies the bytes into the buffer only on true.
bool ooo_add(abi::FlowState& fs, uint32_t start, uint32_t end);

// After RCV.NXT advanced: if the first interval now starts at or before RCV.NXT, removes it,
// sets `*beyond` to how many of its bytes lie past RCV.NXT (to deliver now) and returns true.
// Call until false: in-order data may have covered several intervals.
bool ooo_take_reached(abi::FlowState& fs, uint32_t* beyond);

// The intervals as SACK blocks, most recently grown first (RFC 2018 section 4), then the
// others in sequence order; at most `max` of them. Returns the number written.
size_t ooo_sack_blocks(const abi::FlowState& fs, abi::OooInterval* out, size_t max);

}  // namespace vtas::tcp
