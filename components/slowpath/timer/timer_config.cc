#include "components/slowpath/timer/timer_config.h"

#include "runtime/directory.h"

namespace vtas::timer {

Status validate(const TimerConfig& c) {
  auto out_of_range = [](const char* what, uint64_t value, const char* range) {
    return make_error("timer: " + std::string(what) + " " + std::to_string(value) +
                      " is out of range (" + range + "); fix the manifest");
  };
  if (c.rto.rexmit_intervals == 0 || c.rto.rexmit_intervals > 1000) {
    return out_of_range("tas.cc_rexmit_ints", c.rto.rexmit_intervals, "1 .. 1000");
  }
  if (c.rto.control_interval_rtts == 0 || c.rto.control_interval_rtts > 1000) {
    return out_of_range("tas.cc_control_interval", c.rto.control_interval_rtts, "1 .. 1000");
  }
  if (c.rto.rtt_init_us == 0) return out_of_range("tas.tcp_rtt_init", 0, ">= 1 us");
  if (c.rto.floor_us == 0 || c.rto.floor_us > c.rto.ceiling_us) {
    return make_error("timer: RTO floor " + std::to_string(c.rto.floor_us) +
                      " us must be > 0 and <= the ceiling " + std::to_string(c.rto.ceiling_us) +
                      " us");
  }
  if (c.sweep_tick <= Nanos(0) || c.sweep_cycle < c.sweep_tick || c.sweep_idle_max <= Nanos(0)) {
    return make_error("timer: sweep tick must be > 0 and <= the sweep cycle, idle max > 0");
  }
  if (c.attach_retry <= Nanos(0) || c.table_check <= Nanos(0)) {
    return make_error("timer: attach retry and table check periods must be > 0");
  }
  if (c.max_checks_per_wakeup == 0) return make_error("timer: max_checks_per_wakeup must be > 0");
  if (c.fastpath.empty()) return make_error("timer: the fast path's actor name is empty");
  return Status();
}

Result<TimerConfig> config_from_manifest(const manifest::Manifest& manifest) {
  TimerConfig c;
  const auto& tas = manifest.tas();
  c.rto.rexmit_intervals = tas.cc_rexmit_ints();
  c.rto.control_interval_rtts = tas.cc_control_interval();
  c.rto.rtt_init_us = tas.tcp_rtt_init();
  c.flow_table_path = runtime_dir_of(manifest) + "/flows";
  if (Status s = validate(c); !s) return s.error();
  return c;
}

}  // namespace vtas::timer
