// vtasctl: control a running vtas instance.
//
//   vtasctl [--instance NAME | --runtime-dir DIR] [--json] [--timeout MS] COMMAND
//     status                     every actor: placement, state, pid, restarts, uptime, messages
//     restart ACTOR              stop and start one actor; returns when it is ready again
//     stop ACTOR | start ACTOR   stop one actor (it stays stopped) / start a stopped one
//     log-level ACTOR|* LEVEL    trace, debug, info, warn, error, critical, off
//     stats                      counters of every running actor
//     shutdown                   stop the instance (actors in reverse start order)
//     call ACTOR MESSAGE [TEXT]  send MESSAGE (an envelope body field, e.g. ping_request) with
//                                fields in protobuf text format to ACTOR and print the answer
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proto/ctl.pb.h"
#include "runtime/envelope.h"
#include "tools/vtasctl/ctl_client.h"
#include "tools/vtasctl/status_table.h"

namespace {

constexpr char kUsage[] =
    "usage: vtasctl [--instance NAME | --runtime-dir DIR] [--json] [--timeout MS] COMMAND\n"
    "commands:\n"
    "  status                     every actor: placement, state, pid, restarts, uptime, messages\n"
    "  restart ACTOR              stop and start one actor; returns once it is ready again\n"
    "  stop ACTOR                 stop one actor (it stays stopped until `start`)\n"
    "  start ACTOR                start a stopped actor\n"
    "  log-level ACTOR|* LEVEL    trace, debug, info, warn, error, critical, off\n"
    "  stats                      counters of every running actor\n"
    "  shutdown                   stop the instance in reverse start order\n"
    "  call ACTOR MESSAGE [TEXT]  send an envelope body (e.g. ping_request 'sequence: 1') to an\n"
    "                             actor and print its answer\n"
    "Without --instance or --runtime-dir: $VTAS_RUNTIME_DIR if set (as libvtas), else /run/vtas/vtas.\n";

struct Options {
  std::string instance = "vtas";
  std::string runtime_dir;
  bool json = false;
  std::optional<long> timeout_ms;
  std::vector<std::string> words;
};

int usage_error(const std::string& message) {
  std::cerr << "vtasctl: " << message << "\n" << kUsage;
  return 64;
}

std::optional<vtas::supervisor::LogLevel> parse_level(const std::string& text) {
  static const std::map<std::string, vtas::supervisor::LogLevel> levels = {
      {"trace", vtas::supervisor::LOG_LEVEL_TRACE}, {"debug", vtas::supervisor::LOG_LEVEL_DEBUG},
      {"info", vtas::supervisor::LOG_LEVEL_INFO},   {"warn", vtas::supervisor::LOG_LEVEL_WARN},
      {"error", vtas::supervisor::LOG_LEVEL_ERROR}, {"critical", vtas::supervisor::LOG_LEVEL_CRITICAL},
      {"off", vtas::supervisor::LOG_LEVEL_OFF}};
  auto found = levels.find(text);
  if (found == levels.end()) return std::nullopt;
  return found->second;
}

std::string to_json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

// Builds an envelope whose body is the field `field_name`, filled from protobuf text.
vtas::Result<vtas::Envelope> build_body(const std::string& field_name, const std::string& text) {
  vtas::Envelope envelope;
  const auto* oneof = vtas::Envelope::descriptor()->FindOneofByName("body");
  const google::protobuf::FieldDescriptor* field = nullptr;
  std::string names;
  for (int i = 0; i < oneof->field_count(); ++i) {
    if (oneof->field(i)->name() == field_name) field = oneof->field(i);
    names += (names.empty() ? "" : ", ") + oneof->field(i)->name();
  }
  if (!field) return vtas::make_error("unknown message '" + field_name + "' (messages: " + names + ")");
  auto* body = envelope.GetReflection()->MutableMessage(&envelope, field);
  if (!google::protobuf::TextFormat::ParseFromString(text, body)) {
    return vtas::make_error("cannot parse '" + text + "' as " + field->message_type()->full_name());
  }
  return envelope;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool instance_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      if (a == flag && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--json") {
      o.json = true;
    } else if (auto v = value("--instance")) {
      o.instance = *v;
      instance_given = true;
    } else if (auto v2 = value("--runtime-dir")) {
      o.runtime_dir = *v2;
    } else if (auto v3 = value("--timeout")) {
      o.timeout_ms = std::strtol(v3->c_str(), nullptr, 10);
    } else if (a.rfind("--", 0) == 0) {
      return usage_error("unknown option " + a);
    } else {
      o.words.push_back(a);
    }
  }
  if (o.words.empty()) return usage_error("no command given");
  // The same default as the apps' library: the instance VTAS_RUNTIME_DIR names.
  const char* env_dir = std::getenv("VTAS_RUNTIME_DIR");
  if (o.runtime_dir.empty() && !instance_given && env_dir != nullptr && *env_dir != '\0') {
    o.runtime_dir = env_dir;
  }
  if (o.runtime_dir.empty()) o.runtime_dir = "/run/vtas/" + o.instance;
  const std::string& command = o.words[0];
  auto need = [&](size_t n) { return o.words.size() == n + 1; };

  // Commands that wait for an actor to stop or start get more time by default.
  bool slow = command == "restart" || command == "stop" || command == "start";
  vtas::CtlClient client(o.runtime_dir, std::chrono::milliseconds(o.timeout_ms.value_or(slow ? 20000 : 5000)));

  if (command == "call") {
    if (o.words.size() < 3 || o.words.size() > 4) return usage_error("call needs ACTOR MESSAGE [TEXT]");
    auto envelope = build_body(o.words[2], o.words.size() == 4 ? o.words[3] : "");
    if (!envelope) return usage_error(envelope.error().message);
    envelope->mutable_header()->set_receiver(o.words[1]);
    auto answer = client.to_actor(o.words[1], std::move(*envelope));
    if (!answer) {
      std::cerr << "vtasctl: " << answer.error().message << "\n";
      return 1;
    }
    if (o.json) {
      std::cout << to_json(*answer) << "\n";
    } else {
      std::string text;
      google::protobuf::TextFormat::Printer printer;
      printer.SetSingleLineMode(true);
      printer.PrintToString(*answer, &text);
      std::cout << vtas::body_name(*answer) << " { " << text << "}\n";
    }
    bool failed = answer->has_ack() && !answer->ack().ok();
    return failed ? 1 : 0;
  }

  vtas::ctl::CtlRequest request;
  if (command == "status" && need(0)) {
    request.set_command(vtas::ctl::COMMAND_STATUS);
  } else if (command == "stats" && need(0)) {
    request.set_command(vtas::ctl::COMMAND_STATS);
  } else if (command == "shutdown" && need(0)) {
    request.set_command(vtas::ctl::COMMAND_SHUTDOWN);
  } else if ((command == "restart" || command == "stop" || command == "start") && need(1)) {
    request.set_command(command == "restart" ? vtas::ctl::COMMAND_RESTART
                        : command == "stop"  ? vtas::ctl::COMMAND_STOP
                                             : vtas::ctl::COMMAND_START);
    request.set_actor(o.words[1]);
  } else if (command == "log-level" && need(2)) {
    auto level = parse_level(o.words[2]);
    if (!level) return usage_error("unknown log level '" + o.words[2] + "' (trace, debug, info, warn, error, critical, off)");
    request.set_command(vtas::ctl::COMMAND_LOG_LEVEL);
    request.set_actor(o.words[1]);
    request.set_log_level(*level);
  } else {
    return usage_error("bad command line for '" + command + "'");
  }

  vtas::Envelope envelope;
  *envelope.mutable_ctl_request() = request;
  envelope.mutable_header()->set_receiver("supervisor");
  auto answer = client.to_supervisor(std::move(envelope));
  if (!answer) {
    std::cerr << "vtasctl: " << answer.error().message << "\n";
    return 1;
  }
  const vtas::ctl::CtlResponse& response = answer->ctl_response();
  if (o.json) {
    std::cout << to_json(response) << "\n";
  } else if (command == "status") {
    std::cout << vtas::render_status(response);
  } else if (command == "stats") {
    std::cout << vtas::render_stats(response);
  } else if (response.ok()) {
    if (!response.text().empty()) std::cout << response.text() << "\n";
    for (const auto& a : response.actors()) {
      std::cout << a.name() << ": incarnation " << a.incarnation() << ", pid " << a.pid()
                << ", restarts " << a.restarts() << "\n";
    }
  }
  if (!response.ok()) {
    std::cerr << "vtasctl: " << response.error() << "\n";
    return 1;
  }
  return 0;
}
