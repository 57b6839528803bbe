// SlotSweep: which flow-table slots the cc actor looks at to find flows it does not control
// yet. Pure: the actor feeds it the time and the fast path's count of frames handed to the
// slow path, and scans the slot range it gets back.
//
// Why this shape: a flow is only ever installed after a handshake frame went to the slow
// path, so the cores' `exceptions` counters (CoreCounters) tell when new flows may have
// appeared. While they move (and for `hot_us` after), the sweep runs "hot" cycles over the
// slots in use -- the fast path hands out the lowest free ids first, so those are the slots
// up to the highest one seen plus `headroom` -- one cycle per tick. A full cycle over every
// slot runs after attaching (to resume the flows a previous incarnation controlled) and then
// at most once per `full_period_us` while exceptions keep moving, as a safety net. An idle
// instance costs one look at a few counters per tick.
#pragma once

#include <cstdint>

namespace vtas::cc {

class SlotSweep {
 public:
  struct Settings {
    uint32_t chunk = 16384;    // slots per tick at most
    uint32_t headroom = 1024;  // hot cycles look this far beyond the highest flow seen
    uint64_t hot_us = 200000;  // hot cycles continue this long after exceptions moved
    uint64_t full_period_us = 1000000;
  };

  struct Range {
    uint32_t begin = 0;
    uint32_t end = 0;      // exclusive; begin == end: nothing to look at now
    bool initial = false;  // part of the first full cycle after attaching
    bool empty() const { return begin >= end; }
  };

  SlotSweep(uint32_t slots, Settings settings);

  // What to look at now. `exceptions` is the sum of the cores' exception counters.
  Range next(uint64_t now_us, uint64_t exceptions);
  // The caller found an active flow in slot `id` (raises the hot range).
  void saw_flow(uint32_t id);

  // Whether the next tick should come soon: a cycle is under way or the sweep is hot.
  bool busy(uint64_t now_us) const { return in_cycle_ || now_us < hot_until_us_; }
  bool initial_cycle_done() const { return initial_done_; }
  uint64_t cycles() const { return cycles_; }
  uint64_t full_cycles() const { return full_cycles_; }
  uint64_t slots_swept() const { return slots_swept_; }
  // The end of a hot cycle's range now.
  uint32_t hot_limit() const;

 private:
  void start_cycle(uint64_t now_us, bool full);

  uint32_t slots_;
  Settings settings_;
  bool in_cycle_ = false;
  bool full_ = false;
  bool initial_done_ = false;
  uint32_t cursor_ = 0;
  uint32_t cycle_end_ = 0;
  // Highest active slot ever seen since attaching. It never decays: a freed id is handed
  // out again first (the fast path's free list is a stack), so new flows land at or below it.
  uint32_t highest_seen_ = 0;
  bool seen_any_ = false;
  bool have_exceptions_ = false;
  uint64_t last_exceptions_ = 0;
  uint64_t hot_until_us_ = 0;
  bool moved_since_full_ = false;  // exceptions moved since the last full cycle began
  uint64_t last_full_start_us_ = 0;
  uint64_t cycles_ = 0;
  uint64_t full_cycles_ = 0;
  uint64_t slots_swept_ = 0;
};

}  // namespace vtas::cc
