// The TAS command line: one test walks the whole flag table; the others pin the messages and
// the rules (overrides, repeatable flags, both value forms, unknown flags).
#include "runtime/manifest/command_line.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "runtime/manifest/field_path.h"
#include "runtime/manifest/tests/test_rules.h"

namespace vtas {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

Result<CommandLine> parse(const std::vector<std::string>& arguments) {
  std::vector<const char*> argv{"vtas"};
  for (const auto& argument : arguments) argv.push_back(argument.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(const std::vector<std::string>& arguments) {
  auto parsed = parse(arguments);
  return parsed.ok() ? "" : parsed.error().message;
}

// The manifest an empty file plus these flags gives.
manifest::Manifest applied(const CommandLine& command_line) {
  manifest::Manifest manifest;
  auto status = apply_overrides(command_line, &manifest);
  EXPECT_TRUE(status.ok()) << status.error().message;
  return manifest;
}

// A valid value of each type, preferably not the default so landing is visible.
std::string valid_sample(const Parameter& row) {
  switch (row.type) {
    case ValueType::kCount:
      return std::to_string(row.max);
    case ValueType::kFileDescriptor:
      return "5";
    case ValueType::kReal:
      return row.zero_means_off ? "1.5" : "0.5";
    case ValueType::kAlgorithm:
      return "timely";
    case ValueType::kInstanceName:
      return "inst-1";
    case ValueType::kAbsolutePath:
      return "/tmp/vtas-x";
    case ValueType::kLogLevel:
      return "debug";
    case ValueType::kInterfaceName:
      return "vtas0";
    case ValueType::kDeviceSpec:
      return "net_af_packet0,iface=veth0";
    case ValueType::kEalArgument:
      return "--no-pci";
    case ValueType::kLocalAddress:
      return "10.0.0.1/24";
    case ValueType::kRoute:
      return "10.1.0.0/16,10.0.0.254";
    case ValueType::kManifestPath:
      return "/etc/vtas/m.txtpb";
    default:
      return "";
  }
}

// Values each row must refuse, with the reason it gives.
std::vector<std::pair<std::string, std::string>> invalid_samples(const Parameter& row) {
  std::vector<std::pair<std::string, std::string>> out;
  switch (row.type) {
    case ValueType::kCount:
    case ValueType::kFileDescriptor:
      out.emplace_back("abc", "not a number");
      out.emplace_back("-1", "not a number");
      out.emplace_back("12x", "not a number");
      out.emplace_back("99999999999999999999999", "out of range");
      if (row.max < std::numeric_limits<uint64_t>::max()) {
        out.emplace_back(std::to_string(row.max + 1), "out of range");
      }
      if (row.min > 0) out.emplace_back(std::to_string(row.min - 1), "out of range");
      if (row.power_of_two) out.emplace_back(std::to_string(row.min + 1), "not a power of two");
      break;
    case ValueType::kReal:
      out.emplace_back("abc", "not a number");
      out.emplace_back(std::to_string(static_cast<int>(row.real_max) + 1), "out of range");
      out.emplace_back("-0.5", "out of range");
      out.emplace_back("nan", "not a finite number");
      if (row.zero_means_off) out.emplace_back("0.5", "out of range");
      break;
    case ValueType::kAlgorithm:
      out.emplace_back("cubic", "unknown algorithm");
      break;
    case ValueType::kInstanceName:
      out.emplace_back("Bad_Name", "invalid name");
      break;
    case ValueType::kAbsolutePath:
      out.emplace_back("relative/dir", "not an absolute path");
      break;
    case ValueType::kLogLevel:
      out.emplace_back("loud", "unknown level");
      break;
    case ValueType::kInterfaceName:
      out.emplace_back("this-name-is-too-long", "invalid interface name");
      break;
    case ValueType::kDeviceSpec:
      out.emplace_back("net_null0, x", "invalid device");
      break;
    case ValueType::kEalArgument:
      out.emplace_back("a\tb", "contains a control character");
      break;
    case ValueType::kLocalAddress:
      out.emplace_back("10.0.0/8", "\"10.0.0\" is not an IPv4 address");
      out.emplace_back("10.0.0.1/40", "prefix length \"40\" is not a number 0..32");
      break;
    case ValueType::kRoute:
      out.emplace_back("10.1.0.0/16", "no comma between DEST and NEXTHOP");
      out.emplace_back("10.1.0.0/16,10.0.0", "next hop \"10.0.0\" is not an IPv4 address");
      out.emplace_back("10.1.0.1/16,10.0.0.1", "destination has host bits set");
      break;
    default:
      break;
  }
  return out;
}

// Checks that `value` (as the flag `row` sets it) landed in the manifest field of the row.
void expect_landed(const Parameter& row, const std::string& value, const CommandLine& command_line,
                   const manifest::Manifest& manifest) {
  switch (row.type) {
    case ValueType::kHelp:
      EXPECT_TRUE(command_line.help);
      return;
    case ValueType::kVersion:
      EXPECT_TRUE(command_line.version);
      return;
    case ValueType::kFileDescriptor:
      EXPECT_EQ(command_line.ready_fd, std::stoi(value));
      return;
    case ValueType::kManifestPath:
      EXPECT_EQ(command_line.manifest_path, value);
      return;
    default:
      break;
  }
  auto fields = parameter_fields(row);
  ASSERT_FALSE(fields.empty()) << row.flag;
  const Message* holder = find_holder(manifest, fields);
  ASSERT_NE(holder, nullptr) << row.flag << ": nothing was set";
  const FieldDescriptor* field = fields.back();
  const auto* reflection = holder->GetReflection();
  if (field->is_repeated()) {
    ASSERT_EQ(reflection->FieldSize(*holder, field), 1) << row.flag;
    if (row.type == ValueType::kRoute) {
      const auto& route =
          dynamic_cast<const manifest::Route&>(reflection->GetRepeatedMessage(*holder, field, 0));
      EXPECT_EQ(route.destination() + "," + route.next_hop(), value);
    } else {
      EXPECT_EQ(reflection->GetRepeatedString(*holder, field, 0), value) << row.flag;
    }
    return;
  }
  ASSERT_TRUE(reflection->HasField(*holder, field)) << row.flag;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_UINT32:
      EXPECT_EQ(reflection->GetUInt32(*holder, field), std::stoull(value)) << row.flag;
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      EXPECT_EQ(reflection->GetUInt64(*holder, field), std::stoull(value)) << row.flag;
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      EXPECT_EQ(reflection->GetDouble(*holder, field), std::stod(value)) << row.flag;
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      EXPECT_TRUE(reflection->GetBool(*holder, field)) << row.flag;
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      EXPECT_EQ(reflection->GetEnumValue(*holder, field), manifest::CONGESTION_CONTROL_TIMELY);
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      EXPECT_EQ(reflection->GetString(*holder, field), value) << row.flag;
      break;
    default:
      ADD_FAILURE() << row.flag << ": unexpected field type";
  }
}

TEST(CommandLine, EveryFlagInTheTable) {
  for (const auto& row : parameter_table()) {
    SCOPED_TRACE(std::string(row.flag));
    std::string flag = "--" + std::string(row.flag);
    if (!takes_value(row)) {
      auto parsed = parse({flag});
      ASSERT_TRUE(parsed.ok()) << parsed.error().message;
      expect_landed(row, "", *parsed, applied(*parsed));
      EXPECT_EQ(error_of({flag + "=1"}), flag + "=1: takes no value");
      continue;
    }
    // A valid value lands in the row's field, in either form.
    std::string value = valid_sample(row);
    auto joined = parse({flag + "=" + value});
    ASSERT_TRUE(joined.ok()) << joined.error().message;
    manifest::Manifest from_joined = applied(*joined);
    expect_landed(row, value, *joined, from_joined);
    auto separate = parse({flag, value});
    ASSERT_TRUE(separate.ok()) << separate.error().message;
    EXPECT_TRUE(MessageDifferencer::Equals(from_joined, applied(*separate)));
    EXPECT_EQ(joined->ready_fd, separate->ready_fd);
    EXPECT_EQ(joined->manifest_path, separate->manifest_path);
    if (!row.field.empty()) {
      // What the flag produced passes the manifest's own checks of the field.
      auto fields = parameter_fields(row);
      const Message* holder = find_holder(from_joined, fields);
      ASSERT_NE(holder, nullptr);
      EXPECT_EQ(
          check_manifest_value(row, *holder, fields.back(), fields.back()->is_repeated() ? 0 : -1),
          std::nullopt);
    }

    // Malformed and out-of-range values name the flag, the value and the range.
    for (const auto& [bad, reason] : invalid_samples(row)) {
      std::string expected_start = flag + "=" + bad + ": " + reason;
      std::string expected_end = " (allowed: " + allowed_text(row) + ")";
      for (const auto& arguments :
           {std::vector<std::string>{flag + "=" + bad}, std::vector<std::string>{flag, bad}}) {
        std::string error = error_of(arguments);
        EXPECT_EQ(error.substr(0, expected_start.size()), expected_start) << error;
        ASSERT_GE(error.size(), expected_end.size()) << error;
        EXPECT_EQ(error.substr(error.size() - expected_end.size()), expected_end) << error;
      }
    }
    EXPECT_EQ(error_of({flag}), flag + ": missing value (allowed: " + allowed_text(row) + ")");
    EXPECT_EQ(error_of({flag + "="}),
              flag + ": missing value (allowed: " + allowed_text(row) + ")");
  }
}

TEST(CommandLine, MessagesNameFlagValueAndRange) {
  EXPECT_EQ(error_of({"--cc-rexmit-ints=abc"}),
            "--cc-rexmit-ints=abc: not a number (allowed: 1..1000)");
  EXPECT_EQ(error_of({"--cc=cubic"}),
            "--cc=cubic: unknown algorithm (allowed: dctcp-rate, dctcp-win, timely, const-rate)");
  EXPECT_EQ(error_of({"--cc-dctcp-weight=1.5"}),
            "--cc-dctcp-weight=1.5: out of range (allowed: 0..1)");
  EXPECT_EQ(error_of({"--foo"}), "unknown option --foo (see vtas --help)");
  EXPECT_EQ(error_of({"--foo=1"}), "unknown option --foo (see vtas --help)");
  EXPECT_EQ(error_of({"--tcp-rxbuf-len"}),
            "--tcp-rxbuf-len: missing value (allowed: 1024..1073741824)");
  EXPECT_EQ(error_of({"-x"}), "unknown option -x (see vtas --help)");
  EXPECT_EQ(error_of({"extra"}),
            "unexpected argument \"extra\": vtas takes options only (see vtas --help)");
}

TEST(CommandLine, ReportsEveryError) {
  EXPECT_EQ(error_of({"--foo", "--cc=cubic", "--quiet", "--fp-cores-max=0"}),
            "unknown option --foo (see vtas --help)\n"
            "--cc=cubic: unknown algorithm (allowed: dctcp-rate, dctcp-win, timely, const-rate)\n"
            "--fp-cores-max=0: out of range (allowed: 1..16)");
}

TEST(CommandLine, TasSpellingsAndFixes) {
  // TAS registered only the misspelt --arp-timout; both work.
  auto parsed = parse({"--arp-timout=700", "--arp-timeout-max=9000"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  auto manifest = applied(*parsed);
  EXPECT_EQ(manifest.tas().arp_timeout(), 700u);
  // TAS's parser wrote --arp-timeout-max into the initial timeout; here it sets the maximum.
  EXPECT_EQ(manifest.tas().arp_timeout_max(), 9000u);
  // TAS's --fp-poll-interval-tas fell through into the app interval; here it does not.
  auto poll = parse({"--fp-poll-interval-tas=5"});
  ASSERT_TRUE(poll.ok());
  auto polled = applied(*poll);
  EXPECT_EQ(polled.tas().fp_poll_interval_tas(), 5u);
  EXPECT_FALSE(polled.tas().has_fp_poll_interval_app());
  // --fp-no-ints only records the switch; the fast path decides what it implies.
  auto no_ints = parse({"--fp-no-ints"});
  ASSERT_TRUE(no_ints.ok());
  auto without_interrupts = applied(*no_ints);
  EXPECT_TRUE(without_interrupts.tas().fp_no_ints());
  EXPECT_FALSE(without_interrupts.tas().has_fp_poll_interval_tas());
}

TEST(CommandLine, ValueMayLookLikeAFlag) {
  // As getopt_long: a required argument is the next word, whatever it looks like.
  auto parsed = parse({"--dpdk-extra", "--no-pci", "--dpdk-extra=--vdev=net_null0"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  auto manifest = applied(*parsed);
  ASSERT_EQ(manifest.network().eal_arg_size(), 2);
  EXPECT_EQ(manifest.network().eal_arg(0), "--no-pci");
  EXPECT_EQ(manifest.network().eal_arg(1), "--vdev=net_null0");
}

TEST(CommandLine, RepeatableFlagsAccumulateAfterTheManifest) {
  auto loaded = load_manifest_text(
      "network {\n"
      "  ip_addr: \"10.0.0.1/24\"\n"
      "  route { destination: \"10.1.0.0/16\" next_hop: \"10.0.0.254\" }\n"
      "  eal_arg: \"--no-pci\"\n"
      "}\n"
      "actor { name: \"echo\" kind: \"diag-echo\" }\n",
      "m.txtpb", testing_manifest::all_kinds());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto parsed = parse({"--ip-route=10.2.0.0/16,10.0.0.253", "--dpdk-extra=-l", "--dpdk-extra", "0",
                       "--ip-route", "10.3.0.0/16,10.0.0.252"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  manifest::Manifest manifest = *loaded;
  ASSERT_TRUE(apply_overrides(*parsed, &manifest).ok());
  const auto& network = manifest.network();
  ASSERT_EQ(network.route_size(), 3);
  EXPECT_EQ(network.route(0).destination(), "10.1.0.0/16");
  EXPECT_EQ(network.route(1).destination(), "10.2.0.0/16");
  EXPECT_EQ(network.route(1).next_hop(), "10.0.0.253");
  EXPECT_EQ(network.route(2).destination(), "10.3.0.0/16");
  ASSERT_EQ(network.eal_arg_size(), 3);
  EXPECT_EQ(network.eal_arg(0), "--no-pci");
  EXPECT_EQ(network.eal_arg(1), "-l");
  EXPECT_EQ(network.eal_arg(2), "0");
}

TEST(CommandLine, FlagsOverrideTheManifest) {
  auto loaded = load_manifest_text(
      "instance: \"fromfile\"\n"
      "tas { cc: CONGESTION_CONTROL_TIMELY cc_rexmit_ints: 7 }\n"
      "logging { level: \"warn\" }\n"
      "actor { name: \"echo\" kind: \"diag-echo\" }\n",
      "m.txtpb", testing_manifest::all_kinds());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto parsed = parse({"--cc=dctcp-win", "--instance", "fromflag", "--log-level=debug", "--quiet",
                       "--cc-dctcp-weight", "0.25"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  manifest::Manifest manifest = *loaded;
  ASSERT_TRUE(apply_overrides(*parsed, &manifest).ok());
  EXPECT_EQ(manifest.instance(), "fromflag");
  EXPECT_EQ(manifest.tas().cc(), manifest::CONGESTION_CONTROL_DCTCP_WIN);
  EXPECT_EQ(manifest.tas().cc_rexmit_ints(), 7u);  // not on the command line: kept
  EXPECT_EQ(manifest.tas().cc_dctcp_weight(), 0.25);
  EXPECT_EQ(manifest.logging().level(), "debug");
  EXPECT_TRUE(manifest.logging().quiet());
  EXPECT_EQ(manifest.actor_size(), 1);
}

TEST(CommandLine, LastValueWins) {
  auto parsed = parse({"--cc=timely", "--cc", "const-rate", "--manifest=a", "--manifest", "b"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(applied(*parsed).tas().cc(), manifest::CONGESTION_CONTROL_CONST_RATE);
  EXPECT_EQ(parsed->manifest_path, "b");
}

TEST(CommandLine, NothingGivenChangesNothing) {
  auto parsed = parse({});
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->help);
  EXPECT_FALSE(parsed->version);
  EXPECT_FALSE(parsed->manifest_path.has_value());
  EXPECT_FALSE(parsed->ready_fd.has_value());
  EXPECT_TRUE(parsed->overrides.empty());
  EXPECT_EQ(applied(*parsed).ByteSizeLong(), 0u);
}

TEST(CommandLineHelp, ListsEveryFlagWithItsDefaultInTasGroups) {
  std::string help = command_line_help();
  size_t previous = 0;
  for (const char* group : {"Memory sizes:", "TCP:", "Congestion control:", "IP:", "ARP:",
                            "Fast path:", "Host kernel interface:", "Miscellaneous:", "vtas:"}) {
    size_t at = help.find(std::string("\n") + group + "\n");
    ASSERT_NE(at, std::string::npos) << group;
    EXPECT_GT(at, previous) << group << " out of order";
    previous = at;
  }
  for (const auto& row : parameter_table()) {
    std::string lead = "  --" + std::string(row.flag) + (takes_value(row) ? "=" : "");
    size_t at = help.find(lead);
    ASSERT_NE(at, std::string::npos) << row.flag;
    // The entry runs to the next flag.
    std::string entry = help.substr(at, help.find("\n  --", at + 1) - at);
    if (row.type == ValueType::kHelp || row.type == ValueType::kVersion) continue;
    EXPECT_NE(entry.find("default: " + default_text(row)), std::string::npos) << entry;
    if (takes_value(row)) {
      EXPECT_NE(entry.find("allowed: " + allowed_text(row)), std::string::npos) << entry;
    }
    if (!row.unit.empty()) {
      EXPECT_NE(entry.find("(" + std::string(row.unit) + ")"), std::string::npos) << entry;
    }
  }
  // Defaults come from the schema.
  EXPECT_NE(help.find("default: 1073741824"), std::string::npos);
  EXPECT_NE(help.find("default: dctcp-rate"), std::string::npos);
  EXPECT_NE(help.find("default: 0.0625"), std::string::npos);
  EXPECT_NE(help.find("also --arp-timout"), std::string::npos);
}

}  // namespace
}  // namespace vtas
