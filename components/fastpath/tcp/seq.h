// Sequence-number arithmetic modulo 2^32 for the fast path's TCP core (RFC 9293 section 3.4).
// Used by every function in components/fastpath/tcp; anyone else comparing sequence numbers
// may use it too. Never compare sequence numbers with < directly: they wrap every 4 GiB.
//
// (components/wire/seq.h has the same functions; this copy keeps the TCP core free of a
// dependency on the parser, whose only job for us is to fill a tcp::Segment.)
#pragma once

#include <cstdint>

namespace vtas::tcp {

// a - b as a signed distance: positive when a is after b.
constexpr int32_t seq_diff(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b);
}
constexpr bool seq_lt(uint32_t a, uint32_t b) {
  return seq_diff(a, b) < 0;
}
constexpr bool seq_leq(uint32_t a, uint32_t b) {
  return seq_diff(a, b) <= 0;
}
constexpr bool seq_gt(uint32_t a, uint32_t b) {
  return seq_diff(a, b) > 0;
}
constexpr bool seq_geq(uint32_t a, uint32_t b) {
  return seq_diff(a, b) >= 0;
}
constexpr uint32_t seq_max(uint32_t a, uint32_t b) {
  return seq_lt(a, b) ? b : a;
}
constexpr uint32_t seq_min(uint32_t a, uint32_t b) {
  return seq_lt(a, b) ? a : b;
}

}  // namespace vtas::tcp
