#include "tools/vtas-relay/impairer.h"

#include <algorithm>

namespace vtas::relay {
namespace {

constexpr uint32_t kEthernetHeader = 14;

Bottleneck make_bottleneck(const Impairments& i) {
  return Bottleneck(i.rate_mbps * 1e6, i.burst_bytes, i.queue_frames);
}

}  // namespace

Impairer::Impairer(const Impairments& impairments, uint64_t seed, uint64_t stream)
    : impairments_(impairments), random_(seed, stream), bottleneck_(make_bottleneck(impairments)) {}

void Impairer::reconfigure(const Impairments& impairments) {
  const bool new_bottleneck = impairments.rate_mbps != impairments_.rate_mbps ||
                              impairments.burst_bytes != impairments_.burst_bytes ||
                              impairments.queue_frames != impairments_.queue_frames;
  impairments_ = impairments;
  if (new_bottleneck) bottleneck_ = make_bottleneck(impairments);
}

bool Impairer::schedule(uint64_t now_ns, uint32_t length, bool reorder, uint64_t jitter_ns,
                        Copy& copy, uint32_t* queued_before) {
  const Bottleneck::Admission a = bottleneck_.admit(now_ns, length);
  *queued_before = a.queued_before;
  if (a.dropped) return false;
  uint64_t release = a.depart_ns + uint64_t{impairments_.delay_us} * 1000 + jitter_ns;
  if (reorder) {
    // Out of the ordered stream: later frames pass it.
    release += uint64_t{impairments_.reorder_delay_us} * 1000;
    copy.held_for_gap = impairments_.reorder_gap > 0;
  } else {
    release = std::max(release, last_release_ns_);
    last_release_ns_ = release;
  }
  copy.release_ns = release;
  if (release > now_ns) ++counters_.delayed;
  return true;
}

Verdict Impairer::decide(uint64_t now_ns, uint32_t length, const FrameInfo& info) {
  const Impairments& im = impairments_;
  ++counters_.rx_frames;
  counters_.rx_bytes += length;
  // The same draws for every frame (see the header).
  const bool lose = random_.percent(im.loss_pct);
  const bool corrupt = random_.percent(im.corrupt_pct);
  const bool duplicate = random_.percent(im.duplicate_pct);
  const bool reorder = random_.percent(im.reorder_pct);
  const uint64_t jitter1 = random_.below(uint64_t{im.jitter_us} * 1000 + 1);
  const uint64_t jitter2 = random_.below(uint64_t{im.jitter_us} * 1000 + 1);
  const uint64_t offset_draw = random_.next();
  const uint8_t mask = static_cast<uint8_t>(1 + random_.below(255));

  Verdict v;
  if (lose) {
    v.drop = Verdict::Drop::kLoss;
    ++counters_.lost;
    return v;
  }
  uint32_t queued = 0;
  if (!schedule(now_ns, length, reorder, jitter1, v.first, &queued)) {
    v.drop = Verdict::Drop::kQueueFull;
    ++counters_.queue_drops;
    counters_.max_queue = std::max<uint64_t>(counters_.max_queue, queued);
    return v;
  }
  counters_.max_queue = std::max<uint64_t>(counters_.max_queue, queued + 1);
  if (reorder) ++counters_.reordered;
  if (im.ce_threshold > 0 && queued >= im.ce_threshold && info.ip &&
      (info.ecn == kEcnEct0 || info.ecn == kEcnEct1)) {
    v.mark_ce = true;
    ++counters_.ce_marked;
  } else if (im.cwr_unmarked && info.tcp_data && (info.ecn == kEcnEct0 || info.ecn == kEcnEct1)) {
    v.set_cwr = true;
    ++counters_.cwr_set;
  }
  if (corrupt && length > kEthernetHeader) {
    v.corrupt = true;
    v.corrupt_offset =
        kEthernetHeader + static_cast<uint32_t>(offset_draw % (length - kEthernetHeader));
    v.corrupt_mask = mask;
    ++counters_.corrupted;
  }
  if (duplicate) {
    uint32_t ignored = 0;
    // The copy queues behind the original; a full queue drops only the copy.
    if (schedule(now_ns, length, false, jitter2, v.second, &ignored)) {
      v.duplicate = true;
      ++counters_.duplicated;
    } else {
      ++counters_.queue_drops;
    }
  }
  return v;
}

}  // namespace vtas::relay
