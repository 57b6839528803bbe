#include "tools/vtas-relay/bottleneck.h"

#include <algorithm>
#include <cmath>

namespace vtas::relay {

Bottleneck::Bottleneck(double rate_bps, uint32_t burst_bytes, uint32_t limit_frames)
    : rate_bps_(rate_bps > 0 ? rate_bps : 0),
      burst_bits_(double{8} * burst_bytes),
      limit_frames_(std::max<uint32_t>(limit_frames, 1)),
      tokens_bits_(burst_bits_) {}

void Bottleneck::drain(uint64_t now_ns) {
  while (!departures_.empty() && departures_.front() <= now_ns) departures_.pop_front();
}

uint32_t Bottleneck::queued(uint64_t now_ns) {
  drain(now_ns);
  return static_cast<uint32_t>(departures_.size());
}

Bottleneck::Admission Bottleneck::admit(uint64_t now_ns, uint32_t bytes) {
  Admission a;
  if (!limited()) {
    a.depart_ns = now_ns;
    return a;
  }
  a.queued_before = queued(now_ns);
  if (a.queued_before >= limit_frames_) {
    a.dropped = true;
    return a;
  }
  if (!started_) {
    started_ = true;
    at_ns_ = now_ns;
  }
  // The frame's turn comes at the later of its arrival and the previous departure; by then
  // the bucket refilled for the time since that departure (up to the burst).
  const uint64_t turn = std::max(now_ns, at_ns_);
  const double refill = static_cast<double>(turn - at_ns_) * rate_bps_ / 1e9;
  double tokens = std::min(burst_bits_, tokens_bits_ + refill);
  const double need = double{8} * bytes;
  uint64_t depart = turn;
  if (tokens >= need) {
    tokens -= need;
  } else {
    depart = turn + static_cast<uint64_t>(std::ceil((need - tokens) * 1e9 / rate_bps_));
    tokens = 0;
  }
  at_ns_ = depart;
  tokens_bits_ = tokens;
  a.depart_ns = depart;
  if (depart > now_ns) departures_.push_back(depart);
  return a;
}

}  // namespace vtas::relay
