#include "components/arp/arp_cache.h"

#include <algorithm>

namespace vtas::arp {

const char* state_name(ArpState state) {
  switch (state) {
    case ArpState::kIncomplete:
      return "incomplete";
    case ArpState::kReachable:
      return "reachable";
    case ArpState::kStale:
      return "stale";
  }
  return "unknown";
}

ArpState ArpCache::state_of(const Entry& e, TimePoint now) const {
  if (e.incomplete) return ArpState::kIncomplete;
  return now < e.reachable_until ? ArpState::kReachable : ArpState::kStale;
}

void ArpCache::touch(Entry& e, uint32_t ip) {
  lru_.erase(e.lru);
  e.lru = lru_.insert(lru_.end(), ip);
}

void ArpCache::remove(std::unordered_map<uint32_t, Entry>::iterator it) {
  if (!it->second.incomplete) lru_.erase(it->second.lru);
  entries_.erase(it);
}

bool ArpCache::make_room(TimePoint /*now*/) {
  if (entries_.size() < limits_.capacity) return true;
  // Least recently used first. Expired entries go in the periodic expire(); evicting without
  // a scan keeps a flood of new senders O(1) per packet.
  if (lru_.empty()) return false;
  auto victim = entries_.find(lru_.front());
  remove(victim);
  ++evictions_;
  return true;
}

std::optional<ArpCache::Hit> ArpCache::lookup(uint32_t ip, TimePoint now) {
  auto it = entries_.find(ip);
  if (it == entries_.end() || it->second.incomplete) return std::nullopt;
  Entry& e = it->second;
  if (now >= e.expires_at) {
    remove(it);
    ++expirations_;
    return std::nullopt;
  }
  touch(e, ip);
  const ArpState state = state_of(e, now);
  return Hit{e.mac, state, state == ArpState::kStale && !e.refresh_sent};
}

void ArpCache::refresh_sent(uint32_t ip) {
  auto it = entries_.find(ip);
  if (it != entries_.end()) it->second.refresh_sent = true;
}

ArpCache::Learned ArpCache::learn(uint32_t ip, wire::MacAddr mac, Evidence evidence, bool create,
                                  TimePoint now) {
  Learned out;
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    const uint64_t evictions_before = evictions_;
    if (!create || !make_room(now)) return out;
    out.evicted = evictions_ != evictions_before;
    it = entries_.emplace(ip, Entry{}).first;
  }
  Entry& e = it->second;
  const bool was_incomplete = e.incomplete;
  const bool expired = !was_incomplete && now >= e.expires_at;
  out.mac_changed = !was_incomplete && !expired && e.mac != mac;
  if (evidence == Evidence::kReplyToUs) {
    e.mac = mac;
    e.reachable_until = now + limits_.reachable_time;
    e.expires_at = e.reachable_until + limits_.stale_time;
    e.refresh_sent = false;
  } else if (was_incomplete || expired || out.mac_changed) {
    e.mac = mac;
    e.reachable_until = now;  // stale at once: nobody confirmed we can reach it
    e.expires_at = now + limits_.stale_time;
    e.refresh_sent = false;
  } else {
    // Same binding seen again: it lives on, in whatever state it was.
    e.expires_at = std::max(e.expires_at, now + limits_.stale_time);
  }
  if (was_incomplete) {
    e.incomplete = false;
    e.lru = lru_.insert(lru_.end(), ip);
  } else {
    touch(e, ip);
  }
  out.stored = true;
  out.completed = was_incomplete;
  return out;
}

bool ArpCache::mark_incomplete(uint32_t ip, TimePoint now) {
  auto it = entries_.find(ip);
  if (it != entries_.end()) {
    if (it->second.incomplete || now < it->second.expires_at) return true;
    remove(it);  // expired: start over
    ++expirations_;
  }
  if (!make_room(now)) return false;
  entries_.emplace(ip, Entry{});
  return true;
}

void ArpCache::erase(uint32_t ip) {
  auto it = entries_.find(ip);
  if (it != entries_.end()) remove(it);
}

size_t ArpCache::expire(TimePoint now) {
  size_t n = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.incomplete && now >= it->second.expires_at) {
      auto gone = it++;
      remove(gone);
      ++n;
    } else {
      ++it;
    }
  }
  expirations_ += n;
  return n;
}

size_t ArpCache::count(ArpState state, TimePoint now) const {
  size_t n = 0;
  for (const auto& [ip, e] : entries_) {
    if ((e.incomplete || now < e.expires_at) && state_of(e, now) == state) ++n;
  }
  return n;
}

std::vector<ArpCache::Row> ArpCache::rows(TimePoint now, size_t max_rows) const {
  std::vector<Row> out;
  out.reserve(entries_.size());
  for (const auto& [ip, e] : entries_) {
    if (!e.incomplete && now >= e.expires_at) continue;
    Nanos left = e.incomplete ? Nanos(0) : e.expires_at - now;
    out.push_back(Row{ip, e.mac, state_of(e, now), left});
  }
  std::sort(out.begin(), out.end(), [](const Row& a, const Row& b) { return a.ip < b.ip; });
  if (out.size() > max_rows) out.resize(max_rows);
  return out;
}

}  // namespace vtas::arp
