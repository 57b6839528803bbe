#include "runtime/manifest/resolve_manifest.h"

#include "runtime/manifest/manifest_loader.h"

namespace vtas {

Result<manifest::Manifest> resolve_manifest(const CommandLine& command_line,
                                            const ManifestRules& rules,
                                            const std::string& default_path) {
  std::string path = command_line.manifest_path.value_or(default_path);
  auto loaded = load_manifest_file(path, rules);
  if (!loaded.ok()) return loaded.error();
  if (command_line.overrides.empty()) return loaded;
  manifest::Manifest manifest = std::move(loaded).value();
  if (auto applied = apply_overrides(command_line, &manifest); !applied.ok()) {
    return applied.error();
  }
  // The file was valid alone; what fails now comes from a flag contradicting it.
  if (auto valid = validate_manifest(manifest, rules, path + " with command-line options");
      !valid.ok()) {
    return valid.error();
  }
  return manifest;
}

}  // namespace vtas
