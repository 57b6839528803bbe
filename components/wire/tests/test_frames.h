// Test helpers for components/wire: hex decoding and real frames captured from Linux 6.x.
//
// The frames were captured on a TAP device in a private network namespace (a TAP device
// without offloads makes the kernel fill in every checksum): Linux at 10.0.0.1 /
// 02:00:00:00:00:01, a scripted peer at 10.0.0.2 / 02:00:00:00:00:02.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace vtas::wire::testing {

// Hex digits to bytes; spaces are ignored so tests can group fields ("0204 05b4").
inline std::vector<uint8_t> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : hex) {
    const int n = nibble(c);
    if (n < 0) continue;
    if (high < 0) {
      high = n;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | n));
      high = -1;
    }
  }
  return out;
}

// Linux connects to 10.0.0.2:80: SYN with MSS 1460, SACK-permitted, TS, NOP, WS 10.
inline constexpr std::string_view kLinuxSyn =
    "020000000002020000000001080045000"
    "03cd8e1400040064dd80a0000010a000002b07c0050f36b380d00000000a002faf0ddca0000020405b40402"
    "080a92e9ec0f000000000103030a";

// Linux (10.0.0.1:5000) answers a SYN from 10.0.0.2:40000 (seq 0x11111111, TSval 1000).
inline constexpr std::string_view kLinuxSynAck =
    "02000000000202000000000108004500003c00004000400626ba0a0000010a00000213889c4052c0df3c1111"
    "1112a012fe88ce270000020405b40402080a170c485d000003e80103030a";

// Linux sends "hello from linux\n" on that connection (PSH|ACK, NOP NOP TS).
inline constexpr std::string_view kLinuxData =
    "020000000002020000000001080045000045823f40004006a4710a0000010a00000213889c4052c0df3d1111"
    "111280180040d80000000101080a170c485d000003e968656c6c6f2066726f6d206c696e75780a";

// Linux asks who has 10.0.0.2.
inline constexpr std::string_view kLinuxArpRequest =
    "ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002";

// Linux answers the peer's request for 10.0.0.1.
inline constexpr std::string_view kLinuxArpReply =
    "020000000002020000000001080600010800060400020200000000010a0000010200000000020a000002";

// A loopback SYN (127.0.0.1:46400 -> 127.0.0.1:45678, 40-byte TCP header). On loopback Linux
// leaves the checksum to "hardware" and stores only the pseudo-header sum, 0xfe30: a real
// vector for tcp_pseudo_header_sum().
inline constexpr std::string_view kLoopbackSynPartialChecksum =
    "00000000000000000000000008004500003c18964000400624247f0000017f000001b540b26eec5e10930000"
    "0000a002ffd7fe3000000204ffd70402080a9bae5d91000000000103030a";

}  // namespace vtas::wire::testing
