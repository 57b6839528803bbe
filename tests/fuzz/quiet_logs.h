// Silences vtas's loggers and routes protobuf's own log lines through them, once per process:
// the fuzz targets feed refusals by the million, and their log lines would bury libFuzzer's
// output and slow every run down. For tests/fuzz/targets only.
#pragma once

#include "runtime/log.h"

namespace vtas::fuzz {

inline void quiet_logs() {
  static const bool done = [] {
    log::set_quiet(true);
    log::route_protobuf_logs();
    return true;
  }();
  (void)done;
}

}  // namespace vtas::fuzz
