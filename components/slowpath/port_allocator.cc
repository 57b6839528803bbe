#include "components/slowpath/port_allocator.h"

#include <sys/random.h>

#include <string>

namespace vtas::conn {

Status check_port_range(const PortRange& range) {
  if (range.first == 0 || range.first > range.last) {
    return make_error("ephemeral port range " + std::to_string(range.first) + "-" +
                      std::to_string(range.last) +
                      " is invalid: it needs 1 <= first <= last <= 65535 (default 32768-60999)");
  }
  return Status();
}

namespace {
uint64_t kernel_seed() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed) || seed == 0) {
    seed = 0x5DEECE66Dull;
  }
  return seed;
}
}  // namespace

PortAllocator::PortAllocator(PortRange range, uint64_t seed)
    : range_(range), rng_(seed != 0 ? seed : kernel_seed()) {
  if (range_.first == 0) range_.first = 1;
  if (range_.last < range_.first) range_.last = range_.first;
}

std::optional<uint16_t> PortAllocator::pick(const std::function<bool(uint16_t)>& usable) {
  const uint32_t count = uint32_t{range_.last} - range_.first + 1;
  const uint32_t start = static_cast<uint32_t>(rng_() % count);
  for (uint32_t i = 0; i < count; ++i) {
    const auto port = static_cast<uint16_t>(range_.first + (start + i) % count);
    if (usable(port)) return port;
  }
  return std::nullopt;
}

}  // namespace vtas::conn
