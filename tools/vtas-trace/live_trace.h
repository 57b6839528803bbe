// Attaching vtas-trace to a running instance: find and check its trace socket, subscribe,
// and feed every envelope to a TraceOutput until the count is reached or a signal arrives.
// Used by vtas-trace's main() only.
#pragma once

#include <string>

#include "runtime/result.h"
#include "tools/vtas-trace/trace_options.h"
#include "tools/vtas-trace/trace_output.h"

namespace vtas::trace {

// The ipc:// endpoint of the instance's trace stream, from --instance or --runtime-dir (the
// same rule as the supervisor's Directory::trace_out_endpoint()).
std::string trace_endpoint(const TraceOptions& options);

// Checks that a supervisor listens at the endpoint before subscribing (ZeroMQ would wait
// silently forever): a missing socket file, a stale one, or one this user may not open is an
// error saying which.
Status check_trace_socket(const TraceOptions& options);

// Subscribes to everything and loops until `output` is done or `signal_fd` (a signalfd for
// SIGINT/SIGTERM) becomes readable. Flushes the capture file whenever the socket is drained.
Status run_live(const TraceOptions& options, TraceOutput& output, int signal_fd);

}  // namespace vtas::trace
