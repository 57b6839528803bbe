// Doorbell: an eventfd one process rings to wake another that sleeps on it, passed between
// processes by fd (SCM_RIGHTS, the ivshmem server protocol, or fork). Used together with an
// SpscRing so that a consumer can sleep when idle (this project's machines have 2 cores; busy
// polling is an option, not the only mode). Any process may use it; one Doorbell per direction.
//
// A consumer that sleeps when idle and never misses a wake-up (see runtime/shm/spsc_ring.h for
// why the handshake is lossless):
//
//   // consumer (owns `rx`, a RingConsumer, and `bell`)     // producer (owns `tx`, rings `bell`)
//   for (;;) {                                             if (tx.push_burst(batch, n) != 0 &&
//     uint32_t n = rx.pop_burst(batch, kBurst);                tx.consumer_needs_wakeup()) {
//     if (n != 0) { handle(batch, n); continue; }            bell.ring();
//     if (rx.corrupted()) return fail(rx.error());         }
//     if (!rx.prepare_sleep()) continue;  // data arrived meanwhile
//     bell.wait(-1);       // or a timeout from the next deadline
//     bell.drain();        // before popping: a ring after this wakes the next wait
//     rx.finish_sleep();
//   }
//
// A spurious wake-up (the bell rang for entries already popped) costs one empty pop; a missed
// one cannot happen as long as the producer asks consumer_needs_wakeup() after every publish.
#pragma once

#include <cstdint>

#include "runtime/result.h"

namespace vtas::shm {

class Doorbell {
 public:
  // A fresh eventfd (EFD_NONBLOCK | EFD_CLOEXEC).
  static Result<Doorbell> create();
  // Takes ownership of an eventfd received from elsewhere (it may be blocking: drain() copes).
  static Doorbell adopt(int fd);

  Doorbell(Doorbell&& other) noexcept;
  Doorbell& operator=(Doorbell&& other) noexcept;
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;
  ~Doorbell();

  // Wakes the sleeper (one write(2)). A bell already rung to its limit stays rung: success.
  Status ring();
  // Clears pending rings without blocking; returns how many rings were pending.
  uint64_t drain();
  // Blocks until the bell is rung or `timeout_ms` passes (-1: no timeout; 0: just look).
  // True if rung (pending rings stay until drain()). Signals do not cut the wait short.
  bool wait(int timeout_ms);

  int fd() const { return fd_; }

 private:
  Doorbell(int fd, bool nonblocking) : fd_(fd), nonblocking_(nonblocking) {}
  bool readable_now() const;

  int fd_ = -1;
  bool nonblocking_ = true;
};

}  // namespace vtas::shm
