#include "components/slowpath/isn_generator.h"

namespace vtas::conn {

uint32_t IsnGenerator::clock_ticks(TimePoint now) {
  return static_cast<uint32_t>(to_ns(now) / 4000u);
}

uint32_t IsnGenerator::isn(const FourTuple& tuple, TimePoint now) const {
  const uint64_t f = hash_tuple(key_, tuple);
  return clock_ticks(now) + static_cast<uint32_t>(f ^ (f >> 32));
}

}  // namespace vtas::conn
