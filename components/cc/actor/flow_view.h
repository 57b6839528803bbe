// FlowView: what the cc actor reads of one flow in the fast path's flow table, and the one
// thing it writes there (FlowState::tx_rate_kbps). Every access is a relaxed atomic load or
// store: the fast path writes these fields concurrently, and cc treats what it reads as a
// snapshot (monotonic counters, a smoothed RTT).
//
// For the cc actor only (components/cc/actor).
#pragma once

#include <cstdint>

#include "components/cc/algorithms/congestion_control.h"
#include "components/fastpath/abi/flow_state.h"

namespace vtas::cc {

// The flags word (abi::FlowFlags).
uint32_t read_flags(const abi::FlowState& fs);

// Whether cc controls a flow with these flags: installed and not reset.
bool controllable(uint32_t flags);

// The identity of the flow now in the slot: its 4-tuple and the app's opaque, mixed into 64
// bits. A new connection in a reused slot has another identity (another port or opaque), so
// its congestion state starts fresh and the record of the flow before it is never resumed.
uint64_t flow_identity(const abi::FlowState& fs);

// Counters, RTT, MSS and send-buffer size, as congestion_control.h wants them.
FlowSample read_sample(const abi::FlowState& fs);

uint32_t read_rate(const abi::FlowState& fs);
void write_rate(abi::FlowState& fs, uint32_t rate_kbps);

}  // namespace vtas::cc
