#include "runtime/manifest/command_line.h"

#include "runtime/manifest/field_path.h"

namespace vtas {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

namespace {

constexpr size_t kHelpColumn = 32;

std::string flag_with_value(std::string_view written_name, std::string_view value) {
  return "--" + std::string(written_name) + "=" + std::string(value);
}

// Stores `value` into `field` of `holder`; false if the two do not match (a table bug).
bool store(const ParameterValue& value, Message* holder, const FieldDescriptor* field) {
  const auto* reflection = holder->GetReflection();
  bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      if (repeated || !std::holds_alternative<bool>(value)) return false;
      reflection->SetBool(holder, field, std::get<bool>(value));
      return true;
    case FieldDescriptor::CPPTYPE_UINT32: {
      const auto* number = std::get_if<uint64_t>(&value);
      if (repeated || number == nullptr || *number > UINT32_MAX) return false;
      reflection->SetUInt32(holder, field, static_cast<uint32_t>(*number));
      return true;
    }
    case FieldDescriptor::CPPTYPE_UINT64:
      if (repeated || !std::holds_alternative<uint64_t>(value)) return false;
      reflection->SetUInt64(holder, field, std::get<uint64_t>(value));
      return true;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      if (repeated || !std::holds_alternative<double>(value)) return false;
      reflection->SetDouble(holder, field, std::get<double>(value));
      return true;
    case FieldDescriptor::CPPTYPE_ENUM:
      if (repeated || !std::holds_alternative<EnumValue>(value)) return false;
      reflection->SetEnumValue(holder, field, std::get<EnumValue>(value).number);
      return true;
    case FieldDescriptor::CPPTYPE_STRING: {
      const auto* text = std::get_if<std::string>(&value);
      if (text == nullptr) return false;
      if (repeated) {
        reflection->AddString(holder, field, *text);
      } else {
        reflection->SetString(holder, field, *text);
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const auto* route = std::get_if<manifest::Route>(&value);
      if (route == nullptr || !repeated || field->message_type() != manifest::Route::descriptor()) {
        return false;
      }
      reflection->AddMessage(holder, field)->CopyFrom(*route);
      return true;
    }
    default:
      return false;
  }
}

void record(const Parameter& parameter, std::string argument, ParameterValue value,
            CommandLine* out) {
  switch (parameter.type) {
    case ValueType::kHelp:
      out->help = true;
      break;
    case ValueType::kVersion:
      out->version = true;
      break;
    case ValueType::kManifestPath:
      out->manifest_path = std::get<std::string>(value);
      break;
    case ValueType::kFileDescriptor:
      out->ready_fd = static_cast<int>(std::get<uint64_t>(value));  // range-checked to INT_MAX
      break;
    default:
      out->overrides.push_back(Override{&parameter, std::move(argument), std::move(value)});
  }
}

std::string pad_to(std::string text, size_t column) {
  if (text.size() + 1 >= column) return text + "\n" + std::string(column, ' ');
  return text + std::string(column - text.size(), ' ');
}

std::string help_entry(const Parameter& parameter) {
  std::string flag = "  --" + std::string(parameter.flag);
  if (takes_value(parameter)) flag += "=" + std::string(parameter.metavar);
  std::string text = pad_to(flag, kHelpColumn) + std::string(parameter.help);
  if (!parameter.unit.empty()) text += " (" + std::string(parameter.unit) + ")";
  if (is_repeatable(parameter)) text += " [repeatable]";
  text += "\n";
  if (parameter.type == ValueType::kHelp || parameter.type == ValueType::kVersion) return text;
  std::string details = "default: " + default_text(parameter);
  if (takes_value(parameter)) details += "; allowed: " + allowed_text(parameter);
  if (!parameter.field.empty()) details += "; manifest: " + std::string(parameter.field);
  if (!parameter.alias.empty()) details += "; also --" + std::string(parameter.alias);
  return text + std::string(kHelpColumn, ' ') + details + "\n";
}

}  // namespace

Result<CommandLine> parse_command_line(int argc, const char* const* argv) {
  CommandLine out;
  std::string errors;
  auto fail = [&](const std::string& message) { errors += (errors.empty() ? "" : "\n") + message; };
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == nullptr) continue;
    std::string_view argument = argv[i];
    if (argument.size() <= 2 || argument.substr(0, 2) != "--") {
      if (!argument.empty() && argument[0] == '-' && argument != "-") {
        fail("unknown option " + std::string(argument) + " (see vtas --help)");
      } else {
        fail("unexpected argument \"" + std::string(argument) +
             "\": vtas takes options only (see vtas --help)");
      }
      continue;
    }
    size_t equals = argument.find('=');
    std::string_view name =
        argument.substr(2, equals == std::string_view::npos ? argument.npos : equals - 2);
    const Parameter* parameter = find_parameter(name);
    if (parameter == nullptr) {
      fail("unknown option --" + std::string(name) + " (see vtas --help)");
      continue;
    }
    if (!takes_value(*parameter)) {
      if (equals != std::string_view::npos) {
        fail(std::string(argument) + ": takes no value");
        continue;
      }
      record(*parameter, std::string(argument), ParameterValue(true), &out);
      continue;
    }
    std::string_view value;
    if (equals != std::string_view::npos) {
      value = argument.substr(equals + 1);
    } else if (i + 1 < argc && argv[i + 1] != nullptr) {
      value = argv[++i];  // as getopt_long: the next argument, whatever it looks like
    }
    if (value.empty()) {
      fail("--" + std::string(name) + ": missing value (allowed: " + allowed_text(*parameter) +
           ")");
      continue;
    }
    std::string written = flag_with_value(name, value);
    auto parsed = parse_parameter_value(*parameter, value);
    if (!parsed.ok()) {
      fail(written + ": " + parsed.error().message + " (allowed: " + allowed_text(*parameter) +
           ")");
      continue;
    }
    record(*parameter, std::move(written), std::move(parsed).value(), &out);
  }
  if (!errors.empty()) return make_error(errors);
  return out;
}

Status apply_overrides(const CommandLine& command_line, manifest::Manifest* manifest) {
  for (const auto& override_ : command_line.overrides) {
    if (override_.parameter == nullptr) return make_error("override without a flag");
    auto fields = parameter_fields(*override_.parameter);
    if (fields.empty()) {
      return make_error(override_.argument + ": the flag table names no manifest field for it");
    }
    Message* holder = mutable_holder(manifest, fields);
    if (!store(override_.value, holder, fields.back())) {
      return make_error(override_.argument + ": its value does not fit manifest field " +
                        std::string(override_.parameter->field));
    }
  }
  return Status::success();
}

std::string command_line_help() {
  std::string text =
      "Usage: vtas [OPTION]... [--manifest=FILE]\n"
      "\n"
      "Runs the vtas instance a manifest describes (Protocol Buffers text format, see\n"
      "manifests/ and docs/parameters.md). Each option overrides the manifest field it\n"
      "names; --flag=VALUE and --flag VALUE are equivalent. Times are in microseconds (us),\n"
      "rates in kbps (kilobits per second), defaults come from proto/manifest.proto.\n";
  constexpr FlagGroup kOrder[] = {
      FlagGroup::kMemory,     FlagGroup::kTcp,           FlagGroup::kCongestionControl,
      FlagGroup::kIp,         FlagGroup::kArp,           FlagGroup::kFastPath,
      FlagGroup::kHostKernel, FlagGroup::kMiscellaneous, FlagGroup::kVtas};
  for (FlagGroup group : kOrder) {
    text += "\n" + std::string(group_title(group)) + ":\n";
    for (const auto& parameter : parameter_table()) {
      if (parameter.group == group) text += help_entry(parameter);
    }
  }
  return text;
}

}  // namespace vtas
