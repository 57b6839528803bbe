// Restart decisions of the supervisor, as pure logic over explicit time (tested with a fake
// clock). Erlang/OTP semantics:
//   - permanent children are always restarted, transient ones only after an abnormal exit,
//     temporary ones never;
//   - more than `max_restarts` restarts within `period` means something is badly wrong: the
//     supervisor gives up and shuts the instance down;
//   - consecutive restarts of one actor back off exponentially (initial, x multiplier, max),
//     reset once it has stayed up for `reset_after`.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "proto/manifest.pb.h"
#include "runtime/clock.h"

namespace vtas {

enum class ExitKind {
  kNormal,    // exited with status 0 after being asked to (or on its own, cleanly)
  kAbnormal,  // crashed, killed, non-zero status, failed to start, or hung
};

enum class AfterExit {
  kRestart,      // schedule a restart after the backoff delay
  kStayStopped,  // policy says no restart
};

AfterExit decide_after_exit(manifest::RestartPolicy policy, ExitKind kind);

// Instance-wide restart intensity (OTP's MaxR in MaxT).
class RestartIntensity {
 public:
  RestartIntensity(uint32_t max_restarts, Nanos period)
      : max_restarts_(max_restarts), period_(period) {}
  // Records a restart at `now`. False when this restart exceeds the allowed intensity.
  bool admit(TimePoint now);
  uint32_t recent() const { return static_cast<uint32_t>(restarts_.size()); }
  // "5 restarts within 10000 ms (limit 4)" for the shutdown message.
  std::string describe() const;

 private:
  uint32_t max_restarts_;
  Nanos period_;
  std::deque<TimePoint> restarts_;
};

// Per-actor exponential backoff.
class Backoff {
 public:
  explicit Backoff(const manifest::Backoff& config) : config_(config) {}
  // Delay before restarting an actor that started at `started` and exited at `exited`.
  Nanos next_delay(TimePoint started, TimePoint exited);
  uint32_t consecutive() const { return consecutive_; }

 private:
  manifest::Backoff config_;
  uint32_t consecutive_ = 0;
};

}  // namespace vtas
