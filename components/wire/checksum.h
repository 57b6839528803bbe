// Internet checksums (RFC 1071) for IPv4 and TCP: full computation, verification, incremental
// update (RFC 1624) and the pseudo-header sum that TX checksum offload wants. Hot-path code:
// everything is inline, allocation-free and safe for any length.
//
// Convention for every function that returns a checksum: it is the complement of the ones'
// complement sum of the bytes *as they are*. Zero the checksum field first and the result is
// the value to store; run it over a received header or segment (field included) and a correct
// one yields 0. Sums and checksums are host integers holding the big-endian field value, so
// store them with store_be16().
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "components/wire/address.h"
#include "components/wire/byte_order.h"
#include "components/wire/headers.h"

namespace vtas::wire {

namespace detail {

// One pass of checksum_add over at most 2^30 bytes. Each 8-byte word is added as its two
// 32-bit halves into 64-bit accumulators: no carry to propagate inside the loop (the carries
// pile up in the upper 32 bits and are folded back at the end), and two accumulators let the
// additions run in parallel. That is about twice as fast as add-with-carry per word.
inline uint32_t checksum_pass(const uint8_t* data, size_t len, uint32_t sum) {
  uint64_t a = 0;
  uint64_t b = 0;
  while (len >= 16) {
    uint64_t w[2];
    std::memcpy(w, data, sizeof w);
    a += (w[0] & 0xffffffffu) + (w[0] >> 32);
    b += (w[1] & 0xffffffffu) + (w[1] >> 32);
    data += 16;
    len -= 16;
  }
  if (len >= 8) {
    uint64_t w;
    std::memcpy(&w, data, sizeof w);
    a += (w & 0xffffffffu) + (w >> 32);
    data += 8;
    len -= 8;
  }
  if (len > 0) {
    uint64_t w = 0;
    std::memcpy(&w, data, len);  // memory order preserved: the missing bytes read as zero
    b += (w & 0xffffffffu) + (w >> 32);
  }
  uint64_t acc = a + b;  // each < 2^61 after 2^30 bytes: no overflow
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  uint32_t s = static_cast<uint32_t>(acc);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return sum + ntoh16(static_cast<uint16_t>(s));
}

}  // namespace detail

// Adds the 16-bit big-endian words of `data` to `sum` (a running, unfolded sum) and returns the
// new running sum. An odd trailing byte is padded with zero, so chain calls only on pieces
// that start at an even offset of the checksummed data. Words are summed in native byte order
// and swapped once at the end (RFC 1071 section 2(B): the ones' complement sum is byte-order
// independent up to a final swap).
inline uint32_t checksum_add(const uint8_t* data, size_t len, uint32_t sum = 0) {
  constexpr size_t kPass = size_t{1} << 30;  // keeps the 64-bit accumulators from overflowing
  while (len > kPass) {
    sum = detail::checksum_pass(data, kPass, sum);
    data += kPass;
    len -= kPass;
  }
  return detail::checksum_pass(data, len, sum);
}

// Folds a running sum to 16 bits (not complemented).
constexpr uint16_t checksum_fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The checksum of a running sum: folded and complemented.
constexpr uint16_t checksum_finish(uint32_t sum) {
  return static_cast<uint16_t>(~checksum_fold(sum));
}

// RFC 1071 checksum of arbitrary bytes.
inline uint16_t internet_checksum(const uint8_t* data, size_t len) {
  return checksum_finish(checksum_add(data, len));
}

// IPv4 header checksum over `header_length` bytes (20..60, options included).
inline uint16_t ipv4_header_checksum(const uint8_t* header, size_t header_length) {
  return internet_checksum(header, header_length);
}

// The folded, NOT complemented sum of the TCP/IPv4 pseudo-header (addresses, zero, protocol 6,
// TCP length = header + payload). With TX checksum offload (DPDK RTE_MBUF_F_TX_TCP_CKSUM)
// this is what goes into the TCP checksum field; the NIC adds the segment and complements.
constexpr uint16_t tcp_pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, uint16_t tcp_length) {
  const uint32_t sum = (src.value >> 16) + (src.value & 0xffff) + (dst.value >> 16) +
                       (dst.value & 0xffff) + kIpProtoTcp + tcp_length;
  return checksum_fold(sum);
}

// TCP checksum of `segment` (TCP header + payload, `len` bytes) under the IPv4 pseudo-header.
// Zero-field convention as above: 0 over a received segment means the checksum is correct.
inline uint16_t tcp_checksum(Ipv4Addr src, Ipv4Addr dst, const uint8_t* segment, size_t len) {
  const uint32_t pseudo = tcp_pseudo_header_sum(src, dst, static_cast<uint16_t>(len));
  return checksum_finish(checksum_add(segment, len, pseudo));
}

// ---- Incremental update (RFC 1624, equation 3: HC' = ~(~HC + ~m + m')) --------------------

// The checksum after a 16-bit word of the covered data changes from `old_word` to `new_word`
// (both big-endian values at an even offset, e.g. a header field read with load_be16).
constexpr uint16_t checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  const uint32_t sum = uint32_t{static_cast<uint16_t>(~checksum)} +
                       uint32_t{static_cast<uint16_t>(~old_word)} + new_word;
  return checksum_finish(sum);
}

// Same for a 32-bit field at an even offset (sequence numbers, addresses, timestamps).
constexpr uint16_t checksum_update32(uint16_t checksum, uint32_t old_value, uint32_t new_value) {
  checksum = checksum_update16(checksum, static_cast<uint16_t>(old_value >> 16),
                               static_cast<uint16_t>(new_value >> 16));
  return checksum_update16(checksum, static_cast<uint16_t>(old_value & 0xffff),
                           static_cast<uint16_t>(new_value & 0xffff));
}

// The checksum after `len` bytes starting at byte `offset` of the covered data change from
// `old_bytes` to `new_bytes`. Any offset and length: a field at an odd offset contributes its
// bytes to the other half of each word, which is a byte swap of its partial sum.
inline uint16_t checksum_update_bytes(uint16_t checksum, size_t offset, const uint8_t* old_bytes,
                                      const uint8_t* new_bytes, size_t len) {
  uint16_t old_sum = checksum_fold(checksum_add(old_bytes, len));
  uint16_t new_sum = checksum_fold(checksum_add(new_bytes, len));
  if (offset & 1) {
    old_sum = byteswap16(old_sum);
    new_sum = byteswap16(new_sum);
  }
  return checksum_update16(checksum, old_sum, new_sum);
}

}  // namespace vtas::wire
