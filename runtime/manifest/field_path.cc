#include "runtime/manifest/field_path.h"

namespace vtas {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

FieldPath FieldPath::child(const FieldDescriptor* field, int index) const {
  FieldPath out = *this;
  out.steps_.push_back(FieldStep{field, index});
  return out;
}

FieldPath FieldPath::child(const Descriptor* root, std::string_view name, int index) const {
  const Descriptor* type = steps_.empty() ? root : steps_.back().field->message_type();
  const FieldDescriptor* field = type ? type->FindFieldByName(std::string(name)) : nullptr;
  return child(field, index);
}

std::string FieldPath::to_string() const {
  std::string out;
  for (const auto& step : steps_) {
    if (!out.empty()) out += '.';
    out += step.field ? step.field->name() : "?";
    if (step.index >= 0) out += "[" + std::to_string(step.index) + "]";
  }
  return out;
}

std::vector<const FieldDescriptor*> resolve_dotted_path(const Descriptor* root,
                                                        std::string_view dotted) {
  std::vector<const FieldDescriptor*> fields;
  const Descriptor* type = root;
  while (!dotted.empty()) {
    if (type == nullptr) return {};
    size_t dot = dotted.find('.');
    const FieldDescriptor* field = type->FindFieldByName(std::string(dotted.substr(0, dot)));
    if (field == nullptr) return {};
    fields.push_back(field);
    if (dot == std::string_view::npos) break;
    if (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return {};
    type = field->message_type();
    dotted = dotted.substr(dot + 1);
  }
  return fields;
}

const Message* find_holder(const Message& root, const std::vector<const FieldDescriptor*>& fields) {
  const Message* holder = &root;
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    const auto* reflection = holder->GetReflection();
    if (!reflection->HasField(*holder, fields[i])) return nullptr;
    holder = &reflection->GetMessage(*holder, fields[i]);
  }
  return holder;
}

Message* mutable_holder(Message* root, const std::vector<const FieldDescriptor*>& fields) {
  Message* holder = root;
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    holder = holder->GetReflection()->MutableMessage(holder, fields[i]);
  }
  return holder;
}

}  // namespace vtas
