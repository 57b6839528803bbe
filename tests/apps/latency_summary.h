// The "requests=<n> per_s=<rate> p50_us=.. p99_us=.. p999_us=.." line the test tools print
// after request/response or connection-rate runs (bench/tcp_bench.py parses it). Shared by
// vtas_ll_tool and kernel_tcp_tool so both sides of a comparison count the same way.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace vtas::testing {

// Sorts `latencies_ns` and prints the line; nothing when it is empty.
inline void print_latency_summary(std::vector<uint64_t>& latencies_ns, double seconds) {
  if (latencies_ns.empty()) return;
  std::sort(latencies_ns.begin(), latencies_ns.end());
  const size_t m = latencies_ns.size();
  auto at = [&](size_t per_thousand) {
    return static_cast<double>(latencies_ns[std::min(m - 1, m * per_thousand / 1000)]) / 1e3;
  };
  std::printf("requests=%zu per_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f\n", m,
              static_cast<double>(m) / seconds, at(500), at(990), at(999));
}

}  // namespace vtas::testing
