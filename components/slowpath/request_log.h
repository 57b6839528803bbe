// RequestLog: the app requests conn has seen lately, keyed by (app, context, request id), so
// a request the fast path relays again after a conn restart is recognised: not executed a
// second time, and its answer (if it had one conn sent itself) sent again. Bounded FIFO:
// when full the oldest entry goes (a retry comes within seconds, not after thousands of
// newer requests). Request id 0 is "no id": such requests are never deduplicated.
// Pure data structure; the conn actor persists the records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

#include "components/slowpath/conn_registry.h"
#include "components/slowpath/registry_layout.h"

namespace vtas::conn {

struct RequestKey {
  uint32_t app_id = 0;
  uint32_t context_id = 0;
  uint32_t request_id = 0;
  friend constexpr bool operator==(const RequestKey&, const RequestKey&) = default;
};

struct RequestKeyHash {
  size_t operator()(const RequestKey& k) const {
    uint64_t h = (uint64_t{k.app_id} << 32 | k.context_id) * 0x9E3779B97F4A7C15ull;
    h ^= k.request_id + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

RequestKey key_of(const RequestLogRecord& record);

struct RequestLogEntry {
  RequestLogRecord record{};
  SlotId slot = kNoSlot;
};

class RequestLog {
 public:
  explicit RequestLog(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  bool full() const { return entries_.size() >= capacity_; }
  size_t size() const { return entries_.size(); }

  RequestLogEntry* find(const RequestKey& key);
  // Adds an entry (replacing one with the same key). Evict first when full().
  void add(const RequestLogRecord& record, SlotId slot);
  // Removes and returns the oldest entry (by record.order).
  std::optional<RequestLogEntry> evict_oldest();
  // Drops every entry of an app (it detached; its ids will be reused by its successor).
  std::deque<RequestLogEntry> remove_app(uint32_t app_id);

 private:
  size_t capacity_;
  std::unordered_map<RequestKey, RequestLogEntry, RequestKeyHash> entries_;
  std::deque<std::pair<uint64_t, RequestKey>> order_;  // (order, key), oldest first
};

}  // namespace vtas::conn
