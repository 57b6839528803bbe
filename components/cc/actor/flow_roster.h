// FlowRoster: the flows the cc actor controls, by flow-table slot, and when each one's next
// control step (or idle check) is due. A min-heap of due times makes a control round cost
// O(flows due * log n), not a walk over every slot; entries made stale by untrack() or a
// re-track are skipped when they reach the top.
//
// Pure bookkeeping (no shared memory, no clock): used by the cc actor and its tests.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

namespace vtas::cc {

struct TrackedFlow {
  uint64_t key = 0;     // flow_identity() of the flow the slot held when tracked
  uint64_t due_us = 0;  // valid while scheduled
  uint32_t epoch = 0;   // bumped by every (re)schedule: tells stale heap entries
  bool tracked = false;
  bool scheduled = false;   // has a live heap entry
  bool resumed = false;     // taken over from a previous incarnation's record
  uint8_t idle_checks = 0;  // consecutive checks without counter progress (backoff exponent)
  uint64_t steps = 0;
  uint64_t rates_written = 0;
};

class FlowRoster {
 public:
  explicit FlowRoster(uint32_t slots);

  uint32_t slots() const { return static_cast<uint32_t>(flows_.size()); }
  uint32_t size() const { return static_cast<uint32_t>(ids_.size()); }

  // Starts tracking slot `id` for the flow `key`, due at `due_us` (replaces whatever the slot
  // tracked before; the statistics start from zero).
  void track(uint32_t id, uint64_t key, uint64_t due_us, bool resumed);
  void untrack(uint32_t id);
  // (Re)schedules a tracked flow.
  void schedule(uint32_t id, uint64_t due_us);

  // The tracked flow in `id`, or nullptr.
  TrackedFlow* find(uint32_t id);
  const TrackedFlow* find(uint32_t id) const;

  // A flow due at `now_us` (earliest first), unscheduled; nullopt when none is due.
  std::optional<uint32_t> pop_due(uint64_t now_us);
  // The earliest due time of a scheduled flow; nullopt when none is scheduled.
  std::optional<uint64_t> next_due_us();

  // The tracked slots, in no particular order (stable while nothing is tracked or untracked).
  const std::vector<uint32_t>& ids() const { return ids_; }
  // Heap entries including stale ones (for tests and stats).
  size_t heap_entries() const { return heap_.size(); }

 private:
  struct Entry {
    uint64_t due_us;
    uint32_t id;
    uint32_t epoch;
    bool operator>(const Entry& o) const { return due_us > o.due_us; }
  };
  bool live(const Entry& e) const;

  std::vector<TrackedFlow> flows_;
  std::vector<uint32_t> ids_;       // dense list of tracked slots
  std::vector<uint32_t> position_;  // slot -> index in ids_
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
};

}  // namespace vtas::cc
