// Fuzz target: the `vtas` command line (runtime/manifest/command_line.h), TAS flags and vtas's
// own. The input is split into arguments at NUL and newline bytes; what parses is applied to a
// manifest and validated, as the supervisor's main does (without reading any file).
#include <string>
#include <vector>

#include "runtime/manifest/command_line.h"
#include "runtime/manifest/manifest_validator.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/quiet_logs.h"

namespace vtas::fuzz {

int fuzz_command_line(const uint8_t* data, size_t size) {
  quiet_logs();
  FuzzInput in(data, size);
  const std::string_view text = in.rest();
  std::vector<std::string> args{"vtas"};
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\0' || text[i] == '\n') {
      args.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  argv.push_back(nullptr);

  Result<CommandLine> parsed = parse_command_line(static_cast<int>(args.size()), argv.data());
  if (!parsed.ok()) {
    VTAS_FUZZ_CHECK(!parsed.error().message.empty(), "a refused command line without a reason");
    return 0;
  }
  for (const Override& o : parsed->overrides) {
    VTAS_FUZZ_CHECK(o.parameter != nullptr, "an override without its parameter");
  }
  manifest::Manifest m;
  if (Status applied = apply_overrides(*parsed, &m); !applied.ok()) {
    VTAS_FUZZ_CHECK(!applied.error().message.empty(), "a refused override without a reason");
    return 0;
  }
  (void)validate_manifest(m, ManifestRules{}, "fuzz command line");
  return 0;
}

}  // namespace vtas::fuzz
