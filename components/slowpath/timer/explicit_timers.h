// ExplicitTimers: the one-shot timers other actors arm with ArmTimer (conn's handshake retries,
// anything else with a deadline), keyed by (owner, key), their deadlines kept in the timer
// actor's TimerWheel. Only the timer actor calls it.
//
// Re-arming an existing (owner, key) replaces its deadline and kind. The number of timers is
// bounded: past `capacity` an ArmTimer is refused (the owner gets no TimerFired for it; conn
// runs a fallback deadline of its own). Memory is per timer, nothing per owner beyond a map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "components/slowpath/timer/timer_wheel.h"

namespace vtas::timer {

class ExplicitTimers {
 public:
  // Wheel cookies of explicit timers are their slot numbers, below this bit; the actor gives
  // the upper half of the cookie space to flows.
  static constexpr uint64_t kCookieLimit = uint64_t{1} << 62;

  ExplicitTimers(TimerWheel& wheel, size_t capacity) : wheel_(wheel), capacity_(capacity) {}

  enum class ArmResult { kArmed, kReplaced, kFull };
  ArmResult arm(const std::string& owner, uint64_t key, uint32_t kind, uint64_t deadline);
  // False when (owner, key) has no pending timer.
  bool cancel(const std::string& owner, uint64_t key);

  struct Fired {
    std::string owner;
    uint64_t key = 0;
    uint32_t kind = 0;
  };
  // The timer behind a wheel cookie that expired; it is forgotten. nullopt for a cookie that
  // is not (or no longer) one of ours.
  std::optional<Fired> take(uint64_t cookie);

  size_t size() const { return by_owner_size_; }
  size_t capacity() const { return capacity_; }
  // Pending timers per owner (stats).
  std::vector<std::pair<std::string, size_t>> per_owner() const;

 private:
  struct Slot {
    std::string owner;
    uint64_t key = 0;
    uint32_t kind = 0;
    TimerWheel::Handle handle;
    bool used = false;
  };

  uint32_t allocate();
  void release(uint32_t slot);

  TimerWheel& wheel_;
  size_t capacity_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  // owner -> key -> slot
  std::unordered_map<std::string, std::unordered_map<uint64_t, uint32_t>> by_owner_;
  size_t by_owner_size_ = 0;
};

}  // namespace vtas::timer
