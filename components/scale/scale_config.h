// ScaleConfig: what the `scale` actor takes from the manifest (tas.fp_cores_max,
// tas.fp_no_autoscale, the runtime directory for the flow table, the fast path's actor name)
// plus its own cadence, resolved once at start.
#pragma once

#include <chrono>
#include <string>

#include "components/scale/load_monitor.h"
#include "proto/manifest.pb.h"
#include "runtime/clock.h"
#include "runtime/result.h"

namespace vtas::scale {

struct ScaleConfig {
  LoadMonitorSettings monitor;
  // Load sample period (TAS: 10 ms).
  Nanos interval = std::chrono::milliseconds(10);
  std::string fastpath = "fastpath";  // who gets SetCores
  std::string flow_table_path;        // `<runtime_dir>/flows`
  // Retry mapping the flow table this often while it is not there; check this often that the
  // mapped one is still the fast path's.
  Nanos attach_retry = std::chrono::milliseconds(100);
  Nanos table_check = std::chrono::seconds(1);
  // A SetCores not answered within this is sent again on a later decision.
  Nanos request_timeout = std::chrono::seconds(1);
};

Status validate(const ScaleConfig& config);

// From the manifest: TAS's flags and the settings of the scale actor `actor_name` (empty: the
// first scale actor's). An error names the offending field and value.
Result<ScaleConfig> config_from_manifest(const manifest::Manifest& manifest,
                                         const std::string& actor_name = "");

}  // namespace vtas::scale
