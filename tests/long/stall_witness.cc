#include "tests/long/stall_witness.h"

#include <algorithm>

namespace vtas::testing {

namespace {
constexpr std::chrono::milliseconds kTick{10};
}  // namespace

StallWitness::StallWitness(std::chrono::milliseconds threshold)
    : threshold_(threshold), thread_([this] { watch(); }) {}

StallWitness::~StallWitness() {
  stop_ = true;
  thread_.join();
}

void StallWitness::watch() {
  Clock::time_point before = Clock::now();
  while (!stop_) {
    std::this_thread::sleep_for(kTick);
    const Clock::time_point now = Clock::now();
    if (now - before > kTick + threshold_) {
      std::lock_guard<std::mutex> lock(mutex_);
      stalls_.push_back({before + kTick, now});
    }
    before = now;
  }
}

std::chrono::milliseconds StallWitness::stalled_within(Clock::time_point from,
                                                       Clock::time_point to) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Clock::duration total{};
  for (const Stall& s : stalls_) {
    const auto begin = std::max(from, s.from);
    const auto end = std::min(to, s.to);
    if (end > begin) total += end - begin;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(total);
}

std::vector<StallWitness::Stall> StallWitness::stalls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stalls_;
}

}  // namespace vtas::testing
