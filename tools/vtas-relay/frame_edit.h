// FrameEdit: what the relay reads and changes in a frame: where the IP header is, its ECN
// field, whether it is TCP data; setting CE (IPv4 header checksum fixed up incrementally, RFC
// 1624), setting CWR on TCP (TCP checksum fixed up the same way), flipping a byte. Frames are
// untrusted input: every function checks lengths and leaves anything it cannot parse alone.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vtas::relay {

inline constexpr uint8_t kEcnNotEct = 0;
inline constexpr uint8_t kEcnEct1 = 1;
inline constexpr uint8_t kEcnEct0 = 2;
inline constexpr uint8_t kEcnCe = 3;

struct FrameInfo {
  bool ip = false;  // IPv4 or IPv6 (one optional VLAN tag allowed)
  bool ipv6 = false;
  size_t l3_offset = 0;
  uint8_t ecn = kEcnNotEct;
  bool tcp = false;
  size_t l4_offset = 0;
  bool tcp_data = false;  // TCP with payload
};

FrameInfo inspect(const uint8_t* frame, size_t length);

// Sets CE on an ECT(0)/ECT(1) IP frame. False (and nothing changed) for anything else.
bool set_ce(uint8_t* frame, size_t length, const FrameInfo& info);
// Sets CWR on a TCP segment. False if it is not TCP or already had CWR.
bool set_cwr(uint8_t* frame, size_t length, const FrameInfo& info);
// XORs the byte at `offset` with `mask` (offset and mask chosen by the caller).
void flip_byte(uint8_t* frame, size_t length, size_t offset, uint8_t mask);

// The Internet checksum after a 16-bit word of the covered data changed from `old_word` to
// `new_word` (RFC 1624 eqn. 3), all in network byte order as stored.
uint16_t checksum_adjust(uint16_t checksum, uint16_t old_word, uint16_t new_word);

}  // namespace vtas::relay
