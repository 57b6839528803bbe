// The outcome of parsing a frame or a TCP option list, shared by every parser in
// components/wire. Callers count and drop (or hand to the slow path) by value; the name is for
// counters and rate-limited logs.
#pragma once

#include <cstdint>

namespace vtas::wire {

enum class ParseResult : uint8_t {
  kOk = 0,
  kTooShort,               // the bytes end before a header or a fixed-size body does
  kUnsupportedEtherType,   // not IPv4 or ARP (IPv6, LLDP, stacked VLAN tags, ...)
  kBadArp,                 // ARP that is not IPv4-over-Ethernet, or an unknown opcode
  kBadIpVersion,           // IPv4 ethertype but version != 4
  kBadIpHeaderLength,      // IHL < 5
  kBadIpTotalLength,       // total length < header length, or longer than the bytes received
  kBadIpChecksum,          // (only when verifying)
  kIpFragment,             // MF set or offset != 0: IPv4 fields valid, TCP not parsed
  kUnsupportedIpProtocol,  // not TCP: IPv4 fields valid, nothing above parsed
  kBadTcpHeaderLength,     // data offset < 5, or a header longer than the IP payload
  kBadTcpChecksum,         // (only when verifying)
  kBadOptions,             // a TCP option list that cannot be walked safely (see tcp_options.h)
};

// "ok", "too-short", "bad-tcp-checksum", ...; "unknown" for a value outside the enum.
const char* parse_result_name(ParseResult result);

}  // namespace vtas::wire
