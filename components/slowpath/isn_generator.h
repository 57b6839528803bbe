// Initial sequence numbers as RFC 6528 asks: ISN = M + F(local ip, local port, remote ip,
// remote port, secret key), M a 4-microsecond timer and F a keyed pseudo-random function
// (SipHash-2-4, truncated). Off-path attackers cannot guess an ISN, while a given 4-tuple's
// ISNs keep increasing with time, so a reincarnated connection's segments are newer than any
// old duplicate (which also lets the peer accept our SYN over its TIME_WAIT, RFC 6191).
// TAS used ISN 0 (active) and 1 (passive). The conn actor owns one; the key survives restarts
// (it lives in the conn registry) so the per-tuple sequence continues across them.
#pragma once

#include <cstdint>

#include "components/slowpath/four_tuple.h"
#include "components/slowpath/keyed_hash.h"
#include "runtime/clock.h"

namespace vtas::conn {

class IsnGenerator {
 public:
  explicit IsnGenerator(SipKey key) : key_(key) {}

  // The ISN for `tuple` at monotonic time `now` (CLOCK_MONOTONIC is system-wide, so a
  // restarted conn continues the same clock).
  uint32_t isn(const FourTuple& tuple, TimePoint now) const;

  const SipKey& key() const { return key_; }

  // The M part: time in 4 us ticks, wrapping at 2^32 (every ~4.8 hours, as RFC 6528 expects).
  static uint32_t clock_ticks(TimePoint now);

 private:
  SipKey key_;
};

}  // namespace vtas::conn
