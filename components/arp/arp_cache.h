// ArpCache: IPv4 -> MAC bindings of our neighbours, with Linux-like states and a bounded size.
// Only the arp actor uses it; it reads no clock (every call takes `now`).
//
// States (a subset of Linux's neighbour states, RFC 4861 style):
//   incomplete  a resolution is running, no MAC yet (never answered from, never evicted; the
//               actor bounds how many there are);
//   reachable   confirmed by an ARP reply addressed to us within reachable_time (30 s, Linux's
//               base_reachable_time; Linux randomises it 0.5-1.5x, we do not, for determinism);
//   stale       learned without confirmation (a request addressed to us, any ARP from a known
//               sender), or reachable_time passed. Still used, but the caller re-confirms it
//               with a unicast request (once per stale period).
// An entry expires stale_time (60 s, Linux's gc_stale_time) after it turned stale without new
// evidence, and is then gone (TAS kept entries forever: a replaced host stayed unreachable).
//
// Learning follows RFC 826's merge: an ARP packet updates the sender's entry if there is one
// (learn(..., create = false)); only packets addressed to us create entries (the actor: only
// requests, as Linux does without arp_accept).
// When the cache is full, a new entry evicts the least recently used one (lookups and
// updates count as use); incomplete entries are not in that order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "components/wire/address.h"
#include "runtime/clock.h"

namespace vtas::arp {

enum class ArpState : uint8_t { kIncomplete, kReachable, kStale };
const char* state_name(ArpState state);

struct ArpCacheLimits {
  Nanos reachable_time = std::chrono::seconds(30);
  Nanos stale_time = std::chrono::seconds(60);
  size_t capacity = 1024;  // Linux gc_thresh3
};

class ArpCache {
 public:
  explicit ArpCache(ArpCacheLimits limits = {}) : limits_(limits) {}

  struct Hit {
    wire::MacAddr mac;
    ArpState state;      // kReachable or kStale
    bool needs_refresh;  // stale and not re-confirmed yet: send a unicast request
  };
  // A usable binding for `ip` at `now` (reachable or stale), counted as a use. Expired entries
  // are dropped here; incomplete ones give nullopt.
  std::optional<Hit> lookup(uint32_t ip, TimePoint now);
  // The caller sent the re-confirmation request for a stale entry.
  void refresh_sent(uint32_t ip);

  enum class Evidence : uint8_t {
    kReplyToUs,  // an ARP reply addressed to us: reachable
    kOther,      // a request addressed to us, or any ARP from a known sender: stale
  };
  struct Learned {
    bool stored = false;       // the binding is in the cache now
    bool completed = false;    // it was incomplete (a resolution waits for it)
    bool mac_changed = false;  // it had another MAC before
    bool evicted = false;      // another entry was evicted to make room
  };
  // Records that `ip` is at `mac`. With create = false only an existing entry (incomplete
  // included) is updated (RFC 826 merge).
  Learned learn(uint32_t ip, wire::MacAddr mac, Evidence evidence, bool create, TimePoint now);

  // A resolution starts: an incomplete entry unless a usable one exists. False when the cache
  // is full of incomplete entries (the caller bounds them below the capacity).
  bool mark_incomplete(uint32_t ip, TimePoint now);
  // Drops the entry (e.g. a resolution failed).
  void erase(uint32_t ip);
  // Drops everything expired at `now`; returns how many.
  size_t expire(TimePoint now);

  size_t size() const { return entries_.size(); }
  size_t capacity() const { return limits_.capacity; }
  size_t count(ArpState state, TimePoint now) const;
  uint64_t evictions() const { return evictions_; }
  uint64_t expirations() const { return expirations_; }

  struct Row {
    uint32_t ip;
    wire::MacAddr mac;
    ArpState state;
    Nanos expires_in;  // until removal (incomplete: 0)
  };
  // Up to `max_rows` entries, ordered by address (stats).
  std::vector<Row> rows(TimePoint now, size_t max_rows) const;

 private:
  struct Entry {
    wire::MacAddr mac;
    bool incomplete = true;
    bool refresh_sent = false;
    TimePoint reachable_until{};        // reachable before, stale after
    TimePoint expires_at{};             // gone at
    std::list<uint32_t>::iterator lru;  // valid when !incomplete
  };

  ArpState state_of(const Entry& e, TimePoint now) const;
  void touch(Entry& e, uint32_t ip);
  bool make_room(TimePoint now);
  void remove(std::unordered_map<uint32_t, Entry>::iterator it);

  ArpCacheLimits limits_;
  std::unordered_map<uint32_t, Entry> entries_;
  std::list<uint32_t> lru_;  // least recently used first; complete entries only
  uint64_t evictions_ = 0;
  uint64_t expirations_ = 0;
};

}  // namespace vtas::arp
