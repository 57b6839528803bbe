#include "components/cc/actor/slot_sweep.h"

#include <algorithm>

namespace vtas::cc {

SlotSweep::SlotSweep(uint32_t slots, Settings settings) : slots_(slots), settings_(settings) {
  if (settings_.chunk == 0) settings_.chunk = 1;
}

uint32_t SlotSweep::hot_limit() const {
  const uint64_t limit =
      (seen_any_ ? uint64_t{highest_seen_} + 1 : 1) + uint64_t{settings_.headroom};
  return static_cast<uint32_t>(std::min<uint64_t>(limit, slots_));
}

void SlotSweep::start_cycle(uint64_t now_us, bool full) {
  in_cycle_ = true;
  full_ = full;
  // Slot 0 is never a flow (ids start at 1), but looking at it costs nothing and keeps the
  // sweep independent of that convention.
  cursor_ = 0;
  cycle_end_ = full ? slots_ : hot_limit();
  if (full) {
    last_full_start_us_ = now_us;
    moved_since_full_ = false;
  }
}

SlotSweep::Range SlotSweep::next(uint64_t now_us, uint64_t exceptions) {
  if (!have_exceptions_ || exceptions != last_exceptions_) {
    if (have_exceptions_) {
      hot_until_us_ = now_us + settings_.hot_us;
      moved_since_full_ = true;
    }
    have_exceptions_ = true;
    last_exceptions_ = exceptions;
  }
  if (!in_cycle_) {
    if (!initial_done_) {
      start_cycle(now_us, true);
    } else if (moved_since_full_ && now_us - last_full_start_us_ >= settings_.full_period_us) {
      start_cycle(now_us, true);
    } else if (now_us < hot_until_us_) {
      start_cycle(now_us, false);
    } else {
      return Range{};
    }
  }
  Range r;
  r.begin = cursor_;
  r.end =
      static_cast<uint32_t>(std::min<uint64_t>(cycle_end_, uint64_t{cursor_} + settings_.chunk));
  r.initial = full_ && !initial_done_;
  cursor_ = r.end;
  slots_swept_ += r.end - r.begin;
  if (cursor_ >= cycle_end_) {
    in_cycle_ = false;
    ++cycles_;
    if (full_) {
      ++full_cycles_;
      initial_done_ = true;
    }
  }
  return r;
}

void SlotSweep::saw_flow(uint32_t id) {
  if (!seen_any_ || id > highest_seen_) highest_seen_ = id;
  seen_any_ = true;
}

}  // namespace vtas::cc
