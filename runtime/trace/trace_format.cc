#include "runtime/trace/trace_format.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>

#include <cinttypes>
#include <cstdio>
#include <optional>

#include "runtime/envelope.h"

namespace vtas::trace {
namespace {

using google::protobuf::FieldDescriptor;

// proto/envelope.proto gives body fields numbers from 100 up; an unknown field there is the
// body of a message type this build does not know yet.
constexpr int kFirstBodyFieldNumber = 100;

const FieldDescriptor* body_field(const Envelope& envelope) {
  if (envelope.body_case() == Envelope::BODY_NOT_SET) return nullptr;
  return Envelope::descriptor()->FindFieldByNumber(static_cast<int>(envelope.body_case()));
}

std::optional<int> unknown_body_number(const Envelope& envelope) {
  const auto& unknown = envelope.GetReflection()->GetUnknownFields(envelope);
  for (int i = 0; i < unknown.field_count(); ++i) {
    if (unknown.field(i).number() >= kFirstBodyFieldNumber) return unknown.field(i).number();
  }
  return std::nullopt;
}

// Actor names come from other processes; a control character must not break the
// one-line-per-message promise of the text format.
std::string escape_controls(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

std::string format_monotonic(uint64_t ns) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%" PRIu64 ".%06" PRIu64, ns / 1000000000u,
                (ns % 1000000000u) / 1000u);
  return buf;
}

std::string body_label(const Envelope& envelope) {
  if (const auto* field = body_field(envelope)) return field->name();
  if (auto number = unknown_body_number(envelope)) {
    return "(unknown body #" + std::to_string(*number) + ")";
  }
  return "(no body)";
}

std::string format_text(const Envelope& envelope) {
  const Header& h = envelope.header();
  std::string out = format_monotonic(h.timestamp_ns());
  out += ' ';
  out += escape_controls(h.sender());
  out += " -> ";
  out += escape_controls(h.receiver());
  out += ' ';
  out += kind_name(h.kind());
  out += '#';
  out += std::to_string(h.correlation_id());
  out += ' ';
  out += body_label(envelope);
  std::string body;
  if (const auto* field = body_field(envelope)) {
    body = envelope.GetReflection()->GetMessage(envelope, field).ShortDebugString();
  }
  out += body.empty() ? " { }" : " { " + body + " }";
  return out;
}

std::string json_quote(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string format_json(const Envelope& envelope) {
  const Header& h = envelope.header();
  const auto* field = body_field(envelope);
  std::string out = "{\"ts_ns\":" + std::to_string(h.timestamp_ns());
  out += ",\"sender\":" + json_quote(h.sender());
  out += ",\"receiver\":" + json_quote(h.receiver());
  out += ",\"kind\":" + json_quote(kind_name(h.kind()));
  out += ",\"correlation_id\":" + std::to_string(h.correlation_id());
  out += ",\"incarnation\":" + std::to_string(h.incarnation());
  out += ",\"type\":" + json_quote(field ? field->message_type()->full_name() : "");
  out += ",\"field\":" + json_quote(field ? field->name() : "");
  if (field == nullptr) {
    if (auto number = unknown_body_number(envelope)) {
      out += ",\"unknown_body_field\":" + std::to_string(*number);
    }
    out += ",\"body\":null}";
    return out;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string body;
  auto status = google::protobuf::util::MessageToJsonString(
      envelope.GetReflection()->GetMessage(envelope, field), &body, options);
  if (status.ok()) {
    out += ",\"body\":" + body + "}";
  } else {
    // Only types JSON cannot express (an Any of an unknown type) end up here; show the
    // reason rather than dropping the message.
    out += ",\"body\":null,\"body_error\":" + json_quote(std::string(status.message())) + "}";
  }
  return out;
}

}  // namespace vtas::trace
