// The `vtas` command line: every TAS flag (`--ip-addr=10.0.0.1/24 --cc=timely ...`) plus
// vtas's own (--manifest, --instance, ...). Flags map onto manifest fields through the
// parameter table and override what the manifest file says. Like TAS (getopt_long),
// `--flag=value` and `--flag value` are equivalent. Called by the supervisor's main.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proto/manifest.pb.h"
#include "runtime/manifest/parameter_table.h"
#include "runtime/result.h"

namespace vtas {

// One flag that sets a manifest field, parsed and checked.
struct Override {
  const Parameter* parameter = nullptr;  // its row in parameter_table()
  std::string argument;                  // as written, "--cc=timely", for messages
  ParameterValue value;
};

struct CommandLine {
  std::optional<std::string> manifest_path;  // --manifest
  std::vector<Override> overrides;           // in command-line order; the last one wins
  std::optional<int> ready_fd;               // --ready-fd
  bool help = false;
  bool version = false;
};

// argv[0] is the program name. Every problem is reported, one per line:
//   --cc-rexmit-ints=abc: not a number (allowed: 1..1000)
//   unknown option --foo (see vtas --help)
Result<CommandLine> parse_command_line(int argc, const char* const* argv);

// Sets the manifest fields of every override, in order. Repeatable flags (--ip-route,
// --dpdk-extra) append to the manifest's list. The result still needs validate_manifest():
// a flag can contradict the file (--arp-timeout above its arp_timeout_max).
Status apply_overrides(const CommandLine& command_line, manifest::Manifest* manifest);

// `vtas --help`: every flag grouped as TAS prints them, with unit, default (from the
// schema), allowed range and manifest field.
std::string command_line_help();

}  // namespace vtas
