#include "components/slowpath/timer/explicit_timers.h"

#include <algorithm>

namespace vtas::timer {

uint32_t ExplicitTimers::allocate() {
  if (!free_.empty()) {
    uint32_t slot = free_.back();
    free_.pop_back();
    return slot;
  }
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

void ExplicitTimers::release(uint32_t slot) {
  Slot& s = slots_[slot];
  auto owner = by_owner_.find(s.owner);
  if (owner != by_owner_.end()) {
    owner->second.erase(s.key);
    if (owner->second.empty()) by_owner_.erase(owner);
  }
  --by_owner_size_;
  s = Slot{};
  free_.push_back(slot);
}

ExplicitTimers::ArmResult ExplicitTimers::arm(const std::string& owner, uint64_t key, uint32_t kind,
                                              uint64_t deadline) {
  auto owner_it = by_owner_.find(owner);
  if (owner_it != by_owner_.end()) {
    auto found = owner_it->second.find(key);
    if (found != owner_it->second.end()) {
      Slot& s = slots_[found->second];
      wheel_.cancel(s.handle);
      s.kind = kind;
      s.handle = wheel_.insert(deadline, found->second);
      return ArmResult::kReplaced;
    }
  }
  if (by_owner_size_ >= capacity_) return ArmResult::kFull;
  const uint32_t slot = allocate();
  Slot& s = slots_[slot];
  s.owner = owner;
  s.key = key;
  s.kind = kind;
  s.used = true;
  s.handle = wheel_.insert(deadline, slot);
  by_owner_[owner][key] = slot;
  ++by_owner_size_;
  return ArmResult::kArmed;
}

bool ExplicitTimers::cancel(const std::string& owner, uint64_t key) {
  auto owner_it = by_owner_.find(owner);
  if (owner_it == by_owner_.end()) return false;
  auto found = owner_it->second.find(key);
  if (found == owner_it->second.end()) return false;
  const uint32_t slot = found->second;
  wheel_.cancel(slots_[slot].handle);
  release(slot);
  return true;
}

std::optional<ExplicitTimers::Fired> ExplicitTimers::take(uint64_t cookie) {
  if (cookie >= slots_.size() || !slots_[cookie].used) return std::nullopt;
  const auto slot = static_cast<uint32_t>(cookie);
  Slot& s = slots_[slot];
  // A cookie whose timer was re-armed is still pending under its new handle: not fired.
  if (wheel_.pending(s.handle)) return std::nullopt;
  Fired fired{s.owner, s.key, s.kind};
  release(slot);
  return fired;
}

std::vector<std::pair<std::string, size_t>> ExplicitTimers::per_owner() const {
  std::vector<std::pair<std::string, size_t>> out;
  out.reserve(by_owner_.size());
  for (const auto& [owner, keys] : by_owner_) out.emplace_back(owner, keys.size());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace vtas::timer
