#include "components/fastpath/tx_scheduler.h"

#include <algorithm>

namespace vtas::fastpath {
namespace {
constexpr uint32_t kNil = UINT32_MAX;
}

TxScheduler::TxScheduler(uint32_t max_flows)
    : fifo_(max_flows + 1),
      where_(max_flows, kNone),
      due_ns_(max_flows, 0),
      next_in_slot_(max_flows, kNil),
      slot_head_(kSlots, kNil) {}

void TxScheduler::push_fifo(uint32_t flow) {
  fifo_[fifo_tail_] = flow;
  fifo_tail_ = (fifo_tail_ + 1) % static_cast<uint32_t>(fifo_.size());
  where_[flow] = kFifo;
  ++queued_;
}

void TxScheduler::ready(uint32_t flow) {
  if (flow >= where_.size()) return;
  if (where_[flow] == kFifoRemoved) {  // its old FIFO entry is still there: reuse it
    where_[flow] = kFifo;
    ++queued_;
    return;
  }
  if (where_[flow] != kNone) return;
  push_fifo(flow);
}

void TxScheduler::ready_at(uint32_t flow, uint64_t when_ns) {
  if (flow >= where_.size()) return;
  if (where_[flow] == kFifoRemoved) {
    // Its FIFO entry still exists: reuse it. The caller checks pacing when the flow comes up
    // and waits again if it is early.
    ready(flow);
    return;
  }
  if (where_[flow] != kNone) return;
  if (wheel_time_ns_ != 0 && when_ns < wheel_time_ns_) {
    // Already due (its slot was drained before): ready now.
    push_fifo(flow);
    return;
  }
  uint32_t slot = static_cast<uint32_t>((when_ns / kSlotNs) % kSlots);
  next_in_slot_[flow] = slot_head_[slot];
  slot_head_[slot] = flow;
  due_ns_[flow] = when_ns;
  where_[flow] = kWheel;
  earliest_ = std::min(earliest_, when_ns);
  ++wheel_count_;
  ++queued_;
}

void TxScheduler::remove(uint32_t flow) {
  if (flow >= where_.size()) return;
  if (where_[flow] == kFifo) {
    where_[flow] = kFifoRemoved;  // the FIFO entry is skipped when reached
    --queued_;
  } else if (where_[flow] == kWheel) {
    uint32_t slot = static_cast<uint32_t>((due_ns_[flow] / kSlotNs) % kSlots);
    for (uint32_t* link = &slot_head_[slot]; *link != kNil; link = &next_in_slot_[*link]) {
      if (*link == flow) {
        *link = next_in_slot_[flow];
        break;
      }
    }
    where_[flow] = kNone;
    --wheel_count_;
    --queued_;
  }
}

uint32_t TxScheduler::take(uint64_t now_ns, uint32_t* out, uint32_t max) {
  // Move due wheel entries to the FIFO first, slot by slot up to now.
  if (wheel_count_ > 0 && now_ns >= earliest_) {
    if (wheel_time_ns_ == 0) wheel_time_ns_ = earliest_ - earliest_ % kSlotNs;
    uint64_t new_earliest = UINT64_MAX;
    uint32_t slots_to_visit = static_cast<uint32_t>(
        std::min<uint64_t>(kSlots, (now_ns - wheel_time_ns_) / kSlotNs + 1));
    for (uint32_t i = 0; i < slots_to_visit; ++i) {
      uint32_t slot = static_cast<uint32_t>(((wheel_time_ns_ / kSlotNs) + i) % kSlots);
      uint32_t* link = &slot_head_[slot];
      while (*link != kNil) {
        uint32_t flow = *link;
        if (due_ns_[flow] <= now_ns) {
          *link = next_in_slot_[flow];
          --wheel_count_;
          --queued_;
          where_[flow] = kNone;
          push_fifo(flow);
          continue;
        }
        new_earliest = std::min(new_earliest, due_ns_[flow]);
        link = &next_in_slot_[flow];
      }
    }
    wheel_time_ns_ = now_ns - now_ns % kSlotNs;
    // Entries in slots we did not visit (beyond the horizon) keep earliest honest.
    earliest_ = wheel_count_ ? std::min(new_earliest, wheel_time_ns_ + kSlotNs) : UINT64_MAX;
  }
  uint32_t n = 0;
  while (n < max && fifo_head_ != fifo_tail_) {
    uint32_t flow = fifo_[fifo_head_];
    fifo_head_ = (fifo_head_ + 1) % static_cast<uint32_t>(fifo_.size());
    if (where_[flow] == kFifoRemoved) {  // removed meanwhile
      where_[flow] = kNone;
      continue;
    }
    where_[flow] = kNone;
    --queued_;
    out[n++] = flow;
  }
  return n;
}

// The next send time is counted from the previous one, not from now: the core always sends a
// little after the due time (wheel slots, wake-up latency), and counting from now lost that
// much every segment (a 100 Mbit/s flow got 94.7). A flow that fell behind may catch up by at
// most kPacingCreditNs worth of segments in a burst (an idle flow too).
uint64_t next_paced_send(uint64_t previous_due_ns, uint64_t now_ns, uint32_t mss,
                         uint32_t rate_kbps) {
  const uint64_t gap_ns = uint64_t{mss} * 8 * 1000000ull / rate_kbps;
  const uint64_t floor_ns = now_ns > kPacingCreditNs ? now_ns - kPacingCreditNs : 0;
  return std::max(previous_due_ns, floor_ns) + gap_ns;
}

}  // namespace vtas::fastpath
