#include "components/cc/actor/flow_view.h"

namespace vtas::cc {
namespace {

template <class T>
T load(const T& field) {
  return __atomic_load_n(&field, __ATOMIC_RELAXED);
}

// splitmix64's finaliser: every input bit affects every output bit.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

uint32_t read_flags(const abi::FlowState& fs) {
  return __atomic_load_n(&fs.flags, __ATOMIC_ACQUIRE);
}

bool controllable(uint32_t flags) {
  return (flags & (abi::kFlowActive | abi::kFlowReset)) == abi::kFlowActive;
}

uint64_t flow_identity(const abi::FlowState& fs) {
  const uint64_t ips = uint64_t{load(fs.local_ip)} | uint64_t{load(fs.remote_ip)} << 32;
  const uint64_t ports = uint64_t{load(fs.local_port)} | uint64_t{load(fs.remote_port)} << 16;
  return mix(mix(mix(ips) ^ ports) ^ load(fs.opaque));
}

FlowSample read_sample(const abi::FlowState& fs) {
  FlowSample s;
  s.counters.acks = load(fs.cnt_rx_acks);
  s.counters.ack_bytes = load(fs.cnt_rx_ack_bytes);
  s.counters.ecn_bytes = load(fs.cnt_rx_ecn_bytes);
  // Net loss events: a go-back-N the fast path found spurious and undid (reordering, or a
  // timeout that fired while the ACKs were only queued) is not a congestion signal. Undos are
  // taken off both counts (a spurious timeout counts in both); a net count can step back when
  // the undo comes in a later interval, and counter_delta() counts such a step as no loss.
  const uint32_t undos = load(fs.cnt_tx_undos);
  s.counters.drops = load(fs.cnt_tx_drops) - undos;
  s.counters.rexmit_timeouts = load(fs.cnt_rexmit_timeouts) - undos;
  s.rtt_us = load(fs.rtt_us);
  s.mss = load(fs.mss);
  s.tx_buffer_bytes = load(fs.tx_len);
  return s;
}

uint32_t read_rate(const abi::FlowState& fs) {
  return load(fs.tx_rate_kbps);
}

void write_rate(abi::FlowState& fs, uint32_t rate_kbps) {
  __atomic_store_n(&fs.tx_rate_kbps, rate_kbps, __ATOMIC_RELAXED);
}

}  // namespace vtas::cc
