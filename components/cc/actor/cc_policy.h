// CcPolicy: the run-time policy side of the cc actor -- which TasParameters fields a
// SetParams may change, merging such a change into the parameters in effect, algorithm names,
// and the text forms cc_flow_query answers with. Pure functions; used by the cc actor only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "components/cc/algorithms/params.h"
#include "proto/manifest.pb.h"
#include "runtime/result.h"

namespace vtas::cc {

// The TasParameters fields cc applies at run time: cc, cc_control_granularity,
// cc_control_interval, cc_dctcp_*, cc_const_rate, cc_timely_*, tcp_rtt_init, tcp_link_bw.
// (cc_rexmit_ints is the timer actor's.) Comma-separated, for error messages.
std::string settable_fields();

// The cc fields of `tas`, every one of them set (to the value in effect: its default if it
// was unset), and nothing else.
manifest::TasParameters cc_fields_of(const manifest::TasParameters& tas);

// `current` with every field set in `update` taken over. An error names a field of `update`
// that is not a cc field; nothing is validated beyond that (params_from_proto does it).
Result<manifest::TasParameters> merge_cc_fields(const manifest::TasParameters& current,
                                                const manifest::TasParameters& update);

// "dctcp-rate", "dctcp-win", "timely", "const-rate" -> Algorithm.
std::optional<Algorithm> algorithm_from_name(std::string_view name);
manifest::CongestionControl to_proto(Algorithm algorithm);

// "10.0.0.1:80" from network-order address and port.
std::string endpoint_text(uint32_t ip_network_order, uint16_t port_network_order);

}  // namespace vtas::cc
