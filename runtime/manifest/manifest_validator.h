// Semantic checks of a manifest: what the schema cannot say (names, references between
// actors, ranges of every TAS parameter, timeouts that contradict each other). The loader
// runs it on every file it reads, with positions; the supervisor runs it again after the
// command line changed the manifest (validate_manifest), without them.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "proto/manifest.pb.h"
#include "runtime/manifest/field_path.h"
#include "runtime/manifest/manifest_locations.h"
#include "runtime/result.h"

namespace vtas {

// What the caller knows beyond the schema.
struct ManifestRules {
  // Actor kinds the registry can create (ActorRegistry::kinds()). nullopt: kinds are not
  // checked, for tools that read a manifest without creating actors.
  std::optional<std::set<std::string>> known_kinds;
};

// Names an actor cannot take: they name the supervisor's own endpoints and files in the
// runtime directory (supervisor.sock, ctl.sock, trace.sock, trace-in.sock) and the tools.
inline constexpr std::string_view kReservedActorNames[] = {"supervisor", "vtasctl", "trace",
                                                           "trace-in", "ctl"};
// A unix socket path holds sizeof(sockaddr_un::sun_path) - 1 bytes.
inline constexpr size_t kMaxUnixSocketPath = 107;

struct ManifestIssue {
  FieldPath where;      // what the position points at; empty: the top of the file
  std::string message;  // starts with the field path: "actor[2].name: duplicate ..."
};

// Every problem found, in manifest order. `locations` (may be null) only serves messages
// that mention another position ("first defined at 8:9").
std::vector<ManifestIssue> find_manifest_issues(const manifest::Manifest& manifest,
                                                const ManifestRules& rules,
                                                const ManifestLocations* locations);

// At most this many issues are printed; a last line counts the rest. A broken generated
// file should not bury the terminal.
inline constexpr size_t kMaxReportedIssues = 100;

// One line per issue, "name:line:col: message", sorted by position. Without locations:
// "name: message".
std::string format_manifest_issues(const std::vector<ManifestIssue>& issues,
                                   std::string_view display_name,
                                   const ManifestLocations* locations);

// Checks a manifest that has no source positions (built in code, or after overrides).
// `origin` starts every line ("m.txtpb with command-line overrides").
Status validate_manifest(const manifest::Manifest& manifest, const ManifestRules& rules,
                         std::string_view origin);

}  // namespace vtas
