// Impairer: the relay's decisions for one direction, as a pure function of the frame's arrival
// time, size and headers and a seeded random stream: drop it (loss, full queue), corrupt it,
// duplicate it, mark it CE, set CWR, and when each copy goes out. No sockets, no clock: the
// relay engine carries the verdicts out; tests check them.
//
// Every frame draws the same number of random values whatever happens to it, so the decisions
// for frame N depend only on the seed and N (not on, say, whether frame N-1 was duplicated).
#pragma once

#include <cstdint>

#include "tools/vtas-relay/bottleneck.h"
#include "tools/vtas-relay/frame_edit.h"
#include "tools/vtas-relay/relay_config.h"
#include "tools/vtas-relay/seeded_random.h"

namespace vtas::relay {

struct DirectionCounters {
  uint64_t rx_frames = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_frames = 0;
  uint64_t tx_bytes = 0;
  uint64_t lost = 0;
  uint64_t queue_drops = 0;
  uint64_t corrupted = 0;
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  uint64_t delayed = 0;  // held for any time (bottleneck, delay, reordering)
  uint64_t ce_marked = 0;
  uint64_t cwr_set = 0;
  uint64_t max_queue = 0;  // deepest bottleneck queue seen (frames)
  // Filled by the engine, not the impairer.
  uint64_t pool_drops = 0;  // no buffer free
  uint64_t oversize = 0;    // larger than the buffers
  uint64_t tx_errors = 0;   // the kernel refused the frame for good
  uint64_t tx_retries = 0;  // the kernel's queue was full: sent again later
};

struct Copy {
  uint64_t release_ns = 0;    // when it may go out
  bool held_for_gap = false;  // reordered with --reorder-gap: also goes after N later frames
};

struct Verdict {
  enum class Drop : uint8_t { kNone, kLoss, kQueueFull };
  Drop drop = Drop::kNone;
  bool mark_ce = false;
  bool set_cwr = false;
  bool corrupt = false;
  uint32_t corrupt_offset = 0;  // into the frame, after the Ethernet header
  uint8_t corrupt_mask = 0;     // non-zero
  Copy first;
  bool duplicate = false;  // `second` is valid
  Copy second;
};

class Impairer {
 public:
  Impairer(const Impairments& impairments, uint64_t seed, uint64_t stream);

  // Decides what happens to a frame of `length` bytes arriving at `now_ns`. Updates the
  // counters for everything decided here.
  Verdict decide(uint64_t now_ns, uint32_t length, const FrameInfo& info);

  // New settings at run time. The random stream and the order of what is in flight are kept;
  // a new bottleneck starts empty.
  void reconfigure(const Impairments& impairments);
  const Impairments& impairments() const { return impairments_; }

  DirectionCounters& counters() { return counters_; }
  const DirectionCounters& counters() const { return counters_; }

 private:
  // Bottleneck + delay + reordering for one copy; false if the queue was full.
  bool schedule(uint64_t now_ns, uint32_t length, bool reorder, uint64_t jitter_ns, Copy& copy,
                uint32_t* queued_before);

  Impairments impairments_;
  SeededRandom random_;
  Bottleneck bottleneck_;
  uint64_t last_release_ns_ = 0;  // frames in order never go out before this
  DirectionCounters counters_;
};

}  // namespace vtas::relay
