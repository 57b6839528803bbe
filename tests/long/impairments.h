// ImpairmentFixture: transfers between an app on vtas and a Linux peer through vtas-relay with
// an impairment (loss, reordering, duplication, delay jitter, corruption), in both directions
// at once: a Linux client sends to a vtas echo server and checks the echo byte for byte, and a
// vtas client sends to a Linux sink that hashes what it got. Checks SHA-256 equality and that
// everything finished within a bound. Used by the long suite and its integration variant.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/long/long_fixture.h"

namespace vtas::testing {

class ImpairmentFixture : public LongFixture {
 protected:
  // Starts the relay with `relay_options`, runs `bytes` each way and returns the seconds the
  // slower direction took (the test fails if that exceeds `bound`).
  double transfer_under(const std::vector<std::string>& relay_options, uint64_t bytes,
                        std::chrono::seconds bound);
};

}  // namespace vtas::testing
