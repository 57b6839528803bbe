// Deadline timers for an actor loop: schedule, cancel, run what is due, and tell the loop
// how long it may sleep. Driven by any Clock, so tests run timers with a FakeClock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>

#include "runtime/clock.h"

namespace vtas {

class TimerQueue {
 public:
  using Id = uint64_t;
  using Callback = std::function<void()>;

  // Runs `fn` once at `deadline`, or every `period` from then on when period > 0.
  Id schedule(TimePoint deadline, Callback fn, Nanos period = Nanos(0));
  // Cancelling an unknown or already-fired one-shot timer is a no-op.
  void cancel(Id id);
  bool pending(Id id) const { return index_.count(id) != 0; }

  std::optional<TimePoint> next_deadline() const;
  // Runs every timer due at `now` (callbacks may schedule or cancel timers). Returns how many ran.
  size_t run_due(TimePoint now);
  size_t size() const { return index_.size(); }

 private:
  struct Entry {
    Id id;
    Callback fn;
    Nanos period;
  };
  using Map = std::multimap<TimePoint, Entry>;
  Map by_deadline_;
  std::unordered_map<Id, Map::iterator> index_;
  Id next_id_ = 1;
};

}  // namespace vtas
