// SharedRateLimit: the virtual clock behind a VM's transmit rate, shared by the fast-path cores.
#include "components/fastpath/shared_rate_limit.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace vtas::fastpath {
namespace {

constexpr uint64_t kMs = 1'000'000;

TEST(SharedRateLimit, EachSendMovesTheClockOnByItsTimeAtTheRate) {
  SharedRateLimit limit(8000);  // 8 Mbit/s: one byte per microsecond
  EXPECT_EQ(limit.send_time_ns(1000), 1'000'000u);
  const uint64_t now = 10 * kMs;
  EXPECT_TRUE(limit.allows(now));
  limit.charge(now, 1000);
  // An idle limit starts at most kBurstNs behind now: that much is sent as a burst.
  EXPECT_EQ(limit.due_ns(), now - SharedRateLimit::kBurstNs + 1 * kMs);
  EXPECT_FALSE(limit.allows(now));
  EXPECT_TRUE(limit.allows(limit.due_ns()));
  // Sending on time keeps the schedule exactly.
  const uint64_t due = limit.due_ns();
  limit.charge(due, 500);
  EXPECT_EQ(limit.due_ns(), due + kMs / 2);
}

TEST(SharedRateLimit, ALongPauseEarnsOnlyTheBurst) {
  SharedRateLimit limit(8000);
  limit.charge(kMs, 1000);
  const uint64_t later = 60'000 * kMs;  // a minute of silence
  limit.charge(later, 1000);
  EXPECT_EQ(limit.due_ns(), later - SharedRateLimit::kBurstNs + kMs);
}

TEST(SharedRateLimit, ARateOfZeroIsTreatedAsTheSlowestRateNotADivisionByZero) {
  SharedRateLimit limit(0);
  EXPECT_EQ(limit.rate_kbps(), 1u);
  EXPECT_EQ(limit.send_time_ns(1), 8'000'000u);
}

// Cores charge it at once: no send is lost from the schedule.
TEST(SharedRateLimit, ChargesFromSeveralCoresAllCount) {
  SharedRateLimit limit(8000);
  const uint64_t now = 10 * kMs;
  limit.charge(now, 1);  // starts the clock: now - burst + 1 us
  const uint64_t start = limit.due_ns();
  constexpr int kThreads = 4, kSends = 100000;
  std::vector<std::thread> cores;
  for (int t = 0; t < kThreads; ++t) {
    cores.emplace_back([&] {
      for (int i = 0; i < kSends; ++i) limit.charge(now, 1);
    });
  }
  for (auto& c : cores) c.join();
  EXPECT_EQ(limit.due_ns(), start + uint64_t{kThreads} * kSends * 1000);
}

}  // namespace
}  // namespace vtas::fastpath
