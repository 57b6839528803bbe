#include "runtime/trace/trace_filter.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cctype>

namespace vtas::trace {
namespace {

const google::protobuf::OneofDescriptor& body_oneof() {
  // The oneof is part of the compiled-in schema; its absence is a build error, not input.
  return *Envelope::descriptor()->FindOneofByName("body");
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace

void TraceFilter::add_actor(std::string actor) {
  actors_.insert(std::move(actor));
}

Status TraceFilter::add_type(std::string_view name) {
  const auto& oneof = body_oneof();
  bool found = false;
  for (int i = 0; i < oneof.field_count(); ++i) {
    const auto* field = oneof.field(i);
    const auto* type = field->message_type();
    if (name == field->name() || (type && (name == type->full_name() || name == type->name()))) {
      body_fields_.insert(field->number());
      found = true;
    }
  }
  if (found) return Status::success();
  return make_error(
      "unknown message type '" + std::string(name) +
      "'; use a body field name or a type name, one of: " + join(known_types(), ", "));
}

Status TraceFilter::add_kind(std::string_view kind) {
  const std::string k = lower(kind);
  if (k == "request") {
    kinds_.insert(MESSAGE_KIND_REQUEST);
  } else if (k == "response") {
    kinds_.insert(MESSAGE_KIND_RESPONSE);
  } else if (k == "event") {
    kinds_.insert(MESSAGE_KIND_EVENT);
  } else {
    return make_error("unknown message kind '" + std::string(kind) +
                      "'; use request, response or event");
  }
  return Status::success();
}

bool TraceFilter::matches(const Envelope& envelope) const {
  if (!actors_.empty() && !actors_.contains(envelope.header().sender()) &&
      !actors_.contains(envelope.header().receiver())) {
    return false;
  }
  if (!body_fields_.empty() && !body_fields_.contains(static_cast<int>(envelope.body_case()))) {
    return false;
  }
  if (!kinds_.empty() && !kinds_.contains(envelope.header().kind())) return false;
  return true;
}

std::vector<std::string> TraceFilter::known_types() {
  const auto& oneof = body_oneof();
  std::vector<std::string> out;
  for (int i = 0; i < oneof.field_count(); ++i) {
    const auto* field = oneof.field(i);
    std::string entry = field->name();
    if (field->message_type()) entry += " (" + field->message_type()->full_name() + ")";
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace vtas::trace
