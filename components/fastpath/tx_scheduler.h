// TxScheduler: which flows of one core have something to send, and when. Flows without a rate
// limit wait in a FIFO (round robin: one segment per turn keeps flows fair); rate-limited
// flows wait on a timing wheel until their next send time. Fixed memory (sized by the flow
// count at start), no allocation afterwards, O(1) per operation. One core only.
#pragma once

#include <cstdint>
#include <vector>

namespace vtas::fastpath {

class TxScheduler {
 public:
  static constexpr uint64_t kSlotNs = 16 * 1000;    // wheel granularity: 16 us
  static constexpr uint32_t kSlots = 4096;          // horizon: 65 ms; later times wrap around

  explicit TxScheduler(uint32_t max_flows);

  // Makes `flow` ready now (no-op if it is already queued or waiting).
  void ready(uint32_t flow);
  // Makes `flow` ready at `when_ns` (monotonic). A flow already queued stays where it is.
  void ready_at(uint32_t flow, uint64_t when_ns);
  // Forgets a flow wherever it waits (flow removed). Each flow has at most one FIFO entry and
  // one wheel link at any time.
  void remove(uint32_t flow);
  // Up to `max` flows that may send now, in order.
  uint32_t take(uint64_t now_ns, uint32_t* out, uint32_t max);
  bool idle() const { return queued_ == 0; }
  // Earliest time a waiting flow becomes ready (UINT64_MAX if none wait on the wheel).
  uint64_t next_deadline() const { return wheel_count_ ? earliest_ : UINT64_MAX; }

 private:
  // kFifoRemoved: still has its (one) FIFO entry, skipped when reached unless made ready again.
  enum : uint8_t { kNone = 0, kFifo = 1, kWheel = 2, kFifoRemoved = 3 };
  void push_fifo(uint32_t flow);

  std::vector<uint32_t> fifo_;
  uint32_t fifo_head_ = 0, fifo_tail_ = 0;   // fifo_ has max_flows + 1 slots
  std::vector<uint8_t> where_;                // per flow: kNone / kFifo / kWheel
  std::vector<uint64_t> due_ns_;              // per flow on the wheel
  std::vector<uint32_t> next_in_slot_;        // per flow: singly linked slot lists
  std::vector<uint32_t> slot_head_;           // per slot
  uint64_t wheel_time_ns_ = 0;                // slots before this time have been drained
  uint64_t earliest_ = UINT64_MAX;
  uint32_t wheel_count_ = 0;
  uint32_t queued_ = 0;
};

// Pacing of a rate-limited flow: when it may send its next full segment, given when it was
// due to send this one. Behind schedule by more than kPacingCreditNs, it catches up by at most
// that much (a short burst), so lateness neither accumulates nor turns into a long burst.
constexpr uint64_t kPacingCreditNs = 200 * 1000;
uint64_t next_paced_send(uint64_t previous_due_ns, uint64_t now_ns, uint32_t mss,
                         uint32_t rate_kbps);

}  // namespace vtas::fastpath
