#include "runtime/envelope.h"

#include <google/protobuf/descriptor.h>

namespace vtas {
namespace {

const google::protobuf::FieldDescriptor* body_field(const Envelope& envelope) {
  if (envelope.body_case() == Envelope::BODY_NOT_SET) return nullptr;
  return Envelope::descriptor()->FindFieldByNumber(static_cast<int>(envelope.body_case()));
}

}  // namespace

std::string body_name(const Envelope& envelope) {
  const auto* field = body_field(envelope);
  return field ? field->name() : std::string();
}

std::string body_type(const Envelope& envelope) {
  const auto* field = body_field(envelope);
  return field ? field->message_type()->full_name() : std::string();
}

bool decode_envelope(const void* data, size_t size, Envelope* out) {
  if (size > static_cast<size_t>(INT32_MAX)) return false;
  return out->ParseFromArray(data, static_cast<int>(size));
}

const char* kind_name(MessageKind kind) {
  switch (kind) {
    case MESSAGE_KIND_REQUEST: return "REQUEST";
    case MESSAGE_KIND_RESPONSE: return "RESPONSE";
    case MESSAGE_KIND_EVENT: return "EVENT";
    default: return "UNSPECIFIED";
  }
}

std::string describe(const Envelope& envelope) {
  const Header& h = envelope.header();
  std::string out = h.sender() + " -> " + h.receiver() + " " + kind_name(h.kind()) + "#" +
                    std::to_string(h.correlation_id()) + " " + body_name(envelope);
  return out;
}

}  // namespace vtas
