#include "runtime/manifest/manifest_validator.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "runtime/log.h"
#include "runtime/manifest/ipv4.h"
#include "runtime/manifest/parameter_table.h"
#include "runtime/manifest/unix_group.h"

namespace vtas {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

namespace {

constexpr std::string_view kFastpathKind = "fastpath";
constexpr std::string_view kDiagPingerKind = "diag-pinger";
constexpr std::string_view kDiagEchoKind = "diag-echo";
constexpr std::string_view kProxyHostKind = "proxy-host";
constexpr std::string_view kScaleKind = "scale";
// QEMU's ivshmem wants a power-of-two BAR; the fast path needs the channel plus 2 MiB-aligned
// app slices, which do not fit in 4 MiB. 64 GiB is far beyond any VM these machines host.
constexpr uint32_t kMinVmRegionMib = 8;
constexpr uint32_t kMaxVmRegionMib = 65536;
// VM ids are ivshmem peer ids: 16 bits, one of them the host's.
constexpr uint32_t kMaxVms = 65534;
// The pinger arms a timer of 1 s / rate_hz and allocates payload_bytes per ping.
constexpr uint32_t kMaxPingRateHz = 10'000;
constexpr uint32_t kMaxPingPayload = 1024 * 1024;
constexpr double kMaxBackoffMultiplier = 100;

// Files the supervisor itself binds in the runtime directory (runtime/directory.cc).
constexpr std::string_view kSupervisorSocketFiles[] = {"supervisor.sock", "ctl.sock", "trace.sock",
                                                       "trace-in.sock"};

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string format_real(double value) {
  char buffer[64];
  auto [end, error] =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
  if (error != std::errc()) return "?";
  std::string text(buffer, end);
  // Fixed notation keeps 10000000 readable; drop the zeros it adds to fractions.
  if (text.find('.') != std::string::npos) {
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
  }
  return text;
}

// A field's value as the manifest would write it.
std::string format_value(const Message& holder, const FieldDescriptor* field, int index) {
  const auto* r = holder.GetReflection();
  bool rep = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_UINT32:
      return std::to_string(rep ? r->GetRepeatedUInt32(holder, field, index)
                                : r->GetUInt32(holder, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(rep ? r->GetRepeatedUInt64(holder, field, index)
                                : r->GetUInt64(holder, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return format_real(rep ? r->GetRepeatedDouble(holder, field, index)
                             : r->GetDouble(holder, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(holder, field, index) : r->GetBool(holder, field)) ? "true"
                                                                                          : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return (rep ? r->GetRepeatedEnum(holder, field, index) : r->GetEnum(holder, field))->name();
    case FieldDescriptor::CPPTYPE_STRING:
      return quoted(rep ? r->GetRepeatedString(holder, field, index) : r->GetString(holder, field));
    default:
      return "{...}";
  }
}

double numeric_value(const Message& holder, const FieldDescriptor* field) {
  const auto* r = holder.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_UINT32:
      return r->GetUInt32(holder, field);
    case FieldDescriptor::CPPTYPE_UINT64:
      return static_cast<double>(r->GetUInt64(holder, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return r->GetDouble(holder, field);
    default:
      return 0;
  }
}

// In a manifest the algorithm is written as its enum name.
std::string manifest_allowed_text(const Parameter& parameter, const FieldDescriptor* field) {
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_ENUM) return allowed_text(parameter);
  std::string text;
  const auto* type = field->enum_type();
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() == 0) continue;
    text += (text.empty() ? "" : ", ") + type->value(i)->name();
  }
  return text;
}

// One side of a comparison between two fields of the same message.
struct Operand {
  FieldPath path;
  bool set = false;
  double value = 0;
  std::string text;

  // "heartbeat_interval_ms (100, the default)"
  std::string described() const {
    return path.to_string() + " (" + text + (set ? "" : ", the default") + ")";
  }
};

Operand operand(const Message& holder, const FieldPath& path) {
  const FieldDescriptor* field = path.steps().back().field;
  return Operand{path, holder.GetReflection()->HasField(holder, field),
                 numeric_value(holder, field), format_value(holder, field, -1)};
}

class Checker {
 public:
  Checker(const manifest::Manifest& manifest, const ManifestRules& rules,
          const ManifestLocations* locations)
      : manifest_(manifest), rules_(rules), locations_(locations) {}

  std::vector<ManifestIssue> run() {
    check_table_fields();
    check_runtime_dir();
    check_actors();
    check_supervision();
    check_routes();
    check_tas_relations();
    return std::move(issues_);
  }

 private:
  static FieldPath at(std::string_view name, int index = -1) {
    return FieldPath().child(manifest::Manifest::descriptor(), name, index);
  }
  static FieldPath at(const FieldPath& parent, std::string_view name, int index = -1) {
    return parent.child(manifest::Manifest::descriptor(), name, index);
  }

  void add(const FieldPath& where, const std::string& rest) {
    issues_.push_back(ManifestIssue{where, where.to_string() + ": " + rest});
    faulty_.insert(where.to_string());
  }
  void add_about(const FieldPath& where, const FieldPath& subject, const std::string& rest) {
    issues_.push_back(ManifestIssue{where, subject.to_string() + ": " + rest});
  }
  // " (first defined at 8:9)" when positions are known.
  std::string where_text(const std::string& lead, const FieldPath& path) const {
    if (locations_ == nullptr) return "";
    auto position = locations_->find(path);
    return position ? " (" + lead + " " + to_string(*position) + ")" : "";
  }

  // "low <= high" (or "<" when strict). Points at the value the user wrote; if both were
  // written, at the second of the pair.
  void require_order(const Operand& low, const Operand& high, bool strict) {
    bool ok = strict ? low.value < high.value : low.value <= high.value;
    // A value already reported (out of range) is not compared again.
    if (ok || faulty_.count(low.path.to_string()) || faulty_.count(high.path.to_string())) return;
    if (high.set || !low.set) {
      add(high.path,
          high.text + " must be " + (strict ? "greater than " : "at least ") + low.described());
    } else {
      add(low.path,
          low.text + " must be " + (strict ? "less than " : "at most ") + high.described());
    }
  }

  void require_positive(const Operand& value) {
    if (value.value <= 0) add(value.path, value.text + " must be greater than 0");
  }

  // Every manifest field a flag sets is held to the flag's range.
  void check_table_fields() {
    for (const auto& parameter : parameter_table()) {
      if (parameter.field.empty() || parameter.type == ValueType::kRoute) continue;
      auto fields = parameter_fields(parameter);
      if (fields.empty()) {
        issues_.push_back(
            ManifestIssue{FieldPath(), "internal error: the flag table names an unknown field " +
                                           std::string(parameter.field)});
        continue;
      }
      const Message* holder = find_holder(manifest_, fields);
      if (holder == nullptr) continue;
      const FieldDescriptor* field = fields.back();
      FieldPath base;
      for (size_t i = 0; i + 1 < fields.size(); ++i) base = base.child(fields[i]);
      const auto* reflection = holder->GetReflection();
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*holder, field); ++i) {
          check_table_value(parameter, *holder, field, i, base.child(field, i));
        }
      } else if (reflection->HasField(*holder, field)) {
        check_table_value(parameter, *holder, field, -1, base.child(field));
      }
    }
  }

  void check_table_value(const Parameter& parameter, const Message& holder,
                         const FieldDescriptor* field, int index, const FieldPath& path) {
    auto why = check_manifest_value(parameter, holder, field, index);
    if (!why) return;
    add(path, format_value(holder, field, index) + ": " + *why +
                  " (allowed: " + manifest_allowed_text(parameter, field) + ")");
  }

  void check_runtime_dir() {
    if (!manifest_.has_runtime_dir()) return;  // the default always fits valid names
    const std::string& dir = manifest_.runtime_dir();
    if (dir.empty() || dir[0] != '/') return;  // reported by the table check
    std::string longest_file;
    for (auto file : kSupervisorSocketFiles) {
      if (file.size() > longest_file.size()) longest_file = file;
    }
    for (const auto& actor : manifest_.actor()) {
      if (actor.name().size() + 5 > longest_file.size()) longest_file = actor.name() + ".sock";
    }
    std::string socket = dir + "/" + longest_file;
    if (socket.size() <= kMaxUnixSocketPath) return;
    add(at("runtime_dir"), quoted(dir) + ": too long for unix sockets: " + quoted(socket) + " is " +
                               std::to_string(socket.size()) + " bytes, at most " +
                               std::to_string(kMaxUnixSocketPath) +
                               " fit (use a shorter directory)");
  }

  std::string known_kinds_text() const {
    std::string text;
    for (const auto& kind : *rules_.known_kinds) text += (text.empty() ? "" : ", ") + kind;
    return text.empty() ? "none" : text;
  }

  void check_actors() {
    if (manifest_.actor_size() == 0) {
      add(at("actor"), "at least one actor is required (add an `actor { name: ... kind: ... }`)");
      return;
    }
    std::map<std::string, int> first_index;
    for (int i = 0; i < manifest_.actor_size(); ++i) check_actor(i, first_index);
    for (int i = 0; i < manifest_.actor_size(); ++i) check_diag(i, first_index);
    for (int i = 0; i < manifest_.actor_size(); ++i) check_proxy_host(i);
    for (int i = 0; i < manifest_.actor_size(); ++i) check_scale(i);
    check_fastpath_needs_address();
  }

  void check_actor(int i, std::map<std::string, int>& first_index) {
    const auto& actor = manifest_.actor(i);
    FieldPath path = at("actor", i);
    FieldPath name_path = at(path, "name");
    if (actor.name().empty()) {
      add_about(path, name_path, "required (a unique name, " + std::string(kNameRule) + ")");
    } else if (!is_valid_name(actor.name())) {
      add(name_path,
          quoted(actor.name()) + ": invalid name (allowed: " + std::string(kNameRule) + ")");
    } else if (std::find(std::begin(kReservedActorNames), std::end(kReservedActorNames),
                         actor.name()) != std::end(kReservedActorNames)) {
      std::string reserved;
      for (auto name : kReservedActorNames)
        reserved += (reserved.empty() ? "" : ", ") + std::string(name);
      add(name_path, quoted(actor.name()) + " is reserved (reserved: " + reserved + ")");
    } else if (auto [it, inserted] = first_index.emplace(actor.name(), i); !inserted) {
      add(name_path, "duplicate actor name " + quoted(actor.name()) +
                         where_text("first defined at", at(at("actor", it->second), "name")));
    }

    FieldPath kind_path = at(path, "kind");
    if (actor.kind().empty()) {
      std::string known = rules_.known_kinds ? " (known: " + known_kinds_text() + ")" : "";
      add_about(path, kind_path, "required" + known);
    } else if (rules_.known_kinds && rules_.known_kinds->count(actor.kind()) == 0) {
      add(kind_path,
          "unknown kind " + quoted(actor.kind()) + " (known: " + known_kinds_text() + ")");
    }

    if (actor.has_placement() && actor.placement() == manifest::PLACEMENT_UNSPECIFIED) {
      add(at(path, "placement"),
          "PLACEMENT_UNSPECIFIED is not a placement (use PLACEMENT_THREAD or PLACEMENT_PROCESS, "
          "or leave it out for PLACEMENT_PROCESS)");
    }
    if (actor.has_restart() && actor.restart() == manifest::RESTART_POLICY_UNSPECIFIED) {
      add(at(path, "restart"),
          "RESTART_POLICY_UNSPECIFIED is not a policy (use RESTART_POLICY_PERMANENT, "
          "RESTART_POLICY_TRANSIENT or RESTART_POLICY_TEMPORARY)");
    }
    if (actor.has_log_level() && !log::parse_level(actor.log_level())) {
      add(at(path, "log_level"),
          quoted(actor.log_level()) + ": unknown level (allowed: " + std::string(kLogLevels) + ")");
    }
    if (actor.has_binary()) {
      FieldPath binary_path = at(path, "binary");
      if (actor.binary().empty()) {
        add(binary_path, "empty (leave it out to run the vtas binary itself)");
      } else if (actor.placement() == manifest::PLACEMENT_THREAD) {
        add(binary_path,
            "only process-placed actors run a binary; this actor has "
            "PLACEMENT_THREAD");
      }
    }
    if (actor.has_backoff()) check_backoff(actor.backoff(), at(path, "backoff"));
  }

  void check_backoff(const manifest::Backoff& backoff, const FieldPath& path) {
    Operand multiplier = operand(backoff, at(path, "multiplier"));
    if (!(multiplier.value >= 1 && multiplier.value <= kMaxBackoffMultiplier)) {
      add(multiplier.path, multiplier.text + ": out of range (allowed: 1.." +
                               format_real(kMaxBackoffMultiplier) + ")");
    }
    require_order(operand(backoff, at(path, "initial_ms")), operand(backoff, at(path, "max_ms")),
                  /*strict=*/false);
  }

  // Kind-specific settings (diag, proxy_host, scale) on an actor of another kind.
  void add_settings_of_other_kind(const FieldPath& settings, const std::string& kinds,
                                  const std::string& what, const std::string& kind) {
    add(settings, "only " + kinds + " actors take " + what + " settings (this one is " +
                      quoted(kind) + ")");
  }

  void check_diag(int i, const std::map<std::string, int>& first_index) {
    const auto& actor = manifest_.actor(i);
    FieldPath path = at("actor", i);
    FieldPath diag_path = at(path, "diag");
    bool is_pinger = actor.kind() == kDiagPingerKind;
    if (actor.has_diag() && !is_pinger && actor.kind() != kDiagEchoKind) {
      add_settings_of_other_kind(diag_path, "diag-echo and diag-pinger", "diag", actor.kind());
      return;
    }
    if (!is_pinger) return;
    const auto& diag = actor.diag();
    FieldPath peer_path = at(diag_path, "peer");
    if (diag.peer().empty()) {
      add_about(actor.has_diag() ? diag_path : path, peer_path,
                "required for a diag-pinger: the name of the actor to ping "
                "(diag { peer: \"echo\" })");
    } else if (diag.peer() == actor.name()) {
      add(peer_path, quoted(diag.peer()) + ": a pinger cannot ping itself");
    } else if (first_index.count(diag.peer()) == 0) {
      add(peer_path, "no actor named " + quoted(diag.peer()) + " in this manifest");
    }
    if (diag.rate_hz() > kMaxPingRateHz) {
      add(at(diag_path, "rate_hz"), std::to_string(diag.rate_hz()) +
                                        ": out of range (allowed: 0.." +
                                        std::to_string(kMaxPingRateHz) + ")");
    }
    if (diag.payload_bytes() > kMaxPingPayload) {
      add(at(diag_path, "payload_bytes"), std::to_string(diag.payload_bytes()) +
                                              ": out of range (allowed: 0.." +
                                              std::to_string(kMaxPingPayload) + ")");
    }
  }

  void check_proxy_host(int i) {
    const auto& actor = manifest_.actor(i);
    if (!actor.has_proxy_host()) return;
    FieldPath path = at(at("actor", i), "proxy_host");
    if (actor.kind() != kProxyHostKind) {
      add_settings_of_other_kind(path, "proxy-host", "proxy_host", actor.kind());
      return;
    }
    const auto& settings = actor.proxy_host();
    if (settings.has_socket_path()) {
      const std::string& socket = settings.socket_path();
      if (socket.empty() || socket[0] != '/') {
        add(at(path, "socket_path"),
            quoted(socket) +
                ": not an absolute path (leave it out for <runtime_dir>/ivshmem.sock)");
      } else if (socket.size() > kMaxUnixSocketPath) {
        add(at(path, "socket_path"), quoted(socket) + ": " + std::to_string(socket.size()) +
                                         " bytes, at most " + std::to_string(kMaxUnixSocketPath) +
                                         " fit in a unix socket address (use a shorter path)");
      }
    }
    if (settings.has_socket_group()) {
      if (auto gid = resolve_group(settings.socket_group()); !gid) {
        add(at(path, "socket_group"), gid.error().message);
      }
    }
    uint32_t region = settings.region_size_mib();
    if (region < kMinVmRegionMib || region > kMaxVmRegionMib || (region & (region - 1)) != 0) {
      add(at(path, "region_size_mib"), std::to_string(region) + ": not a power of two in " +
                                           std::to_string(kMinVmRegionMib) + ".." +
                                           std::to_string(kMaxVmRegionMib) +
                                           " (QEMU's ivshmem needs a power of two, e.g. 256)");
    }
    if (settings.max_vms() == 0 || settings.max_vms() > kMaxVms) {
      add(at(path, "max_vms"), std::to_string(settings.max_vms()) + ": out of range (allowed: 1.." +
                                   std::to_string(kMaxVms) + ")");
    }
    require_positive(operand(settings, at(path, "max_apps")));
    require_positive(operand(settings, at(path, "max_contexts")));
  }

  void check_scale(int i) {
    const auto& actor = manifest_.actor(i);
    if (!actor.has_scale()) return;
    FieldPath path = at(at("actor", i), "scale");
    if (actor.kind() != kScaleKind) {
      add_settings_of_other_kind(path, "scale", "scale", actor.kind());
      return;
    }
    const auto& settings = actor.scale();
    const double up = settings.up_below_idle_cores();
    if (!(up >= 0 && up < 1)) {
      add(at(path, "up_below_idle_cores"), format_real(up) + ": out of range (allowed: 0 <= x < 1)");
    } else if (!(settings.down_above_idle_cores() > up + 1)) {
      FieldPath down = at(path, "down_above_idle_cores");
      add(down, format_real(settings.down_above_idle_cores()) + " must be more than up_below_idle_cores + 1 (" +
                    format_real(up + 1) +
                    "): a core just added brings one core of idle time, which would take it away again");
    }
    const uint32_t interval = settings.sample_interval_us();
    if (interval < 100 || interval > 1000000) {
      add(at(path, "sample_interval_us"),
          std::to_string(interval) + ": out of range (allowed: 100..1000000)");
    }
    if (settings.hold_samples() > 10000) {
      add(at(path, "hold_samples"),
          std::to_string(settings.hold_samples()) + ": out of range (allowed: 0..10000)");
    }
  }

  void check_fastpath_needs_address() {
    if (manifest_.network().has_ip_addr()) return;
    for (int i = 0; i < manifest_.actor_size(); ++i) {
      if (manifest_.actor(i).kind() != kFastpathKind) continue;
      FieldPath ip_path = at(at("network"), "ip_addr");
      add_about(manifest_.has_network() ? at("network") : at(at("actor", i), "kind"), ip_path,
                "required when a fastpath actor runs (actor " + quoted(manifest_.actor(i).name()) +
                    "), e.g. network { ip_addr: \"10.0.0.1/24\" }");
      return;
    }
  }

  void check_supervision() {
    const auto& supervision = manifest_.supervision();
    FieldPath path = at("supervision");
    Operand interval = operand(supervision, at(path, "heartbeat_interval_ms"));
    require_positive(interval);
    if (interval.value > 0) {
      require_order(interval, operand(supervision, at(path, "heartbeat_timeout_ms")), true);
    }
    require_positive(operand(supervision, at(path, "period_ms")));
    require_positive(operand(supervision, at(path, "ready_timeout_ms")));
    require_positive(operand(supervision, at(path, "stop_timeout_ms")));
  }

  void check_routes() {
    const auto& network = manifest_.network();
    auto local = parse_local_address(network.ip_addr());
    bool have_local = network.has_ip_addr() && local.ok();
    std::map<std::pair<uint32_t, uint8_t>, int> first_route;
    for (int i = 0; i < network.route_size(); ++i) {
      const auto& route = network.route(i);
      FieldPath path = at(at("network"), "route", i);
      FieldPath destination_path = at(path, "destination");
      FieldPath next_hop_path = at(path, "next_hop");
      if (route.destination().empty()) {
        add_about(path, destination_path, "required, e.g. destination: \"10.1.0.0/16\"");
      } else if (auto why = check_route_destination(route.destination())) {
        add(destination_path, quoted(route.destination()) + ": " + *why);
      } else {
        auto prefix = parse_route_destination(route.destination());
        auto [it, inserted] = first_route.emplace(std::pair(prefix->address, prefix->length), i);
        if (!inserted) {
          add(destination_path,
              "duplicate route to " + quoted(route.destination()) +
                  where_text("first at",
                             at(at(at("network"), "route", it->second), "destination")));
        }
      }
      if (route.next_hop().empty()) {
        add_about(path, next_hop_path, "required, e.g. next_hop: \"10.0.0.254\"");
      } else if (auto why = check_next_hop(route.next_hop())) {
        add(next_hop_path, quoted(route.next_hop()) + ": " + *why);
      } else if (have_local) {
        uint32_t hop = *parse_ipv4_address(route.next_hop());
        if (hop == local->address) {
          add(next_hop_path, quoted(route.next_hop()) + ": is the local address (network.ip_addr)");
        } else if (!local->contains(hop)) {
          add(next_hop_path, quoted(route.next_hop()) + ": not on the local network " +
                                 quoted(network.ip_addr()) + " (network.ip_addr), unreachable");
        }
      }
    }
  }

  void check_tas_relations() {
    const auto& tas = manifest_.tas();
    FieldPath path = at("tas");
    require_order(operand(tas, at(path, "arp_timeout")), operand(tas, at(path, "arp_timeout_max")),
                  false);
    require_order(operand(tas, at(path, "cc_timely_tlow")),
                  operand(tas, at(path, "cc_timely_thigh")), true);
  }

  const manifest::Manifest& manifest_;
  const ManifestRules& rules_;
  const ManifestLocations* locations_;
  std::vector<ManifestIssue> issues_;
  std::set<std::string> faulty_;  // paths with an issue
};

}  // namespace

std::vector<ManifestIssue> find_manifest_issues(const manifest::Manifest& manifest,
                                                const ManifestRules& rules,
                                                const ManifestLocations* locations) {
  return Checker(manifest, rules, locations).run();
}

std::string format_manifest_issues(const std::vector<ManifestIssue>& issues,
                                   std::string_view display_name,
                                   const ManifestLocations* locations) {
  struct Line {
    SourcePosition position;
    std::string text;
  };
  std::vector<Line> lines;
  for (const auto& issue : issues) {
    if (locations == nullptr) {
      lines.push_back({SourcePosition{}, std::string(display_name) + ": " + issue.message});
      continue;
    }
    // Something never written (no actor at all) is reported at the top of the file.
    SourcePosition position = locations->find(issue.where).value_or(SourcePosition{1, 1});
    lines.push_back(
        {position, std::string(display_name) + ":" + to_string(position) + ": " + issue.message});
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    return std::pair(a.position.line, a.position.column) <
           std::pair(b.position.line, b.position.column);
  });
  std::string out;
  size_t shown = std::min(lines.size(), kMaxReportedIssues);
  for (size_t i = 0; i < shown; ++i) out += (out.empty() ? "" : "\n") + lines[i].text;
  if (lines.size() > shown) {
    out += "\n" + std::string(display_name) + ": " + std::to_string(lines.size() - shown) +
           " more errors not shown";
  }
  return out;
}

Status validate_manifest(const manifest::Manifest& manifest, const ManifestRules& rules,
                         std::string_view origin) {
  auto issues = find_manifest_issues(manifest, rules, nullptr);
  if (issues.empty()) return Status::success();
  return make_error(format_manifest_issues(issues, origin, nullptr));
}

}  // namespace vtas
