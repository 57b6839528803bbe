#include "components/slowpath/syn_received_table.h"

namespace vtas::conn {

SynReceivedTable::Add SynReceivedTable::add(const HalfOpen& entry, uint32_t listener_limit) {
  if (entries_.size() >= total_limit_) return Add::kTableFull;
  size_t& count = per_listener_[entry.listener_id];
  if (count >= listener_limit) {
    if (count == 0) per_listener_.erase(entry.listener_id);
    return Add::kListenerFull;
  }
  if (!entries_.emplace(entry.syn.syn.tuple, entry).second) return Add::kAdded;  // already in
  ++count;
  return Add::kAdded;
}

HalfOpen* SynReceivedTable::find(const FourTuple& tuple) {
  auto it = entries_.find(tuple);
  return it == entries_.end() ? nullptr : &it->second;
}

bool SynReceivedTable::remove(const FourTuple& tuple) {
  auto it = entries_.find(tuple);
  if (it == entries_.end()) return false;
  auto count = per_listener_.find(it->second.listener_id);
  if (count != per_listener_.end() && --count->second == 0) per_listener_.erase(count);
  entries_.erase(it);
  return true;
}

std::vector<HalfOpen> SynReceivedTable::remove_listener(uint32_t listener_id) {
  std::vector<HalfOpen> removed;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.listener_id == listener_id) {
      removed.push_back(it->second);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  per_listener_.erase(listener_id);
  return removed;
}

void SynReceivedTable::for_each(const std::function<void(const HalfOpen&)>& fn) const {
  for (const auto& [tuple, entry] : entries_) fn(entry);
}

size_t SynReceivedTable::count_of(uint32_t listener_id) const {
  auto it = per_listener_.find(listener_id);
  return it == per_listener_.end() ? 0 : it->second;
}

}  // namespace vtas::conn
