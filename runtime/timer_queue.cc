#include "runtime/timer_queue.h"

#include <utility>

namespace vtas {

TimerQueue::Id TimerQueue::schedule(TimePoint deadline, Callback fn, Nanos period) {
  Id id = next_id_++;
  auto it = by_deadline_.emplace(deadline, Entry{id, std::move(fn), period});
  index_.emplace(id, it);
  return id;
}

void TimerQueue::cancel(Id id) {
  auto found = index_.find(id);
  if (found == index_.end()) return;
  by_deadline_.erase(found->second);
  index_.erase(found);
}

std::optional<TimePoint> TimerQueue::next_deadline() const {
  if (by_deadline_.empty()) return std::nullopt;
  return by_deadline_.begin()->first;
}

size_t TimerQueue::run_due(TimePoint now) {
  size_t ran = 0;
  // Bounded by the entries due now: a periodic timer re-armed into the past (period 0 cannot
  // happen, see schedule) still lands after `now` because period > 0.
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
    auto it = by_deadline_.begin();
    TimePoint deadline = it->first;
    Entry entry = std::move(it->second);
    by_deadline_.erase(it);
    index_.erase(entry.id);
    if (entry.period.count() > 0) {
      // Re-arm before running so the callback may cancel its own timer by id.
      TimePoint next = deadline + entry.period;
      if (next <= now) next = now + entry.period;  // skip missed periods, no catch-up burst
      auto re = by_deadline_.emplace(next, Entry{entry.id, entry.fn, entry.period});
      index_.emplace(entry.id, re);
    }
    entry.fn();
    ++ran;
  }
  return ran;
}

}  // namespace vtas
