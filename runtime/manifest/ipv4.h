// IPv4 addresses and prefixes as the manifest and the TAS command line write them:
// "10.0.0.1", "10.0.0.1/24", and routes "DEST[/PREFIX],NEXTHOP". Used by the manifest
// validator and the command-line parser; actors that need the numbers (arp, fastpath) call
// parse_local_address() / parse_route_destination() so every reader applies the same defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/result.h"

namespace vtas {

// A prefix length left out of --ip-addr means 0: every destination is on the local link
// (what TAS does). A prefix left out of a route destination means 32: a host route (TAS).
inline constexpr uint8_t kDefaultLocalPrefixLength = 0;
inline constexpr uint8_t kDefaultRoutePrefixLength = 32;

struct Ipv4Prefix {
  uint32_t address = 0;  // host byte order
  uint8_t length = 32;

  uint32_t mask() const { return length == 0 ? 0 : ~uint32_t{0} << (32 - length); }
  bool contains(uint32_t other) const { return (other & mask()) == (address & mask()); }
};

// Dotted quad, four decimal parts 0..255. Leading zeros ("010") are refused: inet_aton reads
// them as octal, people mean decimal.
std::optional<uint32_t> parse_ipv4_address(std::string_view text);
std::string format_ipv4_address(uint32_t address);

// "ADDR" or "ADDR/LEN" (LEN 0..32); the error message says what is wrong with `text`.
Result<Ipv4Prefix> parse_ipv4_prefix(std::string_view text, uint8_t default_length);

// Manifest network.ip_addr / --ip-addr.
inline Result<Ipv4Prefix> parse_local_address(std::string_view text) {
  return parse_ipv4_prefix(text, kDefaultLocalPrefixLength);
}
// Manifest network.route.destination / the DEST part of --ip-route.
inline Result<Ipv4Prefix> parse_route_destination(std::string_view text) {
  return parse_ipv4_prefix(text, kDefaultRoutePrefixLength);
}

// Usable as a host's own address or a next hop: not 0.0.0.0, not multicast (224/4), not
// the reserved 240/4 range, not 255.255.255.255. Otherwise names what the address is.
std::optional<std::string> why_not_unicast(uint32_t address);

}  // namespace vtas
