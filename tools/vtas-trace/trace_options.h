// The command line of vtas-trace, parsed into TraceOptions. Separate from main() so the
// parsing rules are unit-tested; only vtas-trace and its tests use it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/result.h"
#include "runtime/trace/trace_filter.h"

namespace vtas::trace {

struct TraceOptions {
  std::string instance = "vtas";  // --instance: attaches to /run/vtas/<instance>
  std::string runtime_dir;        // --runtime-dir: attaches there instead; "" = from instance
  bool json = false;              // --json: one JSON object per line instead of text
  TraceFilter filter;             // --actor, --type, --kind
  uint64_t count = 0;             // -c: stop after this many matching messages; 0 = never
  std::string write_path;         // -w: also keep matching envelopes in this capture file
  std::string read_path;          // -r: read this capture instead of attaching
  bool quiet = false;             // -q: do not print messages (with -w: only write them)
  bool help = false;              // --help

  bool live() const { return read_path.empty(); }
};

// Parses the arguments after the program name. Errors name the offending argument.
Result<TraceOptions> parse_trace_options(const std::vector<std::string>& args);

// The --help text, including the message types --type accepts.
std::string trace_usage();

}  // namespace vtas::trace
