#include "runtime/loop_watch.h"

namespace vtas {

void LoopWatch::report_slow_handler(Clock::time_point began, Clock::time_point ended,
                                    const std::string& what) {
  ++slow_handlers_;
  const uint64_t now_ns = static_cast<uint64_t>(ended.time_since_epoch().count());
  if (!slow_log_.allow(now_ns)) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ended - began).count();
  logger_->warn("event loop: {} took {} ms (nothing else in this actor ran meanwhile){}", what, ms,
                slow_log_.suppressed() ? " [" + std::to_string(slow_log_.suppressed()) + " more not shown]" : "");
}

void LoopWatch::report_spinning(Clock::time_point now, const std::string& ready) {
  last_spin_report_ = now;
  logger_->warn("event loop: spinning, {} wake-ups with something ready in the last second "
                "(ready now: {})", wakeups_in_window_, ready);
}

}  // namespace vtas
