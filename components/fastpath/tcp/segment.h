// The TCP core's input: one received segment, already parsed and checked by the caller (the
// fast-path loop, with components/wire), and the flow's receive buffer it may write into.
// Plain data; the core never looks at frames, only at these fields.
#pragma once

#include <cstdint>

namespace vtas::tcp {

// TCP header flag bits, as on the wire (byte 13 of the TCP header).
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;
inline constexpr uint8_t kTcpUrg = 0x20;
inline constexpr uint8_t kTcpEce = 0x40;
inline constexpr uint8_t kTcpCwr = 0x80;

struct Segment {
  uint32_t seq = 0;     // SEG.SEQ (host order)
  uint32_t ack = 0;     // SEG.ACK, meaningful when flags has kTcpAck
  uint8_t flags = 0;    // kTcp* bits
  bool has_ts = false;  // a timestamps option was present (RFC 7323)
  bool ce = false;      // the IP header carried ECN CE (congestion experienced)
  uint16_t window = 0;  // raw window field, not yet scaled
  uint32_t tsval = 0;   // valid when has_ts
  uint32_t tsecr = 0;   // valid when has_ts
  const uint8_t* payload = nullptr;
  uint32_t payload_len = 0;  // TCP payload bytes (FIN not counted)
};

// The flow's circular receive buffer as mapped by the fast path (len must equal rx_len).
struct RxBuffer {
  uint8_t* base = nullptr;
  uint32_t len = 0;
};

}  // namespace vtas::tcp
