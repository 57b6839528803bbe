// CcAlgorithm: the one interface behind which the four TAS congestion-control algorithms live
// (dctcp_rate.h, dctcp_win.h, timely.h, const_rate.h), and what a control step gives them.
// Callers outside components/cc/algorithms use congestion_control.h, which picks the
// algorithm from the record's tag; the algorithm units and their tests use this header.
//
// Pure: an algorithm reads Params and ControlSignals and updates the record it is given;
// no clock, no I/O. Rates in kbps (0 = unlimited), times in microseconds.
#pragma once

#include <cstdint>

#include "components/cc/algorithms/cc_flow_state.h"
#include "components/cc/algorithms/params.h"

namespace vtas::cc {

// TAS's CONF_MSS: dctcp-win's segment size when the flow's own is not known.
inline constexpr uint32_t kDefaultMss = 1400;

// What happened in one counter interval of one flow: differences of the fast path's counters
// since the previous step (modulo 2^32).
struct CounterDelta {
  uint32_t acks = 0;
  uint32_t ack_bytes = 0;
  uint32_t ecn_bytes = 0;
  uint32_t drops = 0;            // loss events (every go-back-N, timeouts included)
  uint32_t rexmit_timeouts = 0;  // retransmission timeouts

  // Loss events to react to. In vtas a timeout's go-back-N is counted in both counters
  // (fastpath: go_back_n() counts a drop, then the timeout counts), so the larger of the two
  // counts each event once and still sees timeouts from a fast path that counts only those.
  uint32_t loss_events() const { return drops > rexmit_timeouts ? drops : rexmit_timeouts; }
};

// Everything one control step of one flow sees.
struct ControlSignals {
  CounterDelta delta;
  uint32_t rtt_us = 0;           // the flow's RTT estimate (fast path rtt_us), 0 = no sample
  uint64_t elapsed_us = 0;       // since the flow's previous step
  uint32_t mss = kDefaultMss;    // the flow's segment size (dctcp-win)
  uint32_t tx_buffer_bytes = 0;  // the flow's send buffer, caps dctcp-win's window; 0 = none
};

// What one step did.
enum class StepOutcome : uint8_t {
  kRateSet,       // the algorithm decided a rate (it may equal the previous one)
  kAccumulating,  // dctcp-rate: fewer than --cc-dctcp-minpkts ACKs so far, nothing decided
  kNoRttSample,   // timely: the flow has no RTT sample yet, nothing decided
  kBadState,      // the record is not usable (see check_resumable); nothing changed
};

// How a flow comes under an algorithm without starting over (a switch of algorithm at run
// time, or a restarted cc that found no usable record).
struct Handover {
  uint32_t rate_kbps = 0;  // what the flow is allowed now, 0 = unlimited
  // Whether rate_kbps already reflects congestion feedback (the previous algorithm had left
  // slow start). If not, the new algorithm may still probe in slow start.
  bool congestion_seen = false;
  // DCTCP alpha, carried between dctcp-rate and dctcp-win (valid when has_alpha).
  bool has_alpha = false;
  uint64_t alpha_q32 = 0;
};

class CcAlgorithm {
 public:
  virtual ~CcAlgorithm() = default;

  virtual Algorithm id() const = 0;
  // A new connection (TAS's *_init): the algorithm's initial rate and slow start. `mss` is
  // the flow's segment size. The common part of `state` is already filled in.
  virtual void start(const Params& params, uint32_t mss, CcFlowState& state) const = 0;
  // Take over a running flow from `handover` (the common part of `state`, act_avg_kbps and
  // rtt_us included, is already filled in). Never collapses the rate to the initial one: an
  // unlimited flow continues at max(measured rate, initial rate), or stays unlimited until
  // its first step has measured it when nothing was measured yet.
  virtual void take_over(const Params& params, const Handover& handover,
                         CcFlowState& state) const = 0;
  // One control step. Sets state.rate_kbps (unless the outcome says nothing was decided).
  virtual StepOutcome step(const Params& params, const ControlSignals& signals,
                           CcFlowState& state) const = 0;
  // The parameters changed at run time: apply at once what must not wait for the next step
  // (a new const rate, a raised floor, a new link bandwidth).
  virtual void retune(const Params& params, CcFlowState& state) const = 0;
  // This algorithm's view for a handover to another one.
  virtual Handover handover(const CcFlowState& state) const = 0;
};

// The implementation of `algorithm` (stateless singletons).
const CcAlgorithm& algorithm_impl(Algorithm algorithm);

}  // namespace vtas::cc
