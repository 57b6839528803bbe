// MAC and IPv4 address value types. Used by the wire parsers and builders, and by anyone who
// logs an address or reads one from a manifest ("10.0.0.1", "02:00:00:00:00:01").
//
// Both are plain values in host representation: compare, copy and hash them freely. Formatting
// and parsing allocate and are meant for logs and configuration, never the per-packet path.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "runtime/result.h"

namespace vtas::wire {

struct MacAddr {
  std::array<uint8_t, 6> bytes{};  // in wire order: bytes[0] is sent first

  static constexpr MacAddr broadcast() { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  static MacAddr from_bytes(const uint8_t* p) {
    MacAddr m;
    std::memcpy(m.bytes.data(), p, 6);
    return m;
  }
  void copy_to(uint8_t* p) const { std::memcpy(p, bytes.data(), 6); }

  constexpr bool is_zero() const { return *this == MacAddr{}; }
  constexpr bool is_broadcast() const { return *this == broadcast(); }
  // Group bit of the first octet: broadcast and multicast frames.
  constexpr bool is_multicast() const { return (bytes[0] & 0x01) != 0; }

  friend constexpr auto operator<=>(const MacAddr&, const MacAddr&) = default;
};

struct Ipv4Addr {
  uint32_t value = 0;  // host order: 10.0.0.1 is 0x0a000001

  static constexpr Ipv4Addr from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Ipv4Addr{(uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d};
  }

  constexpr bool is_zero() const { return value == 0; }
  constexpr bool is_broadcast() const { return value == 0xffffffffu; }
  constexpr bool is_multicast() const { return (value >> 28) == 0xe; }  // 224.0.0.0/4

  friend constexpr auto operator<=>(const Ipv4Addr&, const Ipv4Addr&) = default;
};

// "02:00:00:00:00:01" (lower-case hex) and "10.0.0.1".
std::string to_string(const MacAddr& mac);
std::string to_string(const Ipv4Addr& ip);

// Parses six groups of two hex digits separated by ':' (either case), nothing else.
Result<MacAddr> parse_mac(std::string_view text);
// Parses dotted-quad decimal: four octets 0..255 without leading zeros ("010" could mean octal
// to some tools, so it is refused rather than guessed), no whitespace, nothing else.
Result<Ipv4Addr> parse_ipv4(std::string_view text);

}  // namespace vtas::wire
