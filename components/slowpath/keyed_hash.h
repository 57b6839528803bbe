// SipHash-2-4 (Aumasson & Bernstein): a keyed pseudo-random function over short inputs. conn
// uses it where a peer must not be able to predict or steer the output: initial sequence
// numbers (RFC 6528's F()) and the REUSEPORT pick of a listener for a 4-tuple. Pure, no state.
#pragma once

#include <cstddef>
#include <cstdint>

#include "components/slowpath/four_tuple.h"

namespace vtas::conn {

struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
  friend constexpr bool operator==(const SipKey&, const SipKey&) = default;
};

// SipHash-2-4 of `len` bytes at `data` (reference test vectors in keyed_hash_test.cc).
uint64_t siphash24(const SipKey& key, const void* data, size_t len);

// SipHash-2-4 of the tuple in a fixed byte layout (local ip, local port, remote ip, remote
// port, big endian), optionally followed by a 64-bit salt.
uint64_t hash_tuple(const SipKey& key, const FourTuple& tuple, uint64_t salt = 0);

// A key from the kernel's CSPRNG (getrandom). Falls back to a time- and address-derived key
// only if getrandom fails, which it does not on any supported kernel.
SipKey random_sip_key();

}  // namespace vtas::conn
