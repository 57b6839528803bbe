// Bottleneck: the relay's rate limiter for one direction -- a token bucket (rate, burst) in
// front of a FIFO with a frame limit -- computed ahead: when a frame arrives, its departure
// time follows from the bucket's state, so the relay only has to hold the frame until then.
// The queue length a frame sees on arrival (frames admitted earlier and not yet departed)
// drives tail drop and ECN marking. Pure arithmetic on times the caller passes in (ns).
#pragma once

#include <cstdint>
#include <deque>

namespace vtas::relay {

class Bottleneck {
 public:
  // rate_bps 0: no bottleneck (every frame departs on arrival, the queue is always empty).
  Bottleneck(double rate_bps, uint32_t burst_bytes, uint32_t limit_frames);

  struct Admission {
    bool dropped = false;        // the queue was full
    uint32_t queued_before = 0;  // frames waiting when this one arrived
    uint64_t depart_ns = 0;      // when it leaves the bottleneck (valid if not dropped)
  };
  Admission admit(uint64_t now_ns, uint32_t bytes);

  // Frames waiting at `now_ns`.
  uint32_t queued(uint64_t now_ns);
  bool limited() const { return rate_bps_ > 0; }

 private:
  void drain(uint64_t now_ns);

  double rate_bps_;
  double burst_bits_;
  uint32_t limit_frames_;
  // Bucket state at `at_ns_` (the last departure): tokens in bits.
  uint64_t at_ns_ = 0;
  double tokens_bits_ = 0;
  bool started_ = false;
  std::deque<uint64_t> departures_;  // of frames still waiting, in order
};

}  // namespace vtas::relay
