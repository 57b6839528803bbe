#include "components/slowpath/timer/flow_watch.h"

#include <algorithm>

#include "components/fastpath/flow_table.h"
#include "components/wire/seq.h"

namespace vtas::timer {
namespace {

template <class T>
T load(const T& field) {
  return __atomic_load_n(&field, __ATOMIC_RELAXED);
}

// Our FIN occupies sequence space while it is sent and not acknowledged (tcp/flow_state_ops.h).
uint32_t fin_in_flight(uint32_t flags) {
  return (flags & (abi::kFlowTxFinSent | abi::kFlowTxFinAcked)) == abi::kFlowTxFinSent ? 1u : 0u;
}

uint32_t snd_una(const FlowSnapshot& s) {
  return s.tx_next_seq - s.tx_sent - fin_in_flight(s.flags);
}

// last_ack_us is the fast path's 32-bit us clock: widen it next to `now_us`. nullopt when it
// would lie in the future (another clock, or garbage).
std::optional<uint64_t> widen(uint32_t clock32, uint64_t now_us) {
  const uint32_t ago = static_cast<uint32_t>(now_us) - clock32;
  if (ago > (1u << 31) || ago > now_us) return std::nullopt;
  return now_us - ago;
}

uint64_t timeout(const FlowWatch& w, const FlowSnapshot& s, const RtoPolicy& p) {
  return p.timeout_us(s.rtt_us, s.rtt_var_us, w.backoff);
}

}  // namespace

uint32_t read_flags(const abi::FlowState& fs) {
  return load(fs.flags);
}

FlowSnapshot read_snapshot(const abi::FlowState& fs) {
  FlowSnapshot s;
  s.flags = load(fs.flags);
  const fastpath::FlowKey key{load(fs.local_ip), load(fs.remote_ip), load(fs.local_port),
                              load(fs.remote_port)};
  s.identity = fastpath::flow_hash(key);
  s.tx_sent = load(fs.tx_sent);
  s.tx_avail = load(fs.tx_avail);
  s.tx_next_seq = load(fs.tx_next_seq);
  s.rx_remote_avail = load(fs.rx_remote_avail);
  s.cnt_rx_ack_bytes = load(fs.cnt_rx_ack_bytes);
  s.last_ack_us = load(fs.last_ack_us);
  s.rtt_us = load(fs.rtt_us);
  s.rtt_var_us = load(fs.rtt_var_us);
  s.rto_backoff = load(fs.rto_backoff);
  return s;
}

void store_backoff(abi::FlowState& fs, uint32_t backoff) {
  __atomic_store_n(&fs.rto_backoff, backoff, __ATOMIC_RELAXED);
}

WatchMode mode_of(const FlowSnapshot& s) {
  // A reset flow sends nothing more; a slow-path flow is closing and its segments go through
  // conn: neither is ours to time (the fast path would not send anyway).
  if ((s.flags & (abi::kFlowActive | abi::kFlowReset | abi::kFlowSlowPath)) != abi::kFlowActive) {
    return WatchMode::kIdle;
  }
  // A FIN alone in flight counts: it is lost as easily as data.
  if (s.tx_sent + fin_in_flight(s.flags) > 0) return WatchMode::kRetransmit;
  if (s.tx_avail > 0 && s.rx_remote_avail == 0) return WatchMode::kPersist;
  return WatchMode::kIdle;
}

WatchMode mode_of(const abi::FlowState& fs) {
  FlowSnapshot s;
  s.flags = load(fs.flags);
  s.tx_sent = load(fs.tx_sent);
  s.tx_avail = load(fs.tx_avail);
  s.rx_remote_avail = load(fs.rx_remote_avail);
  return mode_of(s);
}

Verdict check_flow(FlowWatch& w, const FlowSnapshot& s, uint64_t now_us, const RtoPolicy& p) {
  Verdict v;
  const WatchMode mode = mode_of(s);
  const bool same_flow = w.mode != WatchMode::kIdle && w.identity == s.identity;

  if (mode == WatchMode::kIdle) {
    // Everything acknowledged (or nothing to send): that is progress, whatever came before.
    v.store_backoff = (s.flags & abi::kFlowActive) && s.rto_backoff != 0;
    w = FlowWatch{};
    return v;
  }

  if (!same_flow) {
    // A new episode (or a new flow in a reused slot): resume the stored backoff, time from now.
    w = FlowWatch{};
    w.mode = mode;
    w.identity = s.identity;
    w.backoff = static_cast<uint8_t>(std::min({s.rto_backoff, p.max_backoff, 255u}));
    w.ack_bytes = s.cnt_rx_ack_bytes;
    w.snd_nxt = s.tx_next_seq;
    w.wait_start_us = now_us;
    w.last_look_us = now_us;
    v.store_backoff = w.backoff != s.rto_backoff;
    v.recheck_at_us = now_us + timeout(w, s, p);
    return v;
  }

  const bool acked = s.cnt_rx_ack_bytes != w.ack_bytes;
  if (acked || mode != w.mode) {
    // Progress. While the same data stayed in flight since the last look, the RTO restarts at
    // the ACK itself (RFC 6298 5.3); if the pipe may have drained and refilled in between, or
    // the mode changed, the new wait starts now (late by at most one look, never early).
    uint64_t start = now_us;
    const bool continuous = mode == WatchMode::kRetransmit && w.mode == WatchMode::kRetransmit &&
                            wire::seq_lt(snd_una(s), w.snd_nxt);
    if (continuous) {
      auto ack_at = widen(s.last_ack_us, now_us);
      if (ack_at && *ack_at > w.last_look_us) start = *ack_at;
    }
    v.store_backoff = w.backoff != 0 || s.rto_backoff != 0;
    w.mode = mode;
    w.backoff = 0;
    w.wait_start_us = start;
  }
  w.ack_bytes = s.cnt_rx_ack_bytes;
  w.snd_nxt = s.tx_next_seq;
  w.last_look_us = now_us;

  const uint64_t due = w.wait_start_us + timeout(w, s, p);
  if (now_us < due) {
    v.recheck_at_us = due;
    return v;
  }
  v.action =
      mode == WatchMode::kRetransmit ? Verdict::Action::kRetransmit : Verdict::Action::kWindowProbe;
  w.backoff = static_cast<uint8_t>(std::min({w.backoff + 1u, p.max_backoff, 255u}));
  w.wait_start_us = now_us;
  v.store_backoff = true;
  v.recheck_at_us = now_us + timeout(w, s, p);
  return v;
}

}  // namespace vtas::timer
