// Shared by the manifest tests: the kinds the vtas registry will know, and a loader helper.
#pragma once

#include <set>
#include <string>

#include "runtime/manifest/manifest_loader.h"

namespace vtas::testing_manifest {

inline ManifestRules all_kinds() {
  return ManifestRules{std::set<std::string>{"diag-echo", "diag-pinger", "fastpath", "conn",
                                             "timer", "arp", "cc", "scale", "proxy-host"}};
}

// The errors of loading `text` as "m.txtpb", or "" if it loads.
inline std::string errors_of(const std::string& text, const ManifestRules& rules = all_kinds()) {
  auto loaded = load_manifest_text(text, "m.txtpb", rules);
  return loaded.ok() ? std::string() : loaded.error().message;
}

// A valid actor line to complete manifests whose point is elsewhere.
inline constexpr char kEchoActor[] = "actor { name: \"echo\" kind: \"diag-echo\" }\n";

}  // namespace vtas::testing_manifest
