#include "runtime/manifest/parameter_table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "runtime/log.h"
#include "runtime/manifest/field_path.h"
#include "runtime/manifest/ipv4.h"

namespace vtas {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;
// Times in microseconds: 1 us .. 60 s.
constexpr uint64_t kMaxMicros = 60'000'000;
// Rates in kbps fill a uint32 field; 0 means unlimited where the algorithm allows it.
constexpr uint64_t kMaxKbps = std::numeric_limits<uint32_t>::max();
// A Linux interface name holds IFNAMSIZ - 1 bytes.
constexpr size_t kMaxInterfaceName = 15;
constexpr size_t kMaxPath = 4095;
constexpr size_t kMaxDeviceSpec = 255;

using enum ValueType;
using enum FlagGroup;

// Ranges are chosen in docs/parameters.md; the defaults come from proto/manifest.proto.
// clang-format off
constexpr Parameter kTable[] = {
    // Memory sizes.
    {.flag = "shm-len", .field = "tas.shm_len", .type = kCount, .group = kMemory,
     .metavar = "BYTES", .unit = "bytes",
     .help = "Shared memory of each app (queues, buffers); unset: 64 MiB",
     .min = 1 * kMiB, .max = 64 * kGiB},
    {.flag = "nic-rx-len", .field = "tas.nic_rx_len", .type = kCount, .group = kMemory,
     .metavar = "ENTRIES", .unit = "entries", .help = "Fast path -> slow path queue length",
     .min = 64, .max = 1024 * 1024, .power_of_two = true},
    {.flag = "nic-tx-len", .field = "tas.nic_tx_len", .type = kCount, .group = kMemory,
     .metavar = "ENTRIES", .unit = "entries", .help = "Slow path -> fast path queue length",
     .min = 64, .max = 1024 * 1024, .power_of_two = true},
    {.flag = "app-kin-len", .field = "tas.app_kin_len", .type = kCount, .group = kMemory,
     .metavar = "BYTES", .unit = "bytes", .help = "App -> slow path queue, per app context",
     .min = 4 * kKiB, .max = 64 * kMiB, .power_of_two = true},
    {.flag = "app-kout-len", .field = "tas.app_kout_len", .type = kCount, .group = kMemory,
     .metavar = "BYTES", .unit = "bytes", .help = "Slow path -> app queue, per app context",
     .min = 4 * kKiB, .max = 64 * kMiB, .power_of_two = true},

    // TCP.
    {.flag = "tcp-rtt-init", .field = "tas.tcp_rtt_init", .type = kCount, .group = kTcp,
     .metavar = "US", .unit = "us", .help = "Initial RTT estimate for congestion control",
     .min = 1, .max = kMaxMicros},
    {.flag = "tcp-link-bw", .field = "tas.tcp_link_bw", .type = kCount, .group = kTcp,
     .metavar = "GBPS", .unit = "Gbit/s", .help = "Link bandwidth", .min = 1, .max = 1000},
    {.flag = "tcp-rxbuf-len", .field = "tas.tcp_rxbuf_len", .type = kCount, .group = kTcp,
     .metavar = "BYTES", .unit = "bytes", .help = "Receive buffer per connection",
     .min = 1 * kKiB, .max = 1 * kGiB},
    {.flag = "tcp-txbuf-len", .field = "tas.tcp_txbuf_len", .type = kCount, .group = kTcp,
     .metavar = "BYTES", .unit = "bytes", .help = "Transmit buffer per connection",
     .min = 1 * kKiB, .max = 1 * kGiB},
    {.flag = "tcp-handshake-timeout", .field = "tas.tcp_handshake_timeout", .type = kCount,
     .group = kTcp, .metavar = "US", .unit = "us", .help = "Handshake retransmission timeout",
     .min = 1, .max = kMaxMicros},
    {.flag = "tcp-handshake-retries", .field = "tas.tcp_handshake_retries", .type = kCount,
     .group = kTcp, .metavar = "N", .unit = "retries",
     .help = "Handshake retransmissions before giving up", .min = 0, .max = 100},

    // Congestion control.
    {.flag = "cc", .field = "tas.cc", .type = kAlgorithm, .group = kCongestionControl,
     .metavar = "ALGORITHM", .unit = "", .help = "Congestion-control algorithm"},
    {.flag = "cc-control-granularity", .field = "tas.cc_control_granularity", .type = kCount,
     .group = kCongestionControl, .metavar = "US", .unit = "us",
     .help = "Shortest time between two control iterations", .min = 1, .max = kMaxMicros},
    {.flag = "cc-control-interval", .field = "tas.cc_control_interval", .type = kCount,
     .group = kCongestionControl, .metavar = "RTTS", .unit = "RTTs",
     .help = "Control interval", .min = 1, .max = 1000},
    {.flag = "cc-rexmit-ints", .field = "tas.cc_rexmit_ints", .type = kCount,
     .group = kCongestionControl, .metavar = "N", .unit = "control intervals",
     .help = "Intervals without an ACK before retransmitting", .min = 1, .max = 1000},
    {.flag = "cc-dctcp-weight", .field = "tas.cc_dctcp_weight", .type = kReal,
     .group = kCongestionControl, .metavar = "FRACTION", .unit = "",
     .help = "DCTCP: EWMA weight of the ECN-marked fraction", .real_min = 0, .real_max = 1},
    {.flag = "cc-dctcp-init", .field = "tas.cc_dctcp_init", .type = kCount,
     .group = kCongestionControl, .metavar = "KBPS", .unit = "kbps",
     .help = "DCTCP: initial flow rate", .min = 0, .max = kMaxKbps},
    {.flag = "cc-dctcp-step", .field = "tas.cc_dctcp_step", .type = kCount,
     .group = kCongestionControl, .metavar = "KBPS", .unit = "kbps",
     .help = "DCTCP: additive increase step", .min = 0, .max = kMaxKbps},
    {.flag = "cc-dctcp-mimd", .field = "tas.cc_dctcp_mimd", .type = kReal,
     .group = kCongestionControl, .metavar = "FACTOR", .unit = "",
     .help = "DCTCP: multiplicative increase factor, 0 = off", .real_min = 1, .real_max = 2,
     .zero_means_off = true},
    {.flag = "cc-dctcp-min", .field = "tas.cc_dctcp_min", .type = kCount,
     .group = kCongestionControl, .metavar = "KBPS", .unit = "kbps",
     .help = "DCTCP: lowest flow rate", .min = 0, .max = kMaxKbps},
    {.flag = "cc-dctcp-minpkts", .field = "tas.cc_dctcp_minpkts", .type = kCount,
     .group = kCongestionControl, .metavar = "PACKETS", .unit = "packets",
     .help = "DCTCP: fewest packets in an interval to update the rate", .min = 0,
     .max = 1'000'000},
    {.flag = "cc-const-rate", .field = "tas.cc_const_rate", .type = kCount,
     .group = kCongestionControl, .metavar = "KBPS", .unit = "kbps",
     .help = "const-rate: rate of every flow, 0 = unlimited", .min = 0, .max = kMaxKbps},
    {.flag = "cc-timely-tlow", .field = "tas.cc_timely_tlow", .type = kCount,
     .group = kCongestionControl, .metavar = "US", .unit = "us",
     .help = "Timely: low RTT threshold", .min = 1, .max = kMaxMicros},
    {.flag = "cc-timely-thigh", .field = "tas.cc_timely_thigh", .type = kCount,
     .group = kCongestionControl, .metavar = "US", .unit = "us",
     .help = "Timely: high RTT threshold", .min = 1, .max = kMaxMicros},
    {.flag = "cc-timely-step", .field = "tas.cc_timely_step", .type = kCount,
     .group = kCongestionControl, .metavar = "KBPS", .unit = "kbps",
     .help = "Timely: additive increase step", .min = 0, .max = kMaxKbps},
    {.flag = "cc-timely-init", .field = "tas.cc_timely_init", .type = kCount,
     .group = kCongestionControl, .metavar = "KBPS", .unit = "kbps",
     .help = "Timely: initial flow rate", .min = 0, .max = kMaxKbps},
    {.flag = "cc-timely-alpha", .field = "tas.cc_timely_alpha", .type = kReal,
     .group = kCongestionControl, .metavar = "FRACTION", .unit = "",
     .help = "Timely: EWMA weight of the RTT difference", .real_min = 0, .real_max = 1},
    {.flag = "cc-timely-beta", .field = "tas.cc_timely_beta", .type = kReal,
     .group = kCongestionControl, .metavar = "FRACTION", .unit = "",
     .help = "Timely: multiplicative decrease factor", .real_min = 0, .real_max = 1},
    {.flag = "cc-timely-minrtt", .field = "tas.cc_timely_minrtt", .type = kCount,
     .group = kCongestionControl, .metavar = "US", .unit = "us",
     .help = "Timely: RTT of an empty path", .min = 1, .max = kMaxMicros},
    {.flag = "cc-timely-minrate", .field = "tas.cc_timely_minrate", .type = kCount,
     .group = kCongestionControl, .metavar = "KBPS", .unit = "kbps",
     .help = "Timely: lowest flow rate", .min = 0, .max = kMaxKbps},

    // IP.
    {.flag = "ip-route", .field = "network.route", .type = kRoute, .group = kIp,
     .metavar = "DEST[/PREFIX],NEXTHOP", .unit = "",
     .help = "Add a route; no PREFIX is a host route (/32)", .unset_text = "none"},
    {.flag = "ip-addr", .field = "network.ip_addr", .type = kLocalAddress, .group = kIp,
     .metavar = "ADDR[/PREFIXLEN]", .unit = "",
     .help = "Local IP address; no PREFIXLEN puts every destination on-link (/0)",
     .unset_text = "none (the fast path requires one)"},

    // ARP.
    {.flag = "arp-timeout", .field = "tas.arp_timeout", .type = kCount, .group = kArp,
     .metavar = "US", .unit = "us", .help = "First ARP request timeout, doubled per retry",
     .min = 1, .max = kMaxMicros, .alias = "arp-timout"},
    {.flag = "arp-timeout-max", .field = "tas.arp_timeout_max", .type = kCount, .group = kArp,
     .metavar = "US", .unit = "us", .help = "Longest ARP request timeout", .min = 1,
     .max = kMaxMicros},

    // Fast path.
    {.flag = "fp-cores-max", .field = "tas.fp_cores_max", .type = kCount, .group = kFastPath,
     .metavar = "CORES", .unit = "cores", .help = "Most cores the fast path may use", .min = 1,
     .max = 16},
    {.flag = "fp-no-ints", .field = "tas.fp_no_ints", .type = kSwitch, .group = kFastPath,
     .metavar = "", .unit = "", .help = "Disable interrupts: fast-path cores poll, never block"},
    {.flag = "fp-no-xsumoffload", .field = "tas.fp_no_xsumoffload", .type = kSwitch,
     .group = kFastPath, .metavar = "", .unit = "", .help = "Disable TX checksum offload"},
    {.flag = "fp-no-autoscale", .field = "tas.fp_no_autoscale", .type = kSwitch,
     .group = kFastPath, .metavar = "", .unit = "", .help = "Disable fast-path core autoscaling"},
    {.flag = "fp-no-hugepages", .field = "tas.fp_no_hugepages", .type = kSwitch,
     .group = kFastPath, .metavar = "", .unit = "", .help = "Disable hugepages for shared memory"},
    {.flag = "fp-vlan-strip", .field = "tas.fp_vlan_strip", .type = kSwitch, .group = kFastPath,
     .metavar = "", .unit = "", .help = "Enable VLAN tag stripping on the NIC"},
    {.flag = "fp-poll-interval-tas", .field = "tas.fp_poll_interval_tas", .type = kCount,
     .group = kFastPath, .metavar = "US", .unit = "us",
     .help = "Fast-path idle polling before it blocks, 0 = block when idle", .min = 0,
     .max = kMaxMicros},
    {.flag = "fp-poll-interval-app", .field = "tas.fp_poll_interval_app", .type = kCount,
     .group = kFastPath, .metavar = "US", .unit = "us",
     .help = "App idle polling before it blocks, 0 = block when idle", .min = 0,
     .max = kMaxMicros},
    {.flag = "dpdk-extra", .field = "network.eal_arg", .type = kEalArgument,
     .group = kFastPath, .metavar = "ARG", .unit = "", .help = "Add one DPDK EAL argument",
     .unset_text = "none"},

    // Host kernel interface.
    {.flag = "kni-name", .field = "tas.kni_name", .type = kInterfaceName, .group = kHostKernel,
     .metavar = "NAME", .unit = "",
     .help = "Host kernel interface NAME (DPDK net_tap) for what vtas does not serve",
     .unset_text = "disabled"},

    // Miscellaneous.
    {.flag = "quiet", .field = "logging.quiet", .type = kSwitch, .group = kMiscellaneous,
     .metavar = "", .unit = "", .help = "Log errors only"},
    {.flag = "ready-fd", .field = "", .type = kFileDescriptor, .group = kMiscellaneous,
     .metavar = "FD", .unit = "", .help = "When ready, write a uint64 1 to FD (an eventfd; as TAS)",
     .min = 0, .max = std::numeric_limits<int>::max(), .unset_text = "disabled"},

    // vtas.
    {.flag = "manifest", .field = "", .type = kManifestPath, .group = kVtas, .metavar = "FILE",
     .unit = "", .help = "Manifest to run (Protocol Buffers text format)",
     .unset_text = "none"},
    {.flag = "instance", .field = "instance", .type = kInstanceName, .group = kVtas,
     .metavar = "NAME", .unit = "", .help = "Instance name (runtime directory, sockets)"},
    {.flag = "runtime-dir", .field = "runtime_dir", .type = kAbsolutePath, .group = kVtas,
     .metavar = "DIR", .unit = "", .help = "Directory for control sockets and shared memory",
     .unset_text = "/run/vtas/<instance>"},
    {.flag = "device", .field = "network.device", .type = kDeviceSpec, .group = kVtas,
     .metavar = "DEVICE", .unit = "",
     .help = "DPDK device: vdev spec (net_af_packet0,iface=vtas0) or PCI address",
     .unset_text = "none"},
    {.flag = "log-level", .field = "logging.level", .type = kLogLevel, .group = kVtas,
     .metavar = "LEVEL", .unit = "", .help = "Log level of actors without their own"},
    {.flag = "help", .field = "", .type = kHelp, .group = kVtas, .metavar = "", .unit = "",
     .help = "Print this help and exit"},
    {.flag = "version", .field = "", .type = kVersion, .group = kVtas, .metavar = "",
     .unit = "", .help = "Print the version and exit"},
};
// clang-format on

constexpr std::pair<std::string_view, manifest::CongestionControl> kAlgorithms[] = {
    {"dctcp-rate", manifest::CONGESTION_CONTROL_DCTCP_RATE},
    {"dctcp-win", manifest::CONGESTION_CONTROL_DCTCP_WIN},
    {"timely", manifest::CONGESTION_CONTROL_TIMELY},
    {"const-rate", manifest::CONGESTION_CONTROL_CONST_RATE},
};

std::string format_real(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (error != std::errc()) return "?";
  return std::string(buffer, end);
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::optional<std::string> check_count(const Parameter& parameter, uint64_t value) {
  if (value < parameter.min || value > parameter.max) return "out of range";
  if (parameter.power_of_two && (value & (value - 1)) != 0) return "not a power of two";
  return std::nullopt;
}

std::optional<std::string> check_real(const Parameter& parameter, double value) {
  if (!std::isfinite(value)) return "not a finite number";
  if (parameter.zero_means_off && value == 0) return std::nullopt;
  if (value < parameter.real_min || value > parameter.real_max) return "out of range";
  return std::nullopt;
}

std::optional<std::string> check_interface_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxInterfaceName || name == "." || name == "..") {
    return "invalid interface name";
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return "invalid interface name";
  }
  return std::nullopt;
}

std::optional<std::string> check_local_address(std::string_view text) {
  auto prefix = parse_local_address(text);
  if (!prefix.ok()) return prefix.error().message;
  if (auto why = why_not_unicast(prefix->address)) {
    return format_ipv4_address(prefix->address) + " is " + *why;
  }
  // A host address is neither the network nor the broadcast address of its own subnet
  // (/31 and /32 have neither).
  if (prefix->length >= 1 && prefix->length <= 30) {
    uint32_t host = prefix->address & ~prefix->mask();
    if (host == 0) return "this is the network address of the subnet, not a host address";
    if (host == ~prefix->mask()) return "this is the broadcast address of the subnet";
  }
  return std::nullopt;
}

// Every string-valued type; nullopt: fine.
std::optional<std::string> check_text(const Parameter& parameter, std::string_view text) {
  switch (parameter.type) {
    case kInstanceName:
      if (!is_valid_name(text)) return "invalid name";
      return std::nullopt;
    case kAbsolutePath:
      if (text.empty() || text[0] != '/') return "not an absolute path";
      if (text.size() > kMaxPath) return "too long";
      if (has_control_character(text)) return "contains a control character";
      return std::nullopt;
    case kLogLevel:
      if (!log::parse_level(text)) return "unknown level";
      return std::nullopt;
    case kInterfaceName:
      // An empty name in a manifest means "no host interface" (the schema's default); the
      // command line never gets here with an empty value.
      if (text.empty()) return std::nullopt;
      return check_interface_name(text);
    case kDeviceSpec:
      if (text.empty() || text.size() > kMaxDeviceSpec) return "invalid device";
      if (has_control_character(text) || text.find(' ') != std::string_view::npos) {
        return "invalid device";
      }
      return std::nullopt;
    case kEalArgument:
      if (text.empty()) return "empty argument";
      if (has_control_character(text)) return "contains a control character";
      return std::nullopt;
    case kLocalAddress:
      return check_local_address(text);
    case kManifestPath:
      if (text.empty()) return "empty file name";
      return std::nullopt;
    default:
      return "not a text value";
  }
}

}  // namespace

std::string_view group_title(FlagGroup group) {
  switch (group) {
    case kMemory:
      return "Memory sizes";
    case kTcp:
      return "TCP";
    case kCongestionControl:
      return "Congestion control";
    case kIp:
      return "IP";
    case kArp:
      return "ARP";
    case kFastPath:
      return "Fast path";
    case kHostKernel:
      return "Host kernel interface";
    case kMiscellaneous:
      return "Miscellaneous";
    case kVtas:
      return "vtas";
  }
  return "?";
}

std::span<const Parameter> parameter_table() {
  return kTable;
}

const Parameter* find_parameter(std::string_view flag) {
  for (const auto& row : kTable) {
    if (row.flag == flag || (!row.alias.empty() && row.alias == flag)) return &row;
  }
  return nullptr;
}

const Parameter* find_parameter_by_field(std::string_view field_path) {
  for (const auto& row : kTable) {
    if (!row.field.empty() && row.field == field_path) return &row;
  }
  return nullptr;
}

std::vector<const FieldDescriptor*> parameter_fields(const Parameter& parameter) {
  if (parameter.field.empty()) return {};
  return resolve_dotted_path(manifest::Manifest::descriptor(), parameter.field);
}

bool takes_value(const Parameter& parameter) {
  return parameter.type != kSwitch && parameter.type != kHelp && parameter.type != kVersion;
}

bool is_repeatable(const Parameter& parameter) {
  auto fields = parameter_fields(parameter);
  return !fields.empty() && fields.back()->is_repeated();
}

std::string allowed_text(const Parameter& parameter) {
  switch (parameter.type) {
    case kCount:
    case kFileDescriptor: {
      std::string text = std::to_string(parameter.min) + ".." + std::to_string(parameter.max);
      if (parameter.power_of_two) text += ", a power of two";
      return text;
    }
    case kReal: {
      std::string range = format_real(parameter.real_min) + ".." + format_real(parameter.real_max);
      return parameter.zero_means_off ? "0 (off) or " + range : range;
    }
    case kAlgorithm: {
      std::string text;
      for (const auto& [name, value] : kAlgorithms)
        text += (text.empty() ? "" : ", ") + std::string(name);
      return text;
    }
    case kInstanceName:
      return std::string(kNameRule);
    case kAbsolutePath:
      return "an absolute path";
    case kLogLevel:
      return std::string(kLogLevels);
    case kInterfaceName:
      return "1 to 15 of A-Z a-z 0-9 _ . -";
    case kDeviceSpec:
      return "a DPDK vdev spec or PCI address, without spaces";
    case kEalArgument:
      return "one DPDK EAL argument";
    case kLocalAddress:
      return "ADDR[/PREFIXLEN]: a unicast IPv4 address, PREFIXLEN 0..32";
    case kRoute:
      return "DEST[/PREFIX],NEXTHOP: IPv4 addresses, PREFIX 0..32";
    case kManifestPath:
      return "a file name";
    case kSwitch:
    case kHelp:
    case kVersion:
      return "no value";
  }
  return "?";
}

std::string default_text(const Parameter& parameter) {
  auto fields = parameter_fields(parameter);
  if (fields.empty() || fields.back()->is_repeated()) return std::string(parameter.unset_text);
  const FieldDescriptor* field = fields.back();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      return field->default_value_bool() ? "on" : "off";
    case FieldDescriptor::CPPTYPE_UINT32:
      return std::to_string(field->default_value_uint32());
    case FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(field->default_value_uint64());
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return format_real(field->default_value_double());
    case FieldDescriptor::CPPTYPE_ENUM: {
      auto name = congestion_control_name(
          static_cast<manifest::CongestionControl>(field->default_value_enum()->number()));
      return name.empty() ? field->default_value_enum()->name() : std::string(name);
    }
    case FieldDescriptor::CPPTYPE_STRING:
      return field->has_default_value() ? field->default_value_string()
                                        : std::string(parameter.unset_text);
    default:
      return std::string(parameter.unset_text);
  }
}

std::string_view congestion_control_name(manifest::CongestionControl value) {
  for (const auto& [name, algorithm] : kAlgorithms) {
    if (algorithm == value) return name;
  }
  return {};
}

std::optional<manifest::CongestionControl> parse_congestion_control(std::string_view text) {
  for (const auto& [name, algorithm] : kAlgorithms) {
    if (name == text) return algorithm;
  }
  return std::nullopt;
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::optional<std::string> check_route_destination(std::string_view text) {
  if (text.empty()) return "destination missing";
  auto prefix = parse_route_destination(text);
  if (!prefix.ok()) return "destination " + prefix.error().message;
  if ((prefix->address & ~prefix->mask()) != 0) {
    return "destination has host bits set (did you mean " +
           format_ipv4_address(prefix->address & prefix->mask()) + "/" +
           std::to_string(prefix->length) + "?)";
  }
  return std::nullopt;
}

std::optional<std::string> check_next_hop(std::string_view text) {
  if (text.empty()) return "next hop missing";
  auto address = parse_ipv4_address(text);
  if (!address) {
    return "next hop \"" + std::string(text) +
           "\" is not an IPv4 address (expected four numbers 0..255 like 10.0.0.1)";
  }
  if (auto why = why_not_unicast(*address)) return "next hop " + std::string(text) + " is " + *why;
  return std::nullopt;
}

std::optional<std::string> check_route(const manifest::Route& route) {
  if (auto why = check_route_destination(route.destination())) return why;
  return check_next_hop(route.next_hop());
}

Result<ParameterValue> parse_parameter_value(const Parameter& parameter, std::string_view text) {
  switch (parameter.type) {
    case kSwitch:
    case kHelp:
    case kVersion:
      return ParameterValue(true);
    case kCount:
    case kFileDescriptor: {
      uint64_t value = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error == std::errc::result_out_of_range && end == text.data() + text.size()) {
        return make_error("out of range");
      }
      if (error != std::errc() || end != text.data() + text.size()) {
        return make_error("not a number");
      }
      if (auto why = check_count(parameter, value)) return make_error(*why);
      return ParameterValue(value);
    }
    case kReal: {
      double value = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error == std::errc::result_out_of_range && end == text.data() + text.size()) {
        return make_error("out of range");
      }
      if (error != std::errc() || end != text.data() + text.size()) {
        return make_error("not a number");
      }
      if (auto why = check_real(parameter, value)) return make_error(*why);
      return ParameterValue(value);
    }
    case kAlgorithm: {
      auto algorithm = parse_congestion_control(text);
      if (!algorithm) return make_error("unknown algorithm");
      return ParameterValue(EnumValue{*algorithm});
    }
    case kRoute: {
      // As TAS: the first comma splits destination and next hop.
      size_t comma = text.find(',');
      if (comma == std::string_view::npos) return make_error("no comma between DEST and NEXTHOP");
      manifest::Route route;
      route.set_destination(std::string(text.substr(0, comma)));
      route.set_next_hop(std::string(text.substr(comma + 1)));
      if (auto why = check_route(route)) return make_error(*why);
      return ParameterValue(std::move(route));
    }
    default: {
      if (auto why = check_text(parameter, text)) return make_error(*why);
      return ParameterValue(std::string(text));
    }
  }
}

std::optional<std::string> check_manifest_value(const Parameter& parameter, const Message& holder,
                                                const FieldDescriptor* field, int index) {
  const auto* reflection = holder.GetReflection();
  bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_UINT32:
      return check_count(parameter, repeated ? reflection->GetRepeatedUInt32(holder, field, index)
                                             : reflection->GetUInt32(holder, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return check_count(parameter, repeated ? reflection->GetRepeatedUInt64(holder, field, index)
                                             : reflection->GetUInt64(holder, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return check_real(parameter, repeated ? reflection->GetRepeatedDouble(holder, field, index)
                                            : reflection->GetDouble(holder, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return std::nullopt;
    case FieldDescriptor::CPPTYPE_ENUM: {
      int number = repeated ? reflection->GetRepeatedEnumValue(holder, field, index)
                            : reflection->GetEnumValue(holder, field);
      if (parameter.type == kAlgorithm &&
          congestion_control_name(static_cast<manifest::CongestionControl>(number)).empty()) {
        return "not an algorithm";
      }
      return std::nullopt;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& text =
          repeated ? reflection->GetRepeatedStringReference(holder, field, index, &scratch)
                   : reflection->GetStringReference(holder, field, &scratch);
      return check_text(parameter, text);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (parameter.type != kRoute) return std::nullopt;
      const Message& element = repeated ? reflection->GetRepeatedMessage(holder, field, index)
                                        : reflection->GetMessage(holder, field);
      const auto* route = dynamic_cast<const manifest::Route*>(&element);
      return route ? check_route(*route) : std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace vtas
