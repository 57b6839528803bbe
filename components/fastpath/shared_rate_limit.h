// SharedRateLimit: one transmit rate for a group of flows (all the flows of one VM's apps,
// proxy_host max_rate_kbps), enforced by every fast-path core that sends for the group.
//
// It is a virtual clock, not a bucket of tokens: `due_ns` is when the group may send again.
// Each segment sent moves it on by the segment's time at the rate; a core may send while the
// clock is not ahead of now, so the group never gets more than its rate beyond a short burst
// (kBurstNs of sending at the rate, after a pause). Cores share it through one atomic, so the
// per-segment cost is a load and a compare-exchange, no lock and no allocation.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace vtas::fastpath {

class SharedRateLimit {
 public:
  // How far behind now the clock may fall: an idle group earns at most this much sending at
  // once. Same order as a single flow's pacing credit (tx_scheduler.h, kPacingCreditNs).
  static constexpr uint64_t kBurstNs = 200 * 1000;

  explicit SharedRateLimit(uint32_t rate_kbps) : rate_kbps_(std::max<uint32_t>(rate_kbps, 1)) {}

  uint32_t rate_kbps() const { return rate_kbps_; }
  // When the group may send its next segment (monotonic ns).
  uint64_t due_ns() const { return due_ns_.load(std::memory_order_relaxed); }
  bool allows(uint64_t now_ns) const { return due_ns() <= now_ns; }
  // Counts `bytes` just sent at `now_ns`.
  void charge(uint64_t now_ns, uint32_t bytes) {
    const uint64_t cost = send_time_ns(bytes);
    const uint64_t floor = now_ns > kBurstNs ? now_ns - kBurstNs : 0;
    uint64_t due = due_ns_.load(std::memory_order_relaxed);
    while (!due_ns_.compare_exchange_weak(due, std::max(due, floor) + cost,
                                          std::memory_order_relaxed)) {
    }
  }
  // The time `bytes` take at the rate (kbps: 1000 bit/s, so 8e6 / rate ns per byte).
  uint64_t send_time_ns(uint32_t bytes) const {
    return static_cast<uint64_t>(bytes) * 8'000'000 / rate_kbps_;
  }

 private:
  const uint32_t rate_kbps_;  // at least 1: an unlimited group has no SharedRateLimit
  std::atomic<uint64_t> due_ns_{0};
};

}  // namespace vtas::fastpath
