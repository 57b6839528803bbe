// Human-readable renderings of vtasctl answers: the status table and the stats listing.
#pragma once

#include <string>

#include "proto/ctl.pb.h"

namespace vtas {

std::string render_status(const ctl::CtlResponse& response);
std::string render_stats(const ctl::CtlResponse& response);
// "1.5s", "3m12s", "2h05m".
std::string format_duration_ms(uint64_t ms);

}  // namespace vtas
