#include "components/scale/load_monitor.h"

#include <algorithm>
#include <string>

namespace vtas::scale {

Status validate(const LoadMonitorSettings& s) {
  if (s.max_cores < 1 || s.max_cores > 16) {
    return make_error("scale: max cores " + std::to_string(s.max_cores) +
                      " is out of range 1..16 (--fp-cores-max)");
  }
  // Hysteresis needs the down threshold (idle > x cores with n cores, i.e. load < n - x) to sit
  // below the load that makes n - 1 cores scale up again (load > n - 1 - up).
  if (!(s.scale_up_idle_cores >= 0 && s.scale_up_idle_cores < 1 &&
        s.scale_down_idle_cores > 1 + s.scale_up_idle_cores)) {
    return make_error("scale: thresholds up " + std::to_string(s.scale_up_idle_cores) + ", down " +
                      std::to_string(s.scale_down_idle_cores) +
                      " idle cores leave no hysteresis: need 0 <= up < 1 and down > 1 + up");
  }
  return Status();
}

LoadMonitor::LoadMonitor(LoadMonitorSettings settings) : settings_(settings) { reset(); }

void LoadMonitor::reset() {
  ewma_busy_ = 0;
  ewma_elapsed_ = 0;
  hold_left_ = settings_.hold_samples;
}

double LoadMonitor::load_cores() const {
  return ewma_elapsed_ > 0 ? ewma_busy_ / ewma_elapsed_ : 0.0;
}

std::optional<uint32_t> LoadMonitor::observe(uint64_t elapsed_ns, uint64_t busy_ns, uint32_t cores) {
  if (settings_.pinned) {
    return cores == settings_.max_cores ? std::nullopt : std::optional<uint32_t>(settings_.max_cores);
  }
  if (elapsed_ns == 0) return std::nullopt;
  cores = std::max<uint32_t>(cores, 1);
  // Busy time can exceed cores * elapsed by a little (counters are updated per loop
  // iteration, which straddle sample boundaries); cap it so one sample cannot swing the EWMA.
  busy_ns = std::min<uint64_t>(busy_ns, uint64_t{cores} * elapsed_ns);
  // Both averages start at 0 with the same weights, so their ratio is a proper average.
  ewma_busy_ = (7 * ewma_busy_ + static_cast<double>(busy_ns)) / 8;
  ewma_elapsed_ = (7 * ewma_elapsed_ + static_cast<double>(elapsed_ns)) / 8;
  if (hold_left_ > 0) {
    --hold_left_;
    return std::nullopt;
  }
  double idle = cores * ewma_elapsed_ - ewma_busy_;
  std::optional<uint32_t> decision;
  if (cores > settings_.max_cores) {
    decision = settings_.max_cores;
  } else if (cores > 1 && idle > settings_.scale_down_idle_cores * ewma_elapsed_) {
    decision = cores - 1;
  } else if (cores < settings_.max_cores && idle < settings_.scale_up_idle_cores * ewma_elapsed_) {
    decision = cores + 1;
  }
  if (decision) hold_left_ = settings_.hold_samples;
  return decision;
}

}  // namespace vtas::scale
