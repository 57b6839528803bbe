#include "runtime/loop_watch.h"

namespace vtas {

void LoopWatch::after_handler(Clock::time_point began, Clock::time_point ended,
                              const std::function<std::string()>& describe) {
  if (ended - began < kSlowHandler) return;
  ++slow_handlers_;
  const uint64_t now_ns = static_cast<uint64_t>(ended.time_since_epoch().count());
  if (!slow_log_.allow(now_ns)) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ended - began).count();
  logger_->warn("event loop: {} took {} ms (nothing else in this actor ran meanwhile){}", describe(), ms,
                slow_log_.suppressed() ? " [" + std::to_string(slow_log_.suppressed()) + " more not shown]" : "");
}

void LoopWatch::after_wait(Clock::time_point now, int ready,
                           const std::function<std::string()>& describe_ready) {
  if (now - window_start_ >= std::chrono::seconds(1)) {
    if (wakeups_in_window_ >= kSpinningWakeups) {
      ++spinning_seconds_;
      if (now - last_spin_report_ >= std::chrono::seconds(10)) {
        last_spin_report_ = now;
        logger_->warn("event loop: spinning, {} wake-ups with something ready in the last second "
                      "(ready now: {})", wakeups_in_window_, describe_ready());
      }
    }
    window_start_ = now;
    wakeups_in_window_ = 0;
  }
  if (ready > 0) ++wakeups_in_window_;
}

}  // namespace vtas
