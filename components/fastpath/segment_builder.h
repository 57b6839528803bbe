// The glue between the TCP core (tcp/: decides sequence numbers, flags, windows) and the wire
// library (wire/: lays out bytes): turns a parsed frame into a tcp::Segment, and a flow plus
// the core's header fields into a frame in a packet buffer. Per-packet code: inline-able,
// allocation-free, bounds-checked (0 = did not fit).
#pragma once

#include <cstddef>
#include <cstdint>

#include "components/fastpath/abi/flow_state.h"
#include "components/fastpath/tcp/tcp.h"
#include "components/wire/wire.h"

namespace vtas::fastpath {

// The TCP core's view of a parsed segment. `data` is the frame the payload lies in.
tcp::Segment segment_from(const wire::Frame& frame, const uint8_t* data);

struct FrameSource {
  wire::MacAddr local_mac;
  bool checksum_offload = false;
};

// An ACK or data segment of the flow with the core's header fields. `tx_base` and `spans` give
// the payload inside the flow's circular tx buffer (spans[1] is the wrapped part); `ect` marks
// the IP header ECT(0). Returns the frame length, 0 when it does not fit `cap`.
size_t build_flow_segment(uint8_t* buf, size_t cap, const abi::FlowState& fs, const FrameSource& src,
                          const tcp::AckFields& hdr, bool ect, const uint8_t* tx_base,
                          const tcp::BufferSpan* spans, uint32_t payload_length);

// A RST|ACK with the flow's current sequence numbers (abortive close).
size_t build_flow_reset(uint8_t* buf, size_t cap, const abi::FlowState& fs, const FrameSource& src);

}  // namespace vtas::fastpath
