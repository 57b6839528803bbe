// ring_bench: how many 64-byte entries per second an SpscRing (runtime/shm/spsc_ring.h) moves
// between two processes (fork, one memfd mapped by both), with the producer and the consumer
// pinned to different CPUs (busy polling, or sleeping on a Doorbell when idle) and both pinned
// to CPU 0 (waiting with sched_yield, or sleeping on the Doorbell after a short spin or a few
// yields), at batch sizes 1 and 32. Prints a Markdown table with wall time and CPU time per entry
// (both processes). A program to run by hand, not a test:
//
//   ring_bench [--entries N]      (default 10000000 per row)
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/clock.h"
#include "runtime/shm/abi.h"
#include "runtime/shm/doorbell.h"
#include "runtime/shm/region.h"
#include "runtime/shm/spsc_ring.h"

namespace {

using vtas::monotonic_ns;
using namespace vtas::shm;

constexpr uint32_t kCapacity = 1024;
constexpr uint64_t kRingOffset = 64;  // after the RegionHeader
constexpr uint64_t kControlOffset = kRingOffset + ring_bytes(kCapacity);
constexpr uint64_t kDefaultEntries = 10'000'000;

struct BenchEntry {
  uint64_t seq;
  uint64_t payload[7];
};
static_assert(sizeof(BenchEntry) == 64);

// How a side waits when the ring is empty (consumer) or full (producer). With a doorbell the
// consumer first polls a little (spinning, or yielding the CPU to whoever shares it) and then
// sleeps; the producer rings when consumer_needs_wakeup() says so, and yields when full.
enum class WaitMode { kBusyPoll, kYield, kSpinThenDoorbell, kYieldThenDoorbell };

bool uses_doorbell(WaitMode mode) {
  return mode == WaitMode::kSpinThenDoorbell || mode == WaitMode::kYieldThenDoorbell;
}

struct Scenario {
  const char* name;
  int producer_cpu;
  int consumer_cpu;
  WaitMode wait;
};

// Shared between the two processes, after the ring.
struct Control {
  uint32_t producer_ready;
  uint32_t go;
  uint64_t doorbell_rings;
};

struct RowResult {
  bool ok = false;
  std::string error;
  double seconds = 0;
  double cpu_seconds = 0;
  uint64_t rings = 0;
  uint64_t sleeps = 0;
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

void wait_a_little(WaitMode mode) {
  if (mode == WaitMode::kBusyPoll) {
    cpu_relax();
  } else {
    sched_yield();
  }
}

uint32_t load(uint32_t& shared) {
  return std::atomic_ref<uint32_t>(shared).load(std::memory_order_acquire);
}
void store(uint32_t& shared, uint32_t v) {
  std::atomic_ref<uint32_t>(shared).store(v, std::memory_order_release);
}

double cpu_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void run_producer(Region& region, Doorbell& bell, const Scenario& s, uint32_t batch,
                               uint64_t total) {
  if (!pin_to(s.producer_cpu)) _exit(2);
  auto attached = RingProducer<BenchEntry>::attach(region.at<char>(kRingOffset),
                                                   region.size() - kRingOffset, kCapacity, "bench");
  if (!attached) _exit(3);
  auto& tx = attached.value();
  auto* control = region.at<Control>(kControlOffset);
  if (control == nullptr) _exit(4);
  std::vector<BenchEntry> entries(batch);
  for (auto& e : entries) std::memset(&e, 0xAB, sizeof(e));

  store(control->producer_ready, 1);
  while (load(control->go) == 0) sched_yield();

  uint64_t seq = 0;
  uint64_t rings = 0;
  while (seq < total) {
    uint32_t want = batch;
    if (want > total - seq) want = static_cast<uint32_t>(total - seq);
    for (uint32_t i = 0; i < want; ++i) entries[i].seq = seq + i;
    uint32_t sent = 0;
    while (sent < want) {
      const uint32_t n = tx.push_burst(entries.data() + sent, want - sent);
      if (n == 0) {
        if (tx.corrupted()) _exit(5);
        wait_a_little(s.wait == WaitMode::kBusyPoll ? WaitMode::kBusyPoll : WaitMode::kYield);
        continue;
      }
      sent += n;
      if (uses_doorbell(s.wait) && tx.consumer_needs_wakeup()) {
        if (!bell.ring()) _exit(6);
        ++rings;
      }
    }
    seq += want;
  }
  control->doorbell_rings = rings;
  _exit(0);
}

RowResult run_row(const Scenario& s, uint32_t batch, uint64_t total) {
  RowResult result;
  auto created = Region::create_memfd("ring-bench", kControlOffset + sizeof(Control), false);
  if (!created) return {false, created.error().message};
  Region region = std::move(created.value());
  if (auto st = init_region_header(region.base(), region.size(), RegionKind::kTest, 1); !st) {
    return {false, st.error().message};
  }
  if (auto st = ring_init(region.at<char>(kRingOffset), region.size() - kRingOffset, kCapacity);
      !st) {
    return {false, st.error().message};
  }
  auto* control = region.at<Control>(kControlOffset);
  auto bell = Doorbell::create();
  if (!bell) return {false, bell.error().message};
  auto attached = RingConsumer<BenchEntry>::attach(region.at<char>(kRingOffset),
                                                   region.size() - kRingOffset, kCapacity, "bench");
  if (!attached || control == nullptr) return {false, "consumer attach failed"};
  auto& rx = attached.value();

  const double children_cpu_before = cpu_seconds(RUSAGE_CHILDREN);
  pid_t pid = fork();
  if (pid < 0) return {false, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) run_producer(region, bell.value(), s, batch, total);

  if (!pin_to(s.consumer_cpu)) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return {false, "cannot pin to CPU " + std::to_string(s.consumer_cpu)};
  }
  while (load(control->producer_ready) == 0) sched_yield();
  const double self_cpu_before = cpu_seconds(RUSAGE_SELF);
  const uint64_t start = monotonic_ns();
  store(control->go, 1);

  std::vector<BenchEntry> entries(batch);
  uint64_t expected = 0;
  uint32_t idle = 0;
  bool in_order = true;
  while (expected < total && in_order) {
    const uint32_t n = rx.pop_burst(entries.data(), batch);
    if (n != 0) {
      for (uint32_t i = 0; i < n; ++i) in_order &= entries[i].seq == expected + i;
      expected += n;
      idle = 0;
      continue;
    }
    if (rx.corrupted()) break;
    if (!uses_doorbell(s.wait)) {
      wait_a_little(s.wait);
      continue;
    }
    if (s.wait == WaitMode::kSpinThenDoorbell && ++idle < 64) {
      cpu_relax();
      continue;
    }
    if (s.wait == WaitMode::kYieldThenDoorbell && ++idle < 4) {
      sched_yield();
      continue;
    }
    idle = 0;
    if (rx.prepare_sleep()) {
      ++result.sleeps;
      bell->wait(1000);
      bell->drain();
      rx.finish_sleep();
    }
  }
  const uint64_t end = monotonic_ns();
  const double self_cpu = cpu_seconds(RUSAGE_SELF) - self_cpu_before;
  int status = 0;
  if (expected < total) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  result.cpu_seconds = self_cpu + cpu_seconds(RUSAGE_CHILDREN) - children_cpu_before;
  result.seconds = static_cast<double>(end - start) / 1e9;
  result.rings = control->doorbell_rings;
  if (rx.corrupted()) {
    result.error = rx.error();
  } else if (!in_order) {
    result.error = "entries arrived out of order near " + std::to_string(expected);
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    result.error = "producer failed, wait status " + std::to_string(status);
  } else {
    result.ok = true;
  }
  // The consumer stays pinned for the next row; unpin so the next fork starts free.
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &all);
  sched_setaffinity(0, sizeof(all), &all);
  return result;
}

const char* wait_text(WaitMode mode) {
  switch (mode) {
    case WaitMode::kBusyPoll:
      return "busy poll";
    case WaitMode::kYield:
      return "sched_yield";
    case WaitMode::kSpinThenDoorbell:
      return "spin 64, then doorbell";
    case WaitMode::kYieldThenDoorbell:
      return "yield 4x, then doorbell";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t total = kDefaultEntries;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--entries" && i + 1 < argc) {
      char* end = nullptr;
      total = std::strtoull(argv[++i], &end, 10);
      if (end == nullptr || *end != '\0' || total == 0) {
        std::fprintf(stderr, "ring_bench: --entries needs a positive number, got '%s'\n", argv[i]);
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: ring_bench [--entries N]   (default %llu)\n",
                   static_cast<unsigned long long>(kDefaultEntries));
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }

  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  const Scenario scenarios[] = {
      {"producer CPU 1, consumer CPU 0", 1, 0, WaitMode::kBusyPoll},
      {"producer CPU 1, consumer CPU 0", 1, 0, WaitMode::kSpinThenDoorbell},
      {"both on CPU 0", 0, 0, WaitMode::kYield},
      {"both on CPU 0", 0, 0, WaitMode::kSpinThenDoorbell},
      {"both on CPU 0", 0, 0, WaitMode::kYieldThenDoorbell},
  };

  std::printf(
      "SpscRing, 64-byte entries, capacity %u, %llu entries per row, two processes "
      "(fork)\n\n",
      kCapacity, static_cast<unsigned long long>(total));
  std::printf(
      "| pinning | waiting | batch | entries/s | ns/entry | CPU ns/entry | "
      "consumer sleeps | doorbell rings |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  int failures = 0;
  for (const Scenario& s : scenarios) {
    if (s.producer_cpu >= cpus || s.consumer_cpu >= cpus) {
      std::printf("| %s | %s | - | skipped: %ld CPU(s) online | | | | |\n", s.name,
                  wait_text(s.wait), cpus);
      continue;
    }
    for (uint32_t batch : {1u, 32u}) {
      RowResult r = run_row(s, batch, total);
      if (!r.ok) {
        ++failures;
        std::printf("| %s | %s | %u | FAILED: %s | | | | |\n", s.name, wait_text(s.wait), batch,
                    r.error.c_str());
        continue;
      }
      const double n = static_cast<double>(total);
      std::printf("| %s | %s | %u | %.1f M | %.1f | %.1f | %llu | %llu |\n", s.name,
                  wait_text(s.wait), batch, n / r.seconds / 1e6, r.seconds * 1e9 / n,
                  r.cpu_seconds * 1e9 / n, static_cast<unsigned long long>(r.sleeps),
                  static_cast<unsigned long long>(r.rings));
      std::fflush(stdout);
    }
  }
  return failures == 0 ? 0 : 1;
}
