#include "runtime/supervisor/restart_policy.h"

#include <algorithm>
#include <cmath>

namespace vtas {

AfterExit decide_after_exit(manifest::RestartPolicy policy, ExitKind kind) {
  switch (policy) {
    case manifest::RESTART_POLICY_TEMPORARY:
      return AfterExit::kStayStopped;
    case manifest::RESTART_POLICY_TRANSIENT:
      return kind == ExitKind::kAbnormal ? AfterExit::kRestart : AfterExit::kStayStopped;
    case manifest::RESTART_POLICY_PERMANENT:
    default:
      return AfterExit::kRestart;
  }
}

bool RestartIntensity::admit(TimePoint now) {
  while (!restarts_.empty() && now - restarts_.front() >= period_) restarts_.pop_front();
  restarts_.push_back(now);
  return restarts_.size() <= max_restarts_;
}

std::string RestartIntensity::describe() const {
  return std::to_string(restarts_.size()) + " restarts within " +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(period_).count()) +
         " ms (limit " + std::to_string(max_restarts_) + ")";
}

Nanos Backoff::next_delay(TimePoint started, TimePoint exited) {
  if (exited - started >= std::chrono::milliseconds(config_.reset_after_ms())) consecutive_ = 0;
  double delay_ms = config_.initial_ms() * std::pow(config_.multiplier(), consecutive_);
  ++consecutive_;
  if (config_.initial_ms() == 0 && consecutive_ > 1) {
    // An immediate first restart still backs off when the actor keeps failing: grow from 1 ms.
    delay_ms = std::pow(config_.multiplier(), consecutive_ - 2);
  }
  delay_ms = std::min<double>(delay_ms, config_.max_ms());
  return std::chrono::duration_cast<Nanos>(std::chrono::duration<double, std::milli>(delay_ms));
}

}  // namespace vtas
