#include "components/cc/actor/cc_config.h"

#include "components/cc/actor/cc_policy.h"
#include "runtime/directory.h"

namespace vtas::cc {

Status validate(const CcConfig& c) {
  if (Status s = validate(c.params); !s) return s;
  if (c.flow_table_path.empty() || c.state_path.empty()) {
    return make_error("cc: the flow table and state paths must be set (runtime_dir)");
  }
  if (c.fastpath.empty()) return make_error("cc: the fast path's actor name is empty");
  if (c.sweep.chunk == 0) return make_error("cc: sweep chunk must be > 0 slots");
  if (c.sweep_tick_busy <= Nanos(0) || c.sweep_tick_idle < c.sweep_tick_busy) {
    return make_error("cc: sweep ticks must be > 0, the idle one no shorter than the busy one");
  }
  if (c.idle_check_min_us == 0 || c.idle_check_max_us < c.idle_check_min_us) {
    return make_error("cc: idle checks: min " + std::to_string(c.idle_check_min_us) +
                      " us must be > 0 and <= max " + std::to_string(c.idle_check_max_us) + " us");
  }
  if (c.max_steps_per_round == 0) return make_error("cc: max_steps_per_round must be > 0");
  if (c.attach_retry <= Nanos(0) || c.table_check <= Nanos(0)) {
    return make_error("cc: attach retry and table check periods must be > 0");
  }
  return Status();
}

Result<CcConfig> config_from_manifest(const manifest::Manifest& manifest) {
  CcConfig c;
  auto params = params_from_proto(manifest.tas());
  if (!params) return params.error();
  c.params = *params;
  c.tas = cc_fields_of(manifest.tas());
  const std::string dir = runtime_dir_of(manifest);
  c.flow_table_path = dir + "/flows";
  c.state_path = dir + "/cc.state";
  for (const auto& a : manifest.actor()) {
    if (a.kind() == "fastpath") {
      c.fastpath = a.name();
      break;
    }
  }
  if (Status s = validate(c); !s) return s.error();
  return c;
}

}  // namespace vtas::cc
