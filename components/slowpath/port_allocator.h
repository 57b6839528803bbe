// PortAllocator: picks local ports for active opens (RFC 6056 algorithm 1: a random start in
// the range, then the next usable port). Which ports are usable is the caller's knowledge (a
// port is usable for a destination when no connection, handshake or TIME_WAIT entry holds the
// same 4-tuple and no listener owns it), so the allocator keeps no table that could drift
// from the conn tables after a restart: it is rebuilt for free. Used by the conn actor.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>

#include "runtime/result.h"

namespace vtas::conn {

struct PortRange {
  uint16_t first = 32768;  // Linux's default ip_local_port_range
  uint16_t last = 60999;
};

// "first <= last and first >= 1", with a message naming the bad range.
Status check_port_range(const PortRange& range);

class PortAllocator {
 public:
  // `seed` = 0 takes one from the kernel CSPRNG (tests pass a fixed one).
  PortAllocator(PortRange range, uint64_t seed);

  // A port in the range with usable(port) true, trying each at most once; nullopt when every
  // port of the range is taken (the caller answers -EADDRNOTAVAIL, as Linux does).
  std::optional<uint16_t> pick(const std::function<bool(uint16_t)>& usable);

  const PortRange& range() const { return range_; }
  bool in_range(uint16_t port) const { return port >= range_.first && port <= range_.last; }

 private:
  PortRange range_;
  std::mt19937_64 rng_;
};

}  // namespace vtas::conn
