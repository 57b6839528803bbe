// Round-trip time estimation for the TCP core (RFC 6298 smoothing): srtt in rtt_us, variance
// in rtt_var_us, both read by `cc` and `timer`. Samples come from the timestamp echo, or for
// peers without timestamps from one timed segment per RTT (see receive.cc / transmit.h).
#pragma once

#include <cstdint>

#include "components/fastpath/abi/flow_state.h"
#include "components/fastpath/tcp/flow_state_ops.h"

namespace vtas::tcp {

// Folds one RTT sample (us) into the estimate. Samples above kMaxRttSampleUs are ignored (as in
// TAS: on a data-centre path they are delayed ACKs of a stalled app or garbage echoes, and one
// of them would dominate srtt for many RTTs). A sample of 0 counts as 1 us: 0 means "none yet".
inline void add_rtt_sample(abi::FlowState& fs, uint32_t sample_us) {
  if (sample_us > kMaxRttSampleUs) return;
  if (sample_us == 0) sample_us = 1;
  uint32_t srtt = fs.rtt_us;
  uint32_t var = fs.rtt_var_us;
  if (srtt == 0) {
    srtt = sample_us;
    var = sample_us / 2;
  } else {
    uint32_t delta = srtt > sample_us ? srtt - sample_us : sample_us - srtt;
    var = (3 * var + delta) / 4;
    srtt = (7 * srtt + sample_us) / 8;
  }
  store_shared(fs.rtt_us, srtt);
  store_shared(fs.rtt_var_us, var);
}

}  // namespace vtas::tcp
