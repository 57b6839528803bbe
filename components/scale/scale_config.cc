#include "components/scale/scale_config.h"

#include "runtime/directory.h"

namespace vtas::scale {

Status validate(const ScaleConfig& c) {
  if (Status s = validate(c.monitor); !s) return s;
  if (c.interval <= Nanos(0)) return make_error("scale: the sample interval must be > 0");
  if (c.flow_table_path.empty()) return make_error("scale: the flow table path is empty (runtime_dir)");
  if (c.fastpath.empty()) return make_error("scale: the fast path's actor name is empty");
  if (c.attach_retry <= Nanos(0) || c.table_check <= Nanos(0) || c.request_timeout <= Nanos(0)) {
    return make_error("scale: attach retry, table check and request timeout must be > 0");
  }
  return Status();
}

Result<ScaleConfig> config_from_manifest(const manifest::Manifest& manifest,
                                         const std::string& actor_name) {
  ScaleConfig c;
  c.monitor.max_cores = manifest.tas().fp_cores_max();
  c.monitor.pinned = manifest.tas().fp_no_autoscale();
  c.flow_table_path = runtime_dir_of(manifest) + "/flows";
  for (const auto& a : manifest.actor()) {
    if (a.kind() == "fastpath") {
      c.fastpath = a.name();
      break;
    }
  }
  // This actor's settings: by name, or the first scale actor's (tests, tools).
  for (const auto& a : manifest.actor()) {
    if (a.kind() != "scale" || (!actor_name.empty() && a.name() != actor_name)) continue;
    const auto& s = a.scale();
    c.monitor.scale_up_idle_cores = s.up_below_idle_cores();
    c.monitor.scale_down_idle_cores = s.down_above_idle_cores();
    c.monitor.hold_samples = s.hold_samples();
    c.interval = std::chrono::microseconds(s.sample_interval_us());
    break;
  }
  if (Status s = validate(c); !s) return s.error();
  return c;
}

}  // namespace vtas::scale
