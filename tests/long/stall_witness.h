// StallWitness: a thread that sleeps 10 ms at a time and records every wake-up that came far
// later than asked. Such a gap means the whole machine stood still (this is a VM: its host
// deschedules it now and then, and the guest kernel logs "workqueue lockup ... stuck for 59s")
// or could not run a sleeping thread for that long. A restart time measured across such a
// stall says nothing about vtas: the actor-kill suite subtracts it, and reports it.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace vtas::testing {

class StallWitness {
 public:
  using Clock = std::chrono::steady_clock;
  struct Stall {
    Clock::time_point from, to;
  };

  explicit StallWitness(std::chrono::milliseconds threshold = std::chrono::milliseconds(200));
  ~StallWitness();
  StallWitness(const StallWitness&) = delete;
  StallWitness& operator=(const StallWitness&) = delete;

  // How much of [from, to] the machine stood still (sum of the overlapping stalls).
  std::chrono::milliseconds stalled_within(Clock::time_point from, Clock::time_point to) const;
  std::vector<Stall> stalls() const;

 private:
  void watch();

  const std::chrono::milliseconds threshold_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Stall> stalls_;
  std::thread thread_;
};

}  // namespace vtas::testing
