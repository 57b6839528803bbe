#include "components/cc/algorithms/control_schedule.h"

#include <algorithm>

namespace vtas::cc {

uint32_t schedule_rtt_us(const Params& params, uint32_t rtt_us) {
  return rtt_us != 0 ? rtt_us : params.rtt_init_us;
}

uint64_t control_period_us(const Params& params, uint32_t rtt_us) {
  return uint64_t{params.control_interval_rtts} * schedule_rtt_us(params, rtt_us);
}

uint64_t flow_due_at_us(const Params& params, uint64_t last_step_us, uint32_t rtt_us) {
  return last_step_us + control_period_us(params, rtt_us);
}

bool flow_due(const Params& params, uint64_t last_step_us, uint32_t rtt_us, uint64_t now_us) {
  if (last_step_us > now_us) return true;
  return now_us - last_step_us >= control_period_us(params, rtt_us);
}

bool round_allowed(const Params& params, std::optional<uint64_t> last_round_us, uint64_t now_us) {
  if (!last_round_us || *last_round_us > now_us) return true;
  return now_us - *last_round_us >= params.control_granularity_us;
}

std::optional<uint64_t> next_wakeup_us(const Params& params, std::optional<uint64_t> last_round_us,
                                       std::optional<uint64_t> earliest_flow_due_us) {
  if (!earliest_flow_due_us) return std::nullopt;
  if (!last_round_us) return *earliest_flow_due_us;
  return std::max(*earliest_flow_due_us, *last_round_us + params.control_granularity_us);
}

uint64_t sleep_for_us(uint64_t wakeup_us, uint64_t now_us) {
  return wakeup_us > now_us ? wakeup_us - now_us : 0;
}

}  // namespace vtas::cc
