// Helpers shared by the vtas_shm tests: a substring assertion with a readable failure, a ring
// entry that carries its own sequence number and checksum (so loss, reordering and torn entries
// are visible), and a guard that reaps a forked child.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cstdint>
#include <string>

namespace vtas::shm::testing {

inline ::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// 64 bytes: a sequence number, a payload derived from it, and a checksum over the payload.
struct CheckedEntry {
  uint64_t seq;
  uint64_t checksum;
  uint64_t payload[6];
};
static_assert(sizeof(CheckedEntry) == 64);

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline uint64_t payload_checksum(const CheckedEntry& e) {
  uint64_t sum = e.seq * 0x100000001B3ull;
  for (uint64_t word : e.payload) sum = (sum ^ word) * 0x100000001B3ull + (sum >> 29);
  return sum;
}

inline CheckedEntry make_entry(uint64_t seq) {
  CheckedEntry e{};
  e.seq = seq;
  for (int i = 0; i < 6; ++i) e.payload[i] = splitmix64(seq * 8 + static_cast<uint64_t>(i));
  e.checksum = payload_checksum(e);
  return e;
}

// True if `e` is exactly what make_entry(expected_seq) produced: no loss, no reordering (the
// sequence number) and no torn entry (the checksum and the regenerated payload).
inline bool entry_is_intact(const CheckedEntry& e, uint64_t expected_seq) {
  if (e.seq != expected_seq || e.checksum != payload_checksum(e)) return false;
  for (int i = 0; i < 6; ++i) {
    if (e.payload[i] != splitmix64(expected_seq * 8 + static_cast<uint64_t>(i))) return false;
  }
  return true;
}

// Kills and reaps a forked child unless the test already reaped it.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Waits for the child to exit; returns its wait status.
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

}  // namespace vtas::shm::testing
