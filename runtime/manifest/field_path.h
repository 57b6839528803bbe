// FieldPath: a field of a manifest named step by step ("actor[2].backoff.max_ms"), used to
// say where a problem is (the message text and, through ManifestLocations, the file
// position) and to reach a field by reflection from a dotted name ("tas.cc_rexmit_ints").
// Used by the manifest validator and the command line; no other callers expected.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string>
#include <string_view>
#include <vector>

namespace vtas {

struct FieldStep {
  const google::protobuf::FieldDescriptor* field = nullptr;
  int index = -1;  // element of a repeated field; -1 for a singular one
};

class FieldPath {
 public:
  FieldPath() = default;

  // A copy with one more step.
  FieldPath child(const google::protobuf::FieldDescriptor* field, int index = -1) const;
  // Looks the field up by name in the message type of the last step (or `root`).
  FieldPath child(const google::protobuf::Descriptor* root, std::string_view name,
                  int index = -1) const;

  const std::vector<FieldStep>& steps() const { return steps_; }
  bool empty() const { return steps_.empty(); }
  // "actor[2].backoff.max_ms"
  std::string to_string() const;

 private:
  std::vector<FieldStep> steps_;
};

// Resolves "tas.cc_rexmit_ints" from `root` (all steps singular except maybe the last).
// Empty result if a name does not exist or a middle step is not a singular message.
std::vector<const google::protobuf::FieldDescriptor*> resolve_dotted_path(
    const google::protobuf::Descriptor* root, std::string_view dotted);

// The message holding the last field of `fields`, or nullptr if a middle message is unset
// (then the field holds its schema default).
const google::protobuf::Message* find_holder(
    const google::protobuf::Message& root,
    const std::vector<const google::protobuf::FieldDescriptor*>& fields);
// Same, creating the middle messages.
google::protobuf::Message* mutable_holder(
    google::protobuf::Message* root,
    const std::vector<const google::protobuf::FieldDescriptor*>& fields);

}  // namespace vtas
