// Helpers shared by the fault-injection integration tests (tests/fault): reading counters out
// of `vtasctl stats`, the addresses of the test network's two veth ends, and a health check of
// a running instance. Test-only.
#pragma once

#include <cstdint>
#include <string>

#include "tests/integration/instance.h"
#include "tests/integration/test_network.h"

namespace vtas::fault {

// A "  name   value" counter of `vtasctl stats` (first occurrence); 0 when absent.
uint64_t stats_counter(const std::string& stats, const std::string& name);
// The same within one actor's part ("[conn]", "[fastpath]", ...); 0 when absent.
uint64_t stats_counter(const std::string& stats, const std::string& actor,
                       const std::string& name);
// The sum over all rows of column `column` of the "cores:" table of `vtasctl stats` (the fast
// path's per-core counters: rx_bad, exceptions, bad_app_bumps, ...); 0 when absent.
uint64_t core_counter(const std::string& stats, const std::string& column);

// The Linux peer's end of the veth pair (inside net.ns()).
std::string peer_interface(const testing::TestNetwork& net);
// The MAC address of the fast path's end (what DPDK's af_packet port uses as its address).
std::string fast_path_mac(const testing::TestNetwork& net);

// Empty when every actor of `status_json` runs and none restarted; otherwise what is wrong.
std::string unhealthy_actors(const std::string& status_json,
                             const char* const* actors = nullptr);

// Where the fault scripts live (source tree).
std::string fault_script(const std::string& name);

}  // namespace vtas::fault
