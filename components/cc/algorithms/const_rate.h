// const-rate (--cc=const-rate): every flow at --cc-const-rate kbps, 0 = unlimited (TAS's
// default). Reached through algorithm_impl(Algorithm::kConstRate); see cc_algorithm.h.
//
// A step sets the rate to the current --cc-const-rate (TAS set it only when the flow started,
// so a changed parameter never reached running flows), keeps the RTT for the schedule, and
// measures the rate the flow uses, so that a switch to another algorithm can continue an
// unlimited flow at the speed it runs instead of at the other algorithm's initial rate.
#pragma once

#include "components/cc/algorithms/cc_algorithm.h"

namespace vtas::cc {

const CcAlgorithm& const_rate_algorithm();

}  // namespace vtas::cc
