// Loading a manifest: read the file, parse Protocol Buffers text format, validate. Every
// problem comes back in one error, one line each, as `file:line:col: message` (1-based,
// columns in bytes), so an editor can jump to it:
//   m.txtpb:12:9: actor[2].name: duplicate actor name "echo" (first defined at 8:9)
// Called by the supervisor (with the registry's kinds in ManifestRules), by the `actor`
// sub-command reading the resolved manifest, and by tools.
#pragma once

#include <string>
#include <string_view>

#include "proto/manifest.pb.h"
#include "runtime/manifest/manifest_validator.h"
#include "runtime/result.h"

namespace vtas {

// Larger manifests are refused: a manifest is a page of text, a huge file is a mistake.
inline constexpr size_t kMaxManifestBytes = 1024 * 1024;

// `path: cannot read: <strerror>` when the file cannot be read.
Result<manifest::Manifest> load_manifest_file(const std::string& path, const ManifestRules& rules);

// Same for text already in memory; `display_name` starts every message.
Result<manifest::Manifest> load_manifest_text(std::string_view text,
                                              const std::string& display_name,
                                              const ManifestRules& rules);

// Text format that load_manifest_text reads back to an equal manifest (the supervisor
// writes the resolved manifest this way for its actor processes).
std::string manifest_to_text(const manifest::Manifest& manifest);

}  // namespace vtas
