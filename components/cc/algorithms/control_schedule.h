// When the cc actor runs control steps: per flow every --cc-control-interval RTTs, and
// globally at most one round per --cc-control-granularity microseconds. Pure functions over
// times the actor passes in (microseconds of one monotonic clock); the actor keeps the time
// of its last round and each flow's last step (CcFlowState::last_step_us).
//
// How the granularity is made real (TAS computed it only for the block timeout; the check in
// cc_poll was disabled with `if (0 && ...)`): the actor runs a *round* -- one pass that steps
// every flow that is due -- only when round_allowed() says so, and sleeps until
// next_wakeup_us() otherwise. So no flow is stepped twice within one granularity, and the
// actor wakes at most once per granularity for control work however many flows it has; a
// flow's step period is its interval rounded up to the next round.
#pragma once

#include <cstdint>
#include <optional>

#include "components/cc/algorithms/params.h"

namespace vtas::cc {

// The RTT a flow is scheduled by: its sample, or --tcp-rtt-init while it has none.
uint32_t schedule_rtt_us(const Params& params, uint32_t rtt_us);

// A flow's step period: --cc-control-interval x RTT.
uint64_t control_period_us(const Params& params, uint32_t rtt_us);

// When the flow's next step is due.
uint64_t flow_due_at_us(const Params& params, uint64_t last_step_us, uint32_t rtt_us);

// Whether the flow's step is due at `now_us`: now - last_step >= interval x rtt. A last step
// in the future (a record left by a crash, not from this clock) counts as due, so such a flow
// is not left uncontrolled.
bool flow_due(const Params& params, uint64_t last_step_us, uint32_t rtt_us, uint64_t now_us);

// Whether a round may run at `now_us`: none ran yet, or the last one is at least
// --cc-control-granularity ago.
bool round_allowed(const Params& params, std::optional<uint64_t> last_round_us, uint64_t now_us);

// When the actor should wake for its next round: the earliest flow due time, but not before
// the granularity allows a round. nullopt when there is no flow (sleep until a message).
std::optional<uint64_t> next_wakeup_us(const Params& params, std::optional<uint64_t> last_round_us,
                                       std::optional<uint64_t> earliest_flow_due_us);

// The poll timeout for a wake-up time: 0 if it has passed.
uint64_t sleep_for_us(uint64_t wakeup_us, uint64_t now_us);

}  // namespace vtas::cc
