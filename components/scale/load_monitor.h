// LoadMonitor: the decision half of the `scale` actor, as a pure function of the samples fed
// to it (no clock, no shared memory): TAS's flexnic_loadmon (tas/tas.c). Each sample is the
// wall time since the previous one and the busy time the fast-path cores spent in it; the
// monitor keeps 7/8 EWMAs of both and decides how many cores should serve:
//   idle = cores * ewma_elapsed - ewma_busy
//   down by one when cores > 1   and idle > 1.25 cores' worth of time,
//   up   by one when cores < max and idle < 0.2 of one core's worth,
// then holds (ignores) the next `hold_samples` samples (TAS: 10, ~100 ms) so the load of the
// new core count is measured before the next step. The gap between the two thresholds plus
// the hold is the hysteresis. Pinned (--fp-no-autoscale), it always answers max_cores.
// Called by ScaleActor on its thread; tests drive it directly.
#pragma once

#include <cstdint>
#include <optional>

#include "runtime/result.h"

namespace vtas::scale {

struct LoadMonitorSettings {
  uint32_t max_cores = 1;           // --fp-cores-max
  bool pinned = false;              // --fp-no-autoscale: always max_cores
  uint32_t hold_samples = 10;       // samples ignored after a decision and at start
  // Thresholds in units of one core's time (TAS: 5/4 and 1/5).
  double scale_down_idle_cores = 1.25;
  double scale_up_idle_cores = 0.2;
};

Status validate(const LoadMonitorSettings& settings);

class LoadMonitor {
 public:
  explicit LoadMonitor(LoadMonitorSettings settings);

  // One sample: `elapsed_ns` of wall time, `busy_ns` the busy time summed over all cores in
  // that time, `cores` the cores serving now. Returns the core count to switch to, or nullopt
  // to stay. A sample with no elapsed time is ignored.
  std::optional<uint32_t> observe(uint64_t elapsed_ns, uint64_t busy_ns, uint32_t cores);

  // Forget the averages and hold again (the fast path restarted, or someone else changed the
  // core count).
  void reset();

  // Smoothed load in cores (ewma_busy / ewma_elapsed), for stats and logs.
  double load_cores() const;
  uint32_t holding() const { return hold_left_; }
  const LoadMonitorSettings& settings() const { return settings_; }

 private:
  LoadMonitorSettings settings_;
  double ewma_busy_ = 0;
  double ewma_elapsed_ = 0;
  uint32_t hold_left_ = 0;
};

}  // namespace vtas::scale
