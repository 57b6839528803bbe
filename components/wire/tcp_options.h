// TCP options (MSS, window scale, SACK-permitted, SACK, timestamps): parsed once into a
// fixed-size TcpOptions, and laid out for sending from the same struct. parse_frame() calls
// the parser for every TCP segment; the builders in tcp_segment.h call the writer. Inline,
// allocation-free, bounds-checked, and every loop advances (TAS loops forever on a length-0
// option; this parser rejects it).
//
// What the parser accepts, and why:
//   - EOL ends the list; NOP is skipped; every other kind must carry a length byte >= 2 that
//     stays inside the option list, else kBadOptions (we cannot find the next option safely).
//   - MSS, window scale, SACK-permitted with a length other than 4, 3, 2, and SACK with a
//     length that is not 2 + 8n (n = 1..4): kBadOptions. RFC 9293 allows treating an illegal
//     length as a protocol error, and a segment that carries one is not worth guessing about.
//   - Timestamps with a length other than 10: ignored and flagged (timestamps_malformed), so
//     the caller can decide (the fast path needs timestamps; the slow path may just go on).
//   - Unknown kinds: skipped by their length. Duplicates: the first valid one wins.
//   - A window scale above 14 is clamped to 14 (RFC 7323 section 2.3).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "components/wire/byte_order.h"
#include "components/wire/headers.h"
#include "components/wire/parse_result.h"

namespace vtas::wire {

// A SACK block: the peer holds the bytes [left, right) (sequence numbers, wrap-safe).
struct SackBlock {
  uint32_t left = 0;
  uint32_t right = 0;
  friend constexpr bool operator==(const SackBlock&, const SackBlock&) = default;
};

struct TcpOptions {
  static constexpr size_t kMaxSackBlocks = 4;  // 2 + 4 * 8 = 34 of the 40 option bytes

  bool has_mss = false;
  uint16_t mss = 0;
  bool has_wscale = false;
  uint8_t wscale = 0;  // shift count, <= 14
  bool sack_permitted = false;
  bool has_timestamps = false;
  uint32_t tsval = 0;
  uint32_t tsecr = 0;
  uint8_t sack_count = 0;  // valid entries in sack[]
  SackBlock sack[kMaxSackBlocks] = {};

  // Filled by the parser only (the writer ignores them):
  bool timestamps_malformed = false;  // a timestamps option with length != 10 was ignored
  uint8_t timestamps_offset = 0;      // of the valid timestamps option's kind byte, from the
                                      // start of the option list (when has_timestamps)
};

// Parses the `len` option bytes after the fixed TCP header into `*out` (reset first).
// kOk or kBadOptions; on kBadOptions `*out` holds what was parsed before the bad option.
inline ParseResult parse_tcp_options(const uint8_t* options, size_t len, TcpOptions* out) {
  *out = TcpOptions{};
  bool seen_sack = false;
  size_t off = 0;
  while (off < len) {
    const uint8_t kind = options[off];
    if (kind == kTcpOptEol) break;
    if (kind == kTcpOptNop) {
      ++off;
      continue;
    }
    if (len - off < 2) return ParseResult::kBadOptions;  // no room for the length byte
    const size_t opt_len = options[off + 1];
    if (opt_len < 2 || opt_len > len - off) return ParseResult::kBadOptions;
    const uint8_t* body = options + off + 2;
    switch (kind) {
      case kTcpOptMss:
        if (opt_len != kTcpOptLenMss) return ParseResult::kBadOptions;
        if (!out->has_mss) {
          out->has_mss = true;
          out->mss = load_be16(body);
        }
        break;
      case kTcpOptWindowScale:
        if (opt_len != kTcpOptLenWindowScale) return ParseResult::kBadOptions;
        if (!out->has_wscale) {
          out->has_wscale = true;
          out->wscale = std::min(body[0], kTcpMaxWindowScale);
        }
        break;
      case kTcpOptSackPermitted:
        if (opt_len != kTcpOptLenSackPermitted) return ParseResult::kBadOptions;
        out->sack_permitted = true;
        break;
      case kTcpOptSack: {
        const size_t blocks = (opt_len - 2) / 8;
        if ((opt_len - 2) % 8 != 0 || blocks == 0 || blocks > TcpOptions::kMaxSackBlocks) {
          return ParseResult::kBadOptions;
        }
        if (!seen_sack) {
          seen_sack = true;
          out->sack_count = static_cast<uint8_t>(blocks);
          for (size_t i = 0; i < blocks; ++i) {
            out->sack[i].left = load_be32(body + i * 8);
            out->sack[i].right = load_be32(body + i * 8 + 4);
          }
        }
        break;
      }
      case kTcpOptTimestamps:
        if (opt_len != kTcpOptLenTimestamps) {
          out->timestamps_malformed = true;
        } else if (!out->has_timestamps) {
          out->has_timestamps = true;
          out->tsval = load_be32(body);
          out->tsecr = load_be32(body + 4);
          out->timestamps_offset = static_cast<uint8_t>(off);
        }
        break;
      default:
        break;  // unknown kind: skipped by its length
    }
    off += opt_len;
  }
  return ParseResult::kOk;
}

// ---- Writing ------------------------------------------------------------------------------
//
// Layout (the one Linux uses, every option 4-byte aligned so the total is a multiple of 4):
//   MSS                      02 04 mm mm
//   SACK-permitted + TS      04 02 08 0a <tsval> <tsecr>     (or 01 01 08 0a ... without SACK-
//   or TS alone              01 01 08 0a <tsval> <tsecr>      permitted, or 01 01 04 02 alone)
//   window scale             01 03 03 ss
//   SACK blocks              01 01 05 <2 + 8n> <blocks>
// SACK blocks that do not fit in the 40 option bytes are left out (the first ones are kept,
// as RFC 2018 asks: the most recent block goes first).

namespace detail {

constexpr size_t tcp_options_length_without_sack(const TcpOptions& o) {
  size_t n = 0;
  if (o.has_mss) n += 4;
  if (o.has_timestamps) {
    n += 12;
  } else if (o.sack_permitted) {
    n += 4;
  }
  if (o.has_wscale) n += 4;
  return n;
}

constexpr size_t sack_blocks_that_fit(const TcpOptions& o) {
  const size_t used = tcp_options_length_without_sack(o);
  const size_t room = used + 4 < kTcpMaxOptionsLength ? (kTcpMaxOptionsLength - used - 4) / 8 : 0;
  return std::min({size_t{o.sack_count}, TcpOptions::kMaxSackBlocks, room});
}

}  // namespace detail

// Bytes write_tcp_options() emits for `o`: a multiple of 4, at most 40.
constexpr size_t tcp_options_length(const TcpOptions& o) {
  const size_t blocks = detail::sack_blocks_that_fit(o);
  return detail::tcp_options_length_without_sack(o) + (blocks > 0 ? 4 + 8 * blocks : 0);
}

// Writes the options of `o` at `dst`, which must have room for tcp_options_length(o) bytes.
// Returns the number of bytes written.
inline size_t write_tcp_options(uint8_t* dst, const TcpOptions& o) {
  uint8_t* p = dst;
  if (o.has_mss) {
    p[0] = kTcpOptMss;
    p[1] = kTcpOptLenMss;
    store_be16(p + 2, o.mss);
    p += 4;
  }
  if (o.has_timestamps) {
    p[0] = o.sack_permitted ? kTcpOptSackPermitted : kTcpOptNop;
    p[1] = o.sack_permitted ? kTcpOptLenSackPermitted : kTcpOptNop;
    p[2] = kTcpOptTimestamps;
    p[3] = kTcpOptLenTimestamps;
    store_be32(p + 4, o.tsval);
    store_be32(p + 8, o.tsecr);
    p += 12;
  } else if (o.sack_permitted) {
    p[0] = kTcpOptNop;
    p[1] = kTcpOptNop;
    p[2] = kTcpOptSackPermitted;
    p[3] = kTcpOptLenSackPermitted;
    p += 4;
  }
  if (o.has_wscale) {
    p[0] = kTcpOptNop;
    p[1] = kTcpOptWindowScale;
    p[2] = kTcpOptLenWindowScale;
    p[3] = std::min(o.wscale, kTcpMaxWindowScale);
    p += 4;
  }
  const size_t blocks = detail::sack_blocks_that_fit(o);
  if (blocks > 0) {
    p[0] = kTcpOptNop;
    p[1] = kTcpOptNop;
    p[2] = kTcpOptSack;
    p[3] = static_cast<uint8_t>(2 + 8 * blocks);
    p += 4;
    for (size_t i = 0; i < blocks; ++i) {
      store_be32(p, o.sack[i].left);
      store_be32(p + 4, o.sack[i].right);
      p += 8;
    }
  }
  return static_cast<size_t>(p - dst);
}

}  // namespace vtas::wire
