// Fuzz target: a received Ethernet frame (or any bytes) through every parser of
// components/wire, with the library's own consistency checks (components/wire/fuzz_entry.h).
#include "components/wire/fuzz_entry.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_targets.h"

namespace vtas::fuzz {

int fuzz_wire_frame(const uint8_t* data, size_t size) {
  VTAS_FUZZ_CHECK(wire::parse_any(data, size) >= 0, "a wire parser broke its own invariant");
  return 0;
}

}  // namespace vtas::fuzz
