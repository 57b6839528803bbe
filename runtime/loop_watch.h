// LoopWatch: notices the two ways an actor's event loop stops serving while it looks alive,
// and says which part of the loop did it:
//  - a handler (a socket's or fd's callback, the due timers) that runs for a long time;
//  - spinning: waits that keep returning at once because something stays ready (an fd that
//    stays readable with nothing consuming it) -- the loop then burns a core and, with one
//    handler starving the rest, can look exactly like a stall.
// Reports are warnings, rate-limited; the loop's behaviour does not change.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "runtime/log.h"

namespace vtas {

class LoopWatch {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kSlowHandler{250};
  // Waits that returned something ready, per second, beyond which the loop counts as
  // spinning. A busy control loop does a few thousand.
  static constexpr uint64_t kSpinningWakeups = 50000;
  static constexpr std::chrono::seconds kSpinReportEvery{10};

  explicit LoopWatch(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

  // After a handler that began at `began`; `describe()` names it (called only to report).
  // Templates, so the loop's common path builds nothing.
  template <typename Describe>
  void after_handler(Clock::time_point began, Clock::time_point ended, Describe&& describe) {
    if (ended - began >= kSlowHandler) report_slow_handler(began, ended, describe());
  }
  // After each wait; `ready` is how many items it returned. `describe_ready()` names them
  // (called only to report).
  template <typename Describe>
  void after_wait(Clock::time_point now, int ready, Describe&& describe_ready) {
    if (now - window_start_ >= std::chrono::seconds(1)) {
      if (wakeups_in_window_ >= kSpinningWakeups) {
        ++spinning_seconds_;
        if (now - last_spin_report_ >= kSpinReportEvery) report_spinning(now, describe_ready());
      }
      window_start_ = now;
      wakeups_in_window_ = 0;
    }
    if (ready > 0) ++wakeups_in_window_;
  }

  uint64_t slow_handlers() const { return slow_handlers_; }
  uint64_t spinning_seconds() const { return spinning_seconds_; }

 private:
  void report_slow_handler(Clock::time_point began, Clock::time_point ended, const std::string& what);
  void report_spinning(Clock::time_point now, const std::string& ready);

  std::shared_ptr<spdlog::logger> logger_;
  log::RateLimit slow_log_{5, 10'000'000'000ull};
  Clock::time_point window_start_{};
  uint64_t wakeups_in_window_ = 0;
  Clock::time_point last_spin_report_{};
  uint64_t slow_handlers_ = 0;
  uint64_t spinning_seconds_ = 0;
};

}  // namespace vtas
