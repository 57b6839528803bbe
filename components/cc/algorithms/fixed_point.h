// Integer arithmetic for the congestion-control algorithms: Q32 fractions (2^32 = 1.0),
// products through 128 bits, and saturation instead of wrap-around. Used only by the units in
// components/cc/algorithms.
//
// Why fixed point: TAS computes with integers too, and integers make every step exactly
// reproducible, so tests can state expected rates to the kbps. TAS scales fractions by
// UINT32_MAX; vtas scales by 2^32, which represents 1.0 and every power-of-two fraction (the
// default DCTCP weight 1/16) exactly. The two scales differ by less than one part in 4e9.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace vtas::cc {

__extension__ using Uint128 = unsigned __int128;
__extension__ using Int128 = __int128;

inline constexpr uint64_t kQ32One = uint64_t{1} << 32;
inline constexpr uint32_t kMaxRateKbps = std::numeric_limits<uint32_t>::max();

// A fraction (or factor) as Q32, rounded to nearest. Callers validate the range first.
inline uint64_t to_q32(double value) {
  return static_cast<uint64_t>(std::llround(value * static_cast<double>(kQ32One)));
}

inline uint64_t saturate_u64(Uint128 v) {
  return v > std::numeric_limits<uint64_t>::max() ? std::numeric_limits<uint64_t>::max()
                                                  : static_cast<uint64_t>(v);
}

inline uint32_t saturate_u32(uint64_t v) {
  return v > kMaxRateKbps ? kMaxRateKbps : static_cast<uint32_t>(v);
}

// a * b / divisor, truncated, saturating; divisor 0 yields the maximum (callers avoid it).
inline uint64_t mul_div(uint64_t a, uint64_t b, uint64_t divisor) {
  if (divisor == 0) return std::numeric_limits<uint64_t>::max();
  return saturate_u64(static_cast<Uint128>(a) * b / divisor);
}

// value * fraction, fraction in Q32, truncated.
inline uint64_t q32_mul(uint64_t value, uint64_t fraction_q32) {
  return saturate_u64((static_cast<Uint128>(value) * fraction_q32) >> 32);
}

inline uint64_t add_sat(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

inline uint32_t add_sat(uint32_t a, uint32_t b) {
  return a > kMaxRateKbps - b ? kMaxRateKbps : a + b;
}

// Exponentially weighted moving average in Q32: weight * sample + (1 - weight) * average.
inline uint64_t ewma_q32(uint64_t average, uint64_t sample, uint64_t weight_q32) {
  const Uint128 sum = static_cast<Uint128>(weight_q32) * sample +
                      static_cast<Uint128>(kQ32One - weight_q32) * average;
  return saturate_u64(sum >> 32);
}

// Bytes over microseconds as kbps (bits per millisecond): bytes * 8 * 1000 / us.
inline uint32_t bytes_per_us_to_kbps(uint64_t bytes, uint64_t us) {
  return saturate_u32(mul_div(bytes, 8000, us));
}

}  // namespace vtas::cc
