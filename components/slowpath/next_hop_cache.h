// NextHopCache: MAC addresses arp resolved for conn's active opens, kept briefly (a burst of
// connections to one peer costs one ResolveRequest, and arp stays the authority: entries age
// out within seconds), plus the opens waiting on a resolution in flight, so concurrent opens
// to one address share one request. Bounded; pure; owned by the conn actor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "components/wire/address.h"
#include "runtime/clock.h"

namespace vtas::conn {

class NextHopCache {
 public:
  NextHopCache(Nanos ttl, size_t max_entries) : ttl_(ttl), max_entries_(max_entries) {}

  std::optional<wire::MacAddr> lookup(uint32_t ip, TimePoint now) const;
  void store(uint32_t ip, const wire::MacAddr& mac, TimePoint now);
  void forget(uint32_t ip) { entries_.erase(ip); }

  // Registers `conn_id` as waiting for `ip`. True if it is the first waiter (the caller then
  // sends the ResolveRequest).
  bool add_waiter(uint32_t ip, uint32_t conn_id);
  // The waiters of `ip`, removed.
  std::vector<uint32_t> take_waiters(uint32_t ip);
  size_t size() const { return entries_.size(); }
  size_t resolutions_pending() const { return waiters_.size(); }

 private:
  struct Entry {
    wire::MacAddr mac;
    TimePoint expires;
  };
  Nanos ttl_;
  size_t max_entries_;
  std::unordered_map<uint32_t, Entry> entries_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> waiters_;
};

}  // namespace vtas::conn
