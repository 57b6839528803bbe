// SpscRing between two real processes (fork) over a memfd that each maps at its own address:
// ten million checked entries with a consumer that sleeps on a Doorbell whenever the producer
// pauses (the no-lost-wake-up path), and a hostile child that scribbles garbage over the ring
// while the parent keeps using it.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <vector>

#include "runtime/clock.h"
#include "runtime/shm/abi.h"
#include "runtime/shm/doorbell.h"
#include "runtime/shm/region.h"
#include "runtime/shm/spsc_ring.h"
#include "runtime/shm/tests/shm_test_helpers.h"

namespace vtas::shm {
namespace {

using testing::CheckedEntry;
using testing::ChildGuard;
using testing::Contains;
using testing::entry_is_intact;
using testing::make_entry;
using testing::splitmix64;

constexpr uint32_t kLayoutVersion = 1;
constexpr uint64_t kRingOffset = 64;  // right after the RegionHeader
constexpr uint32_t kCapacity = 1024;
constexpr uint32_t kBurst = 32;

// Counters the producer child leaves in shared memory for the parent to check.
struct ProducerReport {
  uint64_t doorbell_rings;
  uint64_t drain_waits;  // phase ends where the producer waited for an empty ring
  uint64_t pauses;
};
constexpr uint64_t kReportOffset = kRingOffset + ring_bytes(kCapacity);

// Exit codes of the producer child, so a failure in the child is readable in the parent.
enum ChildExit : int {
  kChildOk = 0,
  kChildMapFailed = 10,
  kChildHeaderBad = 11,
  kChildAttachFailed = 12,
  kChildRingCorrupted = 13,
  kChildDoorbellFailed = 14,
  kChildTimedOut = 15,
};

const char* child_exit_text(int code) {
  switch (code) {
    case kChildOk:
      return "ok";
    case kChildMapFailed:
      return "map_fd failed";
    case kChildHeaderBad:
      return "region header check failed";
    case kChildAttachFailed:
      return "producer attach failed";
    case kChildRingCorrupted:
      return "producer saw a corrupted ring";
    case kChildDoorbellFailed:
      return "doorbell ring failed";
    case kChildTimedOut:
      return "producer gave up (consumer stalled)";
  }
  return "unexpected exit code";
}

Region make_shared_region() {
  auto region =
      Region::create_memfd("ring-process-test", kReportOffset + sizeof(ProducerReport), false);
  EXPECT_TRUE(region) << region.error().message;
  Region r = std::move(region.value());
  EXPECT_TRUE(init_region_header(r.base(), r.size(), RegionKind::kTest, kLayoutVersion));
  void* ring = r.at<char>(kRingOffset);
  Status s = ring_init(ring, r.size() - kRingOffset, kCapacity);
  EXPECT_TRUE(s) << s.error().message;
  return r;
}

// The child's own view of the region: a second mapping of the same memfd at another address,
// found through offsets only, as an app or a VM would.
Region* child_map(int fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
  auto mapped = Region::map_fd(dup(fd), Access::kReadWrite);
  if (!mapped) _exit(kChildMapFailed);
  static Region region = std::move(mapped.value());
  if (!check_region_header(region.base(), region.size(), RegionKind::kTest, kLayoutVersion)) {
    _exit(kChildHeaderBad);
  }
  return &region;
}

// Producer child: pushes `total` entries in phases of random length, each made of uneven
// bursts, and rings the doorbell whenever the consumer announced a sleep. At the end of most
// phases it stops until the consumer has drained the ring: the consumer runs dry and sleeps, and
// a lost wake-up for the phase's last push would leave both waiting (the parent sees that as a
// timed-out sleep with entries available). Later pushes cannot mask a lost wake-up that way.
[[noreturn]] void run_producer_child(int region_fd, Doorbell& bell, uint64_t total) {
  Region* region = child_map(region_fd);
  auto attached = RingProducer<CheckedEntry>::attach(
      region->at<char>(kRingOffset), region->size() - kRingOffset, kCapacity, "process-test");
  if (!attached) _exit(kChildAttachFailed);
  RingProducer<CheckedEntry>& tx = attached.value();
  auto* report = region->at<ProducerReport>(kReportOffset);
  if (report == nullptr) _exit(kChildMapFailed);

  std::vector<CheckedEntry> batch(kBurst);
  uint64_t rng = 42;
  uint64_t seq = 0;
  const uint64_t give_up_ns = monotonic_ns() + 120'000'000'000ull;
  auto check_deadline = [&](uint32_t spins) {
    if ((spins & 0xFFF) == 0 && monotonic_ns() > give_up_ns) _exit(kChildTimedOut);
  };
  while (seq < total) {
    rng = splitmix64(rng);
    const uint64_t phase_end = std::min<uint64_t>(total, seq + 1 + rng % 4096);
    while (seq < phase_end) {
      rng = splitmix64(rng);
      uint32_t len = 1 + static_cast<uint32_t>(rng % kBurst);
      if (len > phase_end - seq) len = static_cast<uint32_t>(phase_end - seq);
      for (uint32_t i = 0; i < len; ++i) batch[i] = make_entry(seq + i);
      uint32_t sent = 0;
      uint32_t full_spins = 0;
      while (sent < len) {
        const uint32_t n = tx.push_burst(batch.data() + sent, len - sent);
        if (n != 0) {
          sent += n;
          full_spins = 0;
          if (tx.consumer_needs_wakeup()) {
            if (!bell.ring()) _exit(kChildDoorbellFailed);
            ++report->doorbell_rings;
          }
          continue;
        }
        if (tx.corrupted()) _exit(kChildRingCorrupted);
        // Full: the consumer is busy (it never sleeps on a non-empty ring). Let it run.
        if (++full_spins > 64) sched_yield();
        check_deadline(full_spins);
      }
      seq += len;
    }
    if ((rng >> 40) % 8 != 0) {  // most phases: wait until the consumer has taken everything
      ++report->drain_waits;
      for (uint32_t spins = 1; tx.free_slots() != kCapacity; ++spins) {
        if (tx.corrupted()) _exit(kChildRingCorrupted);
        if (spins > 64) sched_yield();
        check_deadline(spins);
      }
    }
    if ((rng >> 48) % 16 == 0) {  // now and then a real pause
      ++report->pauses;
      timespec pause{0, static_cast<long>((rng >> 20) % 50'000)};
      nanosleep(&pause, nullptr);
    }
  }
  _exit(kChildOk);
}

TEST(SpscRingProcesses, TenMillionCheckedEntriesWithASleepingConsumer) {
  constexpr uint64_t kTotal = 10'000'000;
  Region region = make_shared_region();
  auto bell = Doorbell::create();
  ASSERT_TRUE(bell) << bell.error().message;
  auto attached = RingConsumer<CheckedEntry>::attach(
      region.at<char>(kRingOffset), region.size() - kRingOffset, kCapacity, "process-test");
  ASSERT_TRUE(attached) << attached.error().message;
  RingConsumer<CheckedEntry>& rx = attached.value();

  const uint64_t start_ns = monotonic_ns();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) run_producer_child(region.fd(), bell.value(), kTotal);
  ChildGuard child(pid);

  std::vector<CheckedEntry> batch(kBurst);
  uint64_t expected = 0;
  uint64_t sleeps = 0;
  uint64_t timeouts = 0;
  uint64_t lost_wakeups = 0;
  bool broken = false;
  uint64_t last_progress_ns = start_ns;
  uint32_t idle_polls = 0;
  uint32_t spin_before_sleep = 0;
  uint64_t rng = 7;
  while (expected < kTotal && !broken) {
    const uint32_t n = rx.pop_burst(batch.data(), kBurst);
    if (n != 0) {
      for (uint32_t i = 0; i < n; ++i) {
        if (!entry_is_intact(batch[i], expected + i)) {
          ADD_FAILURE() << "entry " << expected + i << " lost, reordered or torn: got seq "
                        << batch[i].seq << ", checksum "
                        << (batch[i].checksum == testing::payload_checksum(batch[i]) ? "ok"
                                                                                     : "bad");
          broken = true;
          break;
        }
      }
      expected += n;
      idle_polls = 0;
      continue;
    }
    ASSERT_FALSE(rx.corrupted()) << rx.error();
    // A short spin of random length before sleeping, so that the producer's last push of a phase
    // lands at every possible point of the consumer's way to sleep.
    if (idle_polls++ < spin_before_sleep) continue;
    idle_polls = 0;
    rng = splitmix64(rng);
    spin_before_sleep = static_cast<uint32_t>(rng % 256);
    if (!rx.prepare_sleep()) continue;
    ++sleeps;
    const bool rung = bell->wait(1000);
    bell->drain();
    rx.finish_sleep();
    if (rung) {
      last_progress_ns = monotonic_ns();
      continue;
    }
    ++timeouts;
    // Nobody rang for a second. If entries are waiting, the producer published them after we
    // announced sleep and did not ring: a lost wake-up.
    if (rx.available() != 0) ++lost_wakeups;
    if (monotonic_ns() - last_progress_ns > 20'000'000'000ull) {
      ADD_FAILURE() << "no progress for 20 s at entry " << expected;
      broken = true;
    }
  }
  const double seconds = static_cast<double>(monotonic_ns() - start_ns) / 1e9;

  const int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status)) << "producer child died, wait status " << status;
  EXPECT_EQ(WEXITSTATUS(status), kChildOk) << child_exit_text(WEXITSTATUS(status));
  EXPECT_EQ(expected, kTotal);
  EXPECT_EQ(lost_wakeups, 0u);
  EXPECT_GT(sleeps, 0u) << "the consumer never slept: the wake-up path was not exercised";
  CheckedEntry extra{};
  EXPECT_FALSE(rx.try_pop(extra)) << "more entries than were sent";
  const auto* report = region.at<ProducerReport>(kReportOffset);
  ASSERT_NE(report, nullptr);
  EXPECT_GT(report->doorbell_rings, 0u);
  EXPECT_GT(report->drain_waits, 1000u);
  std::printf(
      "[ measure  ] %llu entries in %.2f s (%.1f M entries/s); consumer slept %llu "
      "times, %llu timeouts; producer waited for drain %llu times, paused %llu times, "
      "rang %llu times\n",
      static_cast<unsigned long long>(expected), seconds,
      static_cast<double>(expected) / seconds / 1e6, static_cast<unsigned long long>(sleeps),
      static_cast<unsigned long long>(timeouts),
      static_cast<unsigned long long>(report->drain_waits),
      static_cast<unsigned long long>(report->pauses),
      static_cast<unsigned long long>(report->doorbell_rings));
  EXPECT_LT(seconds, 60.0);
}

// Hostile child: writes random values over every shared byte of the ring (header, both index
// lines, entries) until it is killed, or for at most 30 s.
[[noreturn]] void run_scribbler_child(int region_fd) {
  Region* region = child_map(region_fd);
  auto* words = region->at<uint32_t>(kRingOffset);
  if (words == nullptr) _exit(kChildMapFailed);
  const size_t count = ring_bytes(kCapacity) / sizeof(uint32_t);
  uint64_t rng = 7;
  const uint64_t stop_ns = monotonic_ns() + 30'000'000'000ull;
  for (uint64_t i = 0;; ++i) {
    rng = splitmix64(rng);
    // Mostly hit the index lines, sometimes anything in the ring.
    size_t index =
        (rng & 1) != 0 ? (kRingProducerOffset + (rng >> 8) % 128) / 4 : (rng >> 8) % count;
    std::atomic_ref<uint32_t>(words[index])
        .store(static_cast<uint32_t>(rng >> 32), std::memory_order_relaxed);
    if ((i & 0xFFFF) == 0 && monotonic_ns() > stop_ns) _exit(kChildOk);
  }
}

TEST(SpscRingProcesses, ConsumerSurvivesAProducerWritingGarbage) {
  Region region = make_shared_region();
  auto attached = RingConsumer<CheckedEntry>::attach(
      region.at<char>(kRingOffset), region.size() - kRingOffset, kCapacity, "hostile.rx");
  ASSERT_TRUE(attached) << attached.error().message;
  RingConsumer<CheckedEntry>& rx = attached.value();

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) run_scribbler_child(region.fd());
  ChildGuard child(pid);

  std::vector<CheckedEntry> batch(kBurst);
  uint64_t popped = 0;
  const uint64_t deadline = monotonic_ns() + 10'000'000'000ull;
  while (!rx.corrupted() && monotonic_ns() < deadline) {
    popped += rx.pop_burst(batch.data(), kBurst);
    if (rx.prepare_sleep()) rx.finish_sleep();
  }
  ASSERT_TRUE(rx.corrupted()) << "garbage indices went unnoticed for 10 s";
  EXPECT_TRUE(Contains(rx.error(), "hostile.rx"));
  EXPECT_TRUE(Contains(rx.error(), "corrupted"));
  EXPECT_TRUE(Contains(rx.error(), "capacity 1024"));
  EXPECT_EQ(rx.pop_burst(batch.data(), kBurst), 0u);
  EXPECT_LE(popped, uint64_t{kCapacity} * 1000) << "sanity";
  std::printf("[ measure  ] consumer popped %llu garbage entries before detecting: %s\n",
              static_cast<unsigned long long>(popped), rx.error().c_str());
}

TEST(SpscRingProcesses, ProducerSurvivesAConsumerWritingGarbage) {
  Region region = make_shared_region();
  auto attached = RingProducer<CheckedEntry>::attach(
      region.at<char>(kRingOffset), region.size() - kRingOffset, kCapacity, "hostile.tx");
  ASSERT_TRUE(attached) << attached.error().message;
  RingProducer<CheckedEntry>& tx = attached.value();

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) run_scribbler_child(region.fd());
  ChildGuard child(pid);

  std::vector<CheckedEntry> batch(kBurst);
  for (uint32_t i = 0; i < kBurst; ++i) batch[i] = make_entry(i);
  const uint64_t deadline = monotonic_ns() + 10'000'000'000ull;
  while (!tx.corrupted() && monotonic_ns() < deadline) {
    tx.push_burst(batch.data(), kBurst);
    (void)tx.consumer_needs_wakeup();
  }
  ASSERT_TRUE(tx.corrupted()) << "garbage indices went unnoticed for 10 s";
  EXPECT_TRUE(Contains(tx.error(), "hostile.tx"));
  EXPECT_TRUE(Contains(tx.error(), "tail"));
  EXPECT_EQ(tx.push_burst(batch.data(), kBurst), 0u);
  const auto* report = region.at<ProducerReport>(kReportOffset);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->pauses, 0u) << "bytes after the ring were never touched";
}

}  // namespace
}  // namespace vtas::shm
