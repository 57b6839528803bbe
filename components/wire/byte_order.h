// Network byte order loads and stores on unaligned byte pointers, for the wire parsers and
// builders (and anyone else who reads a big-endian field out of a packet buffer).
//
// Packet fields sit at arbitrary offsets in receive buffers, so every access goes through
// memcpy: no alignment assumption and no type punning, and the compiler turns it into a single
// load plus a byte swap.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace vtas::wire {

constexpr uint16_t byteswap16(uint16_t v) {
  return static_cast<uint16_t>((v >> 8) | (v << 8));
}
constexpr uint32_t byteswap32(uint32_t v) {
  return __builtin_bswap32(v);
}

// Host <-> network (big endian) order for 16 and 32-bit values.
constexpr uint16_t hton16(uint16_t v) {
  return std::endian::native == std::endian::big ? v : byteswap16(v);
}
constexpr uint32_t hton32(uint32_t v) {
  return std::endian::native == std::endian::big ? v : byteswap32(v);
}
constexpr uint16_t ntoh16(uint16_t v) {
  return hton16(v);
}
constexpr uint32_t ntoh32(uint32_t v) {
  return hton32(v);
}

// Big-endian field at `p` (any alignment) as a host value, and the reverse.
inline uint16_t load_be16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return ntoh16(v);
}
inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return ntoh32(v);
}
inline void store_be16(uint8_t* p, uint16_t v) {
  v = hton16(v);
  std::memcpy(p, &v, sizeof v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  v = hton32(v);
  std::memcpy(p, &v, sizeof v);
}

}  // namespace vtas::wire
