// TCP sequence number arithmetic modulo 2^32 (RFC 1982 serial numbers, RFC 9293 section 3.4).
// For everyone who compares sequence or acknowledgement numbers: the fast path's receive and
// ACK processing, the conn actor's handshakes, the retransmit timer. Never compare sequence
// numbers with < directly: they wrap every 4 GiB, i.e. every few seconds at 10 Gbit/s.
//
// Two numbers compare as if they were less than 2^31 apart. Numbers exactly 2^31 apart are
// ambiguous: seq_diff is INT32_MIN both ways, so seq_lt(a, b) and seq_lt(b, a) both hold.
// That is harmless because no window comes anywhere near 2 GiB.
#pragma once

#include <cstdint>

namespace vtas::wire {

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

// True when `seq` lies in the half-open window [start, start + len), wrap-safe. An empty window
// (len 0) contains nothing.
constexpr bool seq_in_window(uint32_t seq, uint32_t start, uint32_t len) {
  return seq - start < len;
}

}  // namespace vtas::wire
