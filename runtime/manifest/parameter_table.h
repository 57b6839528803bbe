// The parameter table: one row per command-line flag of `vtas` (every TAS flag plus vtas's
// own), naming the manifest field it sets, its value type, the allowed range, unit and help.
// The command-line parser, the manifest validator and `vtas --help` all read this table, so
// a flag, its manifest field and its limits cannot disagree; defaults are never written here
// but read from the schema (proto/manifest.proto). Used by runtime/manifest only; other code
// reads the manifest.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/manifest.pb.h"
#include "runtime/result.h"

namespace vtas {

enum class ValueType {
  kCount,           // unsigned integer in [min, max], maybe a power of two
  kReal,            // double in [real_min, real_max], maybe also 0 meaning "off"
  kSwitch,          // takes no value; sets a bool field to true
  kAlgorithm,       // dctcp-rate | dctcp-win | timely | const-rate
  kInstanceName,    // [a-z0-9_-]{1,32}
  kAbsolutePath,    // starts with /
  kLogLevel,        // trace, debug, info, warn, error, critical, off
  kInterfaceName,   // a Linux interface name (host kernel interface)
  kDeviceSpec,      // DPDK vdev spec or PCI address
  kEalArgument,     // one DPDK EAL argument
  kLocalAddress,    // ADDR[/PREFIXLEN]
  kRoute,           // DEST[/PREFIX],NEXTHOP
  kFileDescriptor,  // --ready-fd: not a manifest field
  kManifestPath,    // --manifest: not a manifest field
  kHelp,            // --help
  kVersion,         // --version
};

// Sections of `vtas --help`, in the order TAS prints them.
enum class FlagGroup {
  kMemory,
  kTcp,
  kCongestionControl,
  kIp,
  kArp,
  kFastPath,
  kHostKernel,
  kMiscellaneous,
  kVtas,
};
std::string_view group_title(FlagGroup group);

struct Parameter {
  std::string_view flag;   // without the leading "--"
  std::string_view field;  // manifest field path ("tas.cc_rexmit_ints"); empty: none
  ValueType type;
  FlagGroup group;
  std::string_view metavar;  // "BYTES" in --shm-len=BYTES
  std::string_view unit;     // "bytes", "us", "kbps", ... or empty
  std::string_view help;
  uint64_t min = 0;  // kCount, kFileDescriptor
  uint64_t max = 0;
  double real_min = 0;  // kReal
  double real_max = 0;
  bool power_of_two = false;         // kCount: ring indexes are masked, see docs/parameters.md
  bool zero_means_off = false;       // kReal: 0 is allowed besides [real_min, real_max]
  std::string_view alias = {};       // another accepted spelling (TAS's --arp-timout), or empty
  std::string_view unset_text = {};  // the default shown when the schema has none ("disabled")
};

std::span<const Parameter> parameter_table();
// By flag name (without "--") or alias; nullptr if unknown.
const Parameter* find_parameter(std::string_view flag);
// By manifest field path ("tas.shm_len"); nullptr if no flag sets it.
const Parameter* find_parameter_by_field(std::string_view field_path);

// The manifest field of a row (outermost first), empty for rows without one.
std::vector<const google::protobuf::FieldDescriptor*> parameter_fields(const Parameter& parameter);
bool takes_value(const Parameter& parameter);
// True for flags that add to a list (--ip-route, --dpdk-extra) instead of replacing a value.
bool is_repeatable(const Parameter& parameter);

// "1..1000", "64..1048576, a power of two", "dctcp-rate, dctcp-win, timely, const-rate".
std::string allowed_text(const Parameter& parameter);
// The schema default as a user would write it on the command line ("1073741824",
// "dctcp-rate", "0.0625", "off"), or unset_text.
std::string default_text(const Parameter& parameter);

// The text a flag writes for a CongestionControl value and back.
std::string_view congestion_control_name(manifest::CongestionControl value);
std::optional<manifest::CongestionControl> parse_congestion_control(std::string_view text);

// A flag's value once parsed and checked.
struct EnumValue {
  int number;
};
using ParameterValue =
    std::variant<bool, uint64_t, double, EnumValue, std::string, manifest::Route>;

// Parses a flag's text and checks it against the row. The error is the reason only
// ("not a number", "out of range"); the caller adds the flag and `allowed_text`.
Result<ParameterValue> parse_parameter_value(const Parameter& parameter, std::string_view text);

// Checks a value already in a manifest (element `index` of a repeated field, else -1). Same
// reasons as parse_parameter_value. nullopt: fine.
std::optional<std::string> check_manifest_value(const Parameter& parameter,
                                                const google::protobuf::Message& holder,
                                                const google::protobuf::FieldDescriptor* field,
                                                int index);

// Shared by the table and the validator's checks of actor settings.
bool is_valid_name(std::string_view name);  // [a-z0-9_-]{1,32}: instance and actor names
inline constexpr std::string_view kNameRule = "1 to 32 of a-z 0-9 _ -";
inline constexpr std::string_view kLogLevels = "trace, debug, info, warn, error, critical, off";
// A route's destination ("10.1.0.0/16", no host bits set) and next hop (a unicast address);
// the reason names which part is wrong.
std::optional<std::string> check_route_destination(std::string_view text);
std::optional<std::string> check_next_hop(std::string_view text);
std::optional<std::string> check_route(const manifest::Route& route);

}  // namespace vtas
