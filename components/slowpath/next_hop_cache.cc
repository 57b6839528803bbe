#include "components/slowpath/next_hop_cache.h"

namespace vtas::conn {

std::optional<wire::MacAddr> NextHopCache::lookup(uint32_t ip, TimePoint now) const {
  auto found = entries_.find(ip);
  if (found == entries_.end() || found->second.expires <= now) return std::nullopt;
  return found->second.mac;
}

void NextHopCache::store(uint32_t ip, const wire::MacAddr& mac, TimePoint now) {
  if (entries_.size() >= max_entries_ && entries_.count(ip) == 0) {
    // Full: drop the expired ones, and if none expired, everything (a cache, not a table).
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = it->second.expires <= now ? entries_.erase(it) : std::next(it);
    }
    if (entries_.size() >= max_entries_) entries_.clear();
  }
  entries_[ip] = Entry{mac, now + ttl_};
}

bool NextHopCache::add_waiter(uint32_t ip, uint32_t conn_id) {
  auto& list = waiters_[ip];
  list.push_back(conn_id);
  return list.size() == 1;
}

std::vector<uint32_t> NextHopCache::take_waiters(uint32_t ip) {
  auto found = waiters_.find(ip);
  if (found == waiters_.end()) return {};
  std::vector<uint32_t> out = std::move(found->second);
  waiters_.erase(found);
  return out;
}

}  // namespace vtas::conn
