// The manifest an instance runs: the file the command line names (or the default), with the
// command-line overrides applied and the result validated again. Called by the supervisor's
// main once, before it starts anything.
#pragma once

#include <string>

#include "proto/manifest.pb.h"
#include "runtime/manifest/command_line.h"
#include "runtime/manifest/manifest_validator.h"
#include "runtime/result.h"

namespace vtas {

// `default_path` is used when the command line has no --manifest.
Result<manifest::Manifest> resolve_manifest(const CommandLine& command_line,
                                            const ManifestRules& rules,
                                            const std::string& default_path);

}  // namespace vtas
