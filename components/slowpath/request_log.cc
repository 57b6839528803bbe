#include "components/slowpath/request_log.h"

#include <algorithm>

namespace vtas::conn {

RequestKey key_of(const RequestLogRecord& r) {
  return RequestKey{r.app_id, r.context_id, r.request_id};
}

RequestLogEntry* RequestLog::find(const RequestKey& key) {
  auto found = entries_.find(key);
  return found == entries_.end() ? nullptr : &found->second;
}

void RequestLog::add(const RequestLogRecord& record, SlotId slot) {
  const RequestKey key = key_of(record);
  entries_[key] = RequestLogEntry{record, slot};
  // Restored records arrive in slot order, not insertion order: keep order_ sorted.
  auto pos = std::upper_bound(order_.begin(), order_.end(), record.order,
                              [](uint64_t o, const auto& e) { return o < e.first; });
  order_.insert(pos, {record.order, key});
}

std::optional<RequestLogEntry> RequestLog::evict_oldest() {
  while (!order_.empty()) {
    auto [order, key] = order_.front();
    order_.pop_front();
    auto found = entries_.find(key);
    // A stale order entry (the key was re-added later, or removed): skip it.
    if (found == entries_.end() || found->second.record.order != order) continue;
    RequestLogEntry e = found->second;
    entries_.erase(found);
    return e;
  }
  return std::nullopt;
}

std::deque<RequestLogEntry> RequestLog::remove_app(uint32_t app_id) {
  std::deque<RequestLogEntry> out;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->first.app_id == app_id) {
      out.push_back(it->second);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  // order_ keeps stale pairs for them; evict_oldest() skips those.
  return out;
}

}  // namespace vtas::conn
