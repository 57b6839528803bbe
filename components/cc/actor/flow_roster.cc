#include "components/cc/actor/flow_roster.h"

namespace vtas::cc {

FlowRoster::FlowRoster(uint32_t slots) : flows_(slots), position_(slots, 0) {}

void FlowRoster::track(uint32_t id, uint64_t key, uint64_t due_us, bool resumed) {
  if (id >= flows_.size()) return;
  TrackedFlow& f = flows_[id];
  const uint32_t epoch = f.epoch;
  if (!f.tracked) {
    position_[id] = static_cast<uint32_t>(ids_.size());
    ids_.push_back(id);
  }
  f = TrackedFlow{};
  f.epoch = epoch;
  f.key = key;
  f.tracked = true;
  f.resumed = resumed;
  schedule(id, due_us);
}

void FlowRoster::untrack(uint32_t id) {
  if (id >= flows_.size() || !flows_[id].tracked) return;
  const uint32_t at = position_[id];
  const uint32_t last = ids_.back();
  ids_[at] = last;
  position_[last] = at;
  ids_.pop_back();
  TrackedFlow& f = flows_[id];
  f.tracked = false;
  f.scheduled = false;
  ++f.epoch;  // its heap entry, if any, is stale now
}

void FlowRoster::schedule(uint32_t id, uint64_t due_us) {
  if (id >= flows_.size() || !flows_[id].tracked) return;
  TrackedFlow& f = flows_[id];
  ++f.epoch;
  f.due_us = due_us;
  f.scheduled = true;
  heap_.push(Entry{due_us, id, f.epoch});
}

TrackedFlow* FlowRoster::find(uint32_t id) {
  return id < flows_.size() && flows_[id].tracked ? &flows_[id] : nullptr;
}

const TrackedFlow* FlowRoster::find(uint32_t id) const {
  return id < flows_.size() && flows_[id].tracked ? &flows_[id] : nullptr;
}

bool FlowRoster::live(const Entry& e) const {
  const TrackedFlow& f = flows_[e.id];
  return f.tracked && f.scheduled && f.epoch == e.epoch;
}

std::optional<uint32_t> FlowRoster::pop_due(uint64_t now_us) {
  while (!heap_.empty()) {
    const Entry top = heap_.top();
    if (!live(top)) {
      heap_.pop();
      continue;
    }
    if (top.due_us > now_us) return std::nullopt;
    heap_.pop();
    TrackedFlow& f = flows_[top.id];
    f.scheduled = false;
    ++f.epoch;
    return top.id;
  }
  return std::nullopt;
}

std::optional<uint64_t> FlowRoster::next_due_us() {
  while (!heap_.empty() && !live(heap_.top())) heap_.pop();
  if (heap_.empty()) return std::nullopt;
  return heap_.top().due_us;
}

}  // namespace vtas::cc
