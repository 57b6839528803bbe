// CcFlowState: one flow's congestion-control state, laid out to live in the `cc` actor's own
// shared-memory segment (one 128-byte record per flow slot), so that a restarted `cc` resumes
// every flow where it was instead of collapsing rates to their initial values.
//
// This header is an ABI: the layout is fixed by the static_asserts below, the record is
// trivially copyable and has no padding, and `magic` + `version` + `algorithm` tell a
// restarted actor whose state it finds. Anything else in the record may be garbage after a
// crash (a write torn by kill -9, a slot of another flow): check_resumable() says whether a
// record may be used, and every algorithm accepts any byte pattern without undefined
// behaviour. Only the cc actor writes these records; the fast path never maps them.
//
// Who calls what: the cc actor creates records with congestion_control.h (start_flow,
// adopt_flow), updates them with step()/control_step(), and writes the returned record into
// its segment as a whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace vtas::cc {

inline constexpr uint16_t kCcStateMagic = 0xCC57;  // "CC ST(ate)"; 0 means an unused slot
inline constexpr uint8_t kCcStateVersion = 1;      // bump on any layout change

// CcFlowState::flags bits.
enum CcFlags : uint32_t {
  kCcSlowStart = 1u << 0,  // the algorithm is in slow start (dctcp-rate, dctcp-win, timely)
};

// Absolute values of the fast path's monotonic per-flow counters (abi::FlowState
// cnt_rx_acks, cnt_rx_ack_bytes, cnt_rx_ecn_bytes, cnt_tx_drops, cnt_rexmit_timeouts).
// They wrap freely; differences are taken modulo 2^32.
struct FlowCounters {
  uint32_t acks = 0;             // segments with ACK received
  uint32_t ack_bytes = 0;        // bytes newly acknowledged
  uint32_t ecn_bytes = 0;        // of those, acknowledged with ECE
  uint32_t drops = 0;            // loss events (go-back-N: fast retransmit or timeout) not
                                 // undone as spurious (cnt_tx_drops - cnt_tx_undos)
  uint32_t rexmit_timeouts = 0;  // retransmission timeouts
  bool operator==(const FlowCounters&) const = default;
};
static_assert(sizeof(FlowCounters) == 20);

// ---- per-algorithm parts: 64 bytes each, one of them in use (CcFlowState::algorithm) -------

struct DctcpRateState {
  uint64_t alpha_q32;  // DCTCP alpha, the EWMA of the ECN-marked fraction, Q32
  // ACK information gathered while fewer than --cc-dctcp-minpkts ACKs arrived.
  uint64_t pending_ack_bytes;
  uint64_t pending_ecn_bytes;
  uint64_t pending_us;  // the time those ACKs span (so the measured rate is right)
  uint32_t pending_acks;
  uint32_t reserved[7];
};

struct DctcpWinState {
  uint64_t alpha_q32;     // DCTCP alpha, Q32
  uint32_t window_bytes;  // congestion window, at least one MSS
  uint32_t reserved[13];
};

struct TimelyState {
  int64_t rtt_diff_ns;  // EWMA of the RTT difference between steps (ns)
  // ACK information gathered across steps without an RTT sample, for the measured rate.
  uint64_t pending_ack_bytes;
  uint64_t pending_us;
  uint32_t rtt_prev_us;  // the previous RTT sample, 0 = none yet (no gradient)
  uint32_t hai_count;    // consecutive steps with gradient <= 0 (HAI from the 5th)
  uint32_t reserved[8];
};

struct ConstRateState {
  uint32_t reserved[16];
};

union AlgorithmState {
  DctcpRateState dctcp_rate;
  DctcpWinState dctcp_win;
  TimelyState timely;
  ConstRateState const_rate;
};

struct alignas(64) CcFlowState {
  // ---- line 0: identity, what every algorithm shares, counter snapshot ----------------------
  uint16_t magic;         // kCcStateMagic
  uint8_t version;        // kCcStateVersion
  uint8_t algorithm;      // Algorithm (params.h)
  uint32_t checksum;      // FNV-1a over the record with this field zero (see seal())
  uint64_t flow_key;      // the actor's identity for the flow owning the slot
  uint64_t last_step_us;  // `now` of the last control step (or of the start)
  uint32_t rate_kbps;     // the rate decided last; 0 = unlimited
  uint32_t rtt_us;        // the RTT the last step used (TAS cc_rtt)
  uint32_t act_avg_kbps;  // EWMA (7/8) of the measured sending rate
  uint32_t flags;         // CcFlags
  FlowCounters seen;      // counters at the last step: the next step's deltas start here
  uint32_t reserved0;
  // ---- line 1: the algorithm's own state -----------------------------------------------------
  AlgorithmState algo;
};

static_assert(sizeof(DctcpRateState) == 64);
static_assert(sizeof(DctcpWinState) == 64);
static_assert(sizeof(TimelyState) == 64);
static_assert(sizeof(ConstRateState) == 64);
static_assert(sizeof(AlgorithmState) == 64);
static_assert(sizeof(CcFlowState) == 128);
static_assert(alignof(CcFlowState) == 64);
static_assert(std::is_trivially_copyable_v<CcFlowState>);
static_assert(std::is_standard_layout_v<CcFlowState>);
static_assert(std::has_unique_object_representations_v<CcFlowState>);  // no padding bytes
static_assert(offsetof(CcFlowState, magic) == 0);
static_assert(offsetof(CcFlowState, version) == 2);
static_assert(offsetof(CcFlowState, algorithm) == 3);
static_assert(offsetof(CcFlowState, checksum) == 4);
static_assert(offsetof(CcFlowState, flow_key) == 8);
static_assert(offsetof(CcFlowState, last_step_us) == 16);
static_assert(offsetof(CcFlowState, rate_kbps) == 24);
static_assert(offsetof(CcFlowState, rtt_us) == 28);
static_assert(offsetof(CcFlowState, act_avg_kbps) == 32);
static_assert(offsetof(CcFlowState, flags) == 36);
static_assert(offsetof(CcFlowState, seen) == 40);
static_assert(offsetof(CcFlowState, reserved0) == 60);
static_assert(offsetof(CcFlowState, algo) == 64);
static_assert(offsetof(DctcpRateState, alpha_q32) == 0);
static_assert(offsetof(DctcpRateState, pending_ack_bytes) == 8);
static_assert(offsetof(DctcpRateState, pending_ecn_bytes) == 16);
static_assert(offsetof(DctcpRateState, pending_us) == 24);
static_assert(offsetof(DctcpRateState, pending_acks) == 32);
static_assert(offsetof(DctcpWinState, alpha_q32) == 0);
static_assert(offsetof(DctcpWinState, window_bytes) == 8);
static_assert(offsetof(TimelyState, rtt_diff_ns) == 0);
static_assert(offsetof(TimelyState, pending_ack_bytes) == 8);
static_assert(offsetof(TimelyState, pending_us) == 16);
static_assert(offsetof(TimelyState, rtt_prev_us) == 24);
static_assert(offsetof(TimelyState, hai_count) == 28);

// The checksum of a record as seal() would store it.
uint32_t state_checksum(const CcFlowState& state);
// Stamps magic, version and checksum. Every function that returns a record seals it.
void seal(CcFlowState& state);

// Whether a record found in the segment may be resumed for the flow `flow_key`.
enum class ResumeCheck : uint8_t {
  kResumable,         // ours, intact, this flow's
  kBlank,             // never written (magic 0)
  kForeignLayout,     // another magic or layout version
  kUnknownAlgorithm,  // the algorithm byte is none of the four
  kOtherFlow,         // written for another flow that used the slot before
  kTorn,              // checksum mismatch: a write interrupted by a crash, or corruption
};
ResumeCheck check_resumable(const CcFlowState& state, uint64_t flow_key);
std::string_view describe(ResumeCheck check);

inline bool in_slow_start(const CcFlowState& s) {
  return (s.flags & kCcSlowStart) != 0;
}
inline void set_slow_start(CcFlowState& s, bool on) {
  s.flags = on ? (s.flags | kCcSlowStart) : (s.flags & ~uint32_t{kCcSlowStart});
}

}  // namespace vtas::cc
