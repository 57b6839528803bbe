// Segment: a received TCP/IPv4 frame as conn reasons about it (4-tuple from our side, link
// addresses to answer on, header fields, options), and parse_segment() that gets it from the
// bytes of a PacketIn with the wire library. Pure; used by the conn actor and its tests.
#pragma once

#include <cstdint>
#include <string_view>

#include "components/slowpath/four_tuple.h"
#include "components/wire/frame.h"

namespace vtas::conn {

struct Segment {
  FourTuple tuple;        // local = the frame's destination
  wire::MacAddr src_mac;  // the previous hop: where answers go
  wire::MacAddr dst_mac;  // our port's MAC as the sender addressed it
  bool has_vlan = false;
  uint16_t vlan_tci = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  uint16_t payload_length = 0;
  wire::TcpOptions options;
  wire::Ecn ecn = wire::Ecn::kNotEct;

  bool has(uint8_t bits) const { return (flags & bits) == bits; }
  bool any(uint8_t bits) const { return (flags & bits) != 0; }
  // SEG.LEN: payload plus one for each of SYN and FIN.
  uint32_t sequence_length() const {
    return payload_length + (any(wire::kTcpSyn) ? 1u : 0u) + (any(wire::kTcpFin) ? 1u : 0u);
  }
  // A SYN that opens a connection: SYN without ACK, RST or FIN (ECE/CWR/PSH/URG allowed).
  bool is_connection_request() const {
    return any(wire::kTcpSyn) && !any(wire::kTcpAck | wire::kTcpRst | wire::kTcpFin);
  }
};

enum class SegmentCheck : uint8_t {
  kOk,
  kMalformed,   // does not parse (wire::ParseResult says why)
  kNotTcp,      // ARP, another IP protocol, a fragment
  kBadAddress,  // multicast/broadcast/zero addresses or port 0: never answered (RFC 1122)
};

const char* segment_check_name(SegmentCheck check);

// Parses `frame` (checksums verified) into `*out`. `detail` (optional) gets the wire result.
SegmentCheck parse_segment(std::string_view frame, Segment* out,
                           wire::ParseResult* detail = nullptr);

}  // namespace vtas::conn
