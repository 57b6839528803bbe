// Time for actors and protocol logic. Everything that reasons about time takes a Clock so
// tests can drive it with FakeClock: no sleeps, no flakiness.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>

namespace vtas {

using Nanos = std::chrono::nanoseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Nanos>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// CLOCK_MONOTONIC, the clock the envelope timestamps use.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  static SteadyClock& instance() {
    static SteadyClock clock;
    return clock;
  }
};

// A clock that only moves when told to. Starts at an arbitrary non-zero point.
class FakeClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(Nanos d) { now_ += d; }
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_ = TimePoint(std::chrono::seconds(1000));
};

inline uint64_t to_ns(TimePoint t) {
  return static_cast<uint64_t>(t.time_since_epoch().count());
}

inline uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace vtas
