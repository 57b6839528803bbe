// One entry point that runs arbitrary bytes through every parser in components/wire, for
// fuzzers (a libFuzzer target is `if (parse_any(d, n) < 0) __builtin_trap(); return 0;`) and
// for the random-input tests. Not for production code paths.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vtas::wire {

// Feeds `data` to parse_frame (verifying and trusting checksums), parse_tcp_options,
// parse_arp, parse_mac and parse_ipv4; and, for an input that parses as a TCP segment,
// rewrites its timestamps on a copy and rebuilds it from the parsed fields. Checks the
// invariants a correct parser keeps (offsets inside the input, verify-ok implies trust-ok
// with the same fields, a rewritten segment still verifies, a rebuilt one parses back to the
// same fields). Returns the number of parsers that accepted the input, or -1 if an invariant
// broke: a bug in this library, never the input's fault.
int parse_any(const uint8_t* data, size_t len);

}  // namespace vtas::wire
