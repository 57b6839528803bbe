// Params: the congestion-control settings of TAS (--cc*, --tcp-rtt-init, --tcp-link-bw) in the
// units the algorithms compute with. Built once from the manifest's TasParameters (and again
// when a policy change arrives); read by every unit in components/cc.
//
// The member defaults are proto/manifest.proto's defaults (a test checks that an empty
// TasParameters converts to Params{}). Units as TAS: rates in kbps, times in microseconds.
// Fractions are Q32 (see fixed_point.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "components/cc/algorithms/fixed_point.h"
#include "runtime/result.h"

namespace vtas::manifest {
class TasParameters;
}

namespace vtas::cc {

// The algorithm of a flow. Values equal proto CongestionControl's, and are stored as one byte
// in CcFlowState::algorithm, so they never change.
enum class Algorithm : uint8_t {
  kDctcpRate = 1,  // --cc=dctcp-rate: DCTCP acting on the rate (TAS's default)
  kDctcpWin = 2,   // --cc=dctcp-win: DCTCP's window, converted to a rate for enforcement
  kTimely = 3,     // --cc=timely: TIMELY's RTT-gradient rate law
  kConstRate = 4,  // --cc=const-rate: every flow at --cc-const-rate (0 = unlimited)
};

// The TAS spelling ("dctcp-rate", ...), or "unknown".
std::string_view algorithm_name(Algorithm algorithm);
// From the stored byte; nullopt for anything that is not one of the four.
std::optional<Algorithm> algorithm_from_byte(uint8_t value);

struct Params {
  Algorithm algorithm = Algorithm::kDctcpRate;  // --cc: the algorithm of new flows

  // Scheduling.
  uint32_t control_granularity_us = 50;  // --cc-control-granularity: min gap between rounds
  uint32_t control_interval_rtts = 2;    // --cc-control-interval: a flow's step period in RTTs
  uint32_t rtt_init_us = 50;             // --tcp-rtt-init: the RTT until a flow has a sample
  uint32_t link_bw_gbps = 10;            // --tcp-link-bw: caps dctcp-win's window_to_rate

  // dctcp-rate and dctcp-win.
  uint64_t dctcp_weight_q32 = kQ32One / 16;  // --cc-dctcp-weight g, the EWMA weight of alpha
  uint32_t dctcp_init_kbps = 10000;          // --cc-dctcp-init: dctcp-rate's first rate
  uint32_t dctcp_step_kbps = 10000;          // --cc-dctcp-step: additive increase per step
  // --cc-dctcp-mimd: the multiplicative increase factor in Q32 (1.5 -> 1.5 * 2^32), 0 = off
  // (additive increase by dctcp_step_kbps).
  uint64_t dctcp_mimd_q32 = 0;
  uint32_t dctcp_min_kbps = 10000;  // --cc-dctcp-min: dctcp-rate's floor (TAS docs, not code)
  uint32_t dctcp_minpkts = 50;      // --cc-dctcp-minpkts: ACKs to gather before a step acts

  // const-rate.
  uint32_t const_rate_kbps = 0;  // --cc-const-rate, 0 = unlimited

  // timely.
  uint32_t timely_tlow_us = 30;           // --cc-timely-tlow
  uint32_t timely_thigh_us = 150;         // --cc-timely-thigh
  uint32_t timely_step_kbps = 10000;      // --cc-timely-step: additive increase
  uint32_t timely_init_kbps = 10000;      // --cc-timely-init: the first rate
  uint64_t timely_alpha_q32 = 85899346;   // --cc-timely-alpha 0.02 (0.02 * 2^32, rounded)
  uint64_t timely_beta_q32 = 3435973837;  // --cc-timely-beta 0.8 (0.8 * 2^32, rounded)
  uint32_t timely_min_rtt_us = 11;        // --cc-timely-minrtt: normalises the gradient
  uint32_t timely_min_rate_kbps = 10000;  // --cc-timely-minrate: timely's floor

  bool operator==(const Params&) const = default;
};

// Checks every range the algorithms rely on (no division by zero, fractions within [0, 1],
// tlow < thigh). The error names the manifest field, the value and the allowed range.
Status validate(const Params& params);

// From the manifest (an unset field takes the proto default), validated.
Result<Params> params_from_proto(const manifest::TasParameters& tas);

}  // namespace vtas::cc
