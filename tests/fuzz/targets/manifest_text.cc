// Fuzz target: the manifest loader (runtime/manifest): Protocol Buffers text format plus the
// semantic validator, on any text. Whatever it accepts must survive the round trip the
// supervisor makes for its actor processes (manifest_to_text, then load again: equal).
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstdio>
#include <string>

#include "runtime/manifest/manifest_loader.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/quiet_logs.h"

namespace vtas::fuzz {

int fuzz_manifest_text(const uint8_t* data, size_t size) {
  quiet_logs();
  const std::string_view text(reinterpret_cast<const char*>(data), data == nullptr ? 0 : size);
  const ManifestRules rules;  // kinds unchecked, as the tools read manifests
  Result<manifest::Manifest> loaded = load_manifest_text(text, "fuzz.txtpb", rules);
  if (!loaded.ok()) {
    VTAS_FUZZ_CHECK(!loaded.error().message.empty(), "a refused manifest without a reason");
    return 0;
  }
  const std::string written = manifest_to_text(*loaded);
  Result<manifest::Manifest> again = load_manifest_text(written, "rewritten.txtpb", rules);
  if (!again.ok()) std::fprintf(stderr, "%s\n", again.error().message.c_str());
  VTAS_FUZZ_CHECK(again.ok(), "the text of an accepted manifest does not load back");
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  VTAS_FUZZ_CHECK(differencer.Compare(*loaded, *again),
                  "an accepted manifest changed through manifest_to_text");
  return 0;
}

}  // namespace vtas::fuzz
