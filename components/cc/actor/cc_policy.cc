#include "components/cc/actor/cc_policy.h"

#include <arpa/inet.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <vector>

namespace vtas::cc {
namespace {

using google::protobuf::FieldDescriptor;

bool is_cc_field(const FieldDescriptor* field) {
  const std::string& name = field->name();
  if (name == "cc_rexmit_ints") return false;  // the timer actor's
  return name == "cc" || name.rfind("cc_", 0) == 0 || name == "tcp_rtt_init" ||
         name == "tcp_link_bw";
}

std::vector<const FieldDescriptor*> cc_fields() {
  std::vector<const FieldDescriptor*> out;
  const auto* d = manifest::TasParameters::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    if (is_cc_field(d->field(i))) out.push_back(d->field(i));
  }
  return out;
}

// Copies the value `from` has for `field` (its default when unset) into `to`, setting it.
void copy_value(const manifest::TasParameters& from, manifest::TasParameters& to,
                const FieldDescriptor* field) {
  const auto* in = from.GetReflection();
  const auto* out = to.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_UINT32:
      out->SetUInt32(&to, field, in->GetUInt32(from, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out->SetUInt64(&to, field, in->GetUInt64(from, field));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      out->SetDouble(&to, field, in->GetDouble(from, field));
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      out->SetEnumValue(&to, field, in->GetEnumValue(from, field));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->SetBool(&to, field, in->GetBool(from, field));
      break;
    default:
      break;  // no cc field has another type
  }
}

}  // namespace

std::string settable_fields() {
  std::string out;
  for (const auto* f : cc_fields()) {
    if (!out.empty()) out += ", ";
    out += f->name();
  }
  return out;
}

manifest::TasParameters cc_fields_of(const manifest::TasParameters& tas) {
  manifest::TasParameters out;
  for (const auto* f : cc_fields()) copy_value(tas, out, f);
  return out;
}

Result<manifest::TasParameters> merge_cc_fields(const manifest::TasParameters& current,
                                                const manifest::TasParameters& update) {
  std::vector<const FieldDescriptor*> set;
  update.GetReflection()->ListFields(update, &set);
  manifest::TasParameters merged = current;
  for (const auto* f : set) {
    if (!is_cc_field(f)) {
      return make_error("cc: tas." + f->name() +
                        " is not a congestion-control parameter cc can change at run time "
                        "(settable: " +
                        settable_fields() + ")");
    }
    copy_value(update, merged, f);
  }
  if (!update.GetReflection()->GetUnknownFields(update).empty()) {
    return make_error("cc: the parameters carry fields this build does not know");
  }
  return merged;
}

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
  for (Algorithm a :
       {Algorithm::kDctcpRate, Algorithm::kDctcpWin, Algorithm::kTimely, Algorithm::kConstRate}) {
    if (algorithm_name(a) == name) return a;
  }
  return std::nullopt;
}

manifest::CongestionControl to_proto(Algorithm algorithm) {
  return static_cast<manifest::CongestionControl>(static_cast<int>(algorithm));
}

std::string endpoint_text(uint32_t ip_network_order, uint16_t port_network_order) {
  char text[INET_ADDRSTRLEN] = {};
  in_addr addr{};
  addr.s_addr = ip_network_order;
  if (inet_ntop(AF_INET, &addr, text, sizeof text) == nullptr) return "?";
  return std::string(text) + ":" + std::to_string(ntohs(port_network_order));
}

}  // namespace vtas::cc
