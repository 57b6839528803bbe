// Reading a capture file in vtas-trace (-r): every record through the same TraceOutput as a
// live stream. Used by vtas-trace's main() only.
#pragma once

#include <string>

#include "runtime/result.h"
#include "runtime/trace/capture_file.h"
#include "tools/vtas-trace/trace_output.h"

namespace vtas::trace {

// True if `write_path` names the same existing file as `read_path` (another spelling or a
// link), which -w would destroy while -r reads it.
bool same_file(const std::string& read_path, const std::string& write_path);

// Feeds the records of `reader` to `output` until the end of the file, the count, or a
// SIGINT/SIGTERM on `signal_fd`. A broken file is an error naming where it breaks, after
// everything before the break went to `output`.
Status run_replay(CaptureReader& reader, TraceOutput& output, int signal_fd);

}  // namespace vtas::trace
