// DPDK telemetry for the fast path: `/vtas/cores` (per-core counters; parameter: a core index,
// default 0) and `/vtas/flows` (flows in use) on the EAL's telemetry socket
// (/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2), next to DPDK's own /ethdev/stats, so
// standard DPDK tooling (dpdk-telemetry.py) reads vtas's counters too.
#pragma once

#include <cstdint>

namespace vtas::fastpath {

class FlowTable;

// Registers the commands once per process (after EAL init). `table` must outlive the EAL.
void publish_telemetry(const FlowTable* table, uint32_t cores);

}  // namespace vtas::fastpath
