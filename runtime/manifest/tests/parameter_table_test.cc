// The table itself: every row reaches its manifest field, every TAS parameter has a flag, the
// schema defaults are TAS's documented defaults and lie inside the allowed ranges, and the
// documentation lists every flag.
#include "runtime/manifest/parameter_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace vtas {
namespace {

using google::protobuf::FieldDescriptor;

TEST(ParameterTable, EveryRowReachesItsFieldAndNamesAreUnique) {
  std::set<std::string_view> names;
  std::set<std::string_view> fields;
  for (const auto& row : parameter_table()) {
    EXPECT_TRUE(names.insert(row.flag).second) << row.flag;
    if (!row.alias.empty()) {
      EXPECT_TRUE(names.insert(row.alias).second) << row.alias;
    }
    EXPECT_EQ(find_parameter(row.flag), &row);
    EXPECT_FALSE(row.help.empty()) << row.flag;
    if (takes_value(row)) {
      EXPECT_FALSE(row.metavar.empty()) << row.flag;
    }
    if (row.field.empty()) continue;
    EXPECT_TRUE(fields.insert(row.field).second) << row.field;
    auto path = parameter_fields(row);
    ASSERT_FALSE(path.empty()) << row.flag << " names unknown field " << row.field;
    EXPECT_EQ(find_parameter_by_field(row.field), &row);
    // The value type matches the field type.
    auto type = path.back()->cpp_type();
    switch (row.type) {
      case ValueType::kCount:
        EXPECT_TRUE(type == FieldDescriptor::CPPTYPE_UINT32 ||
                    type == FieldDescriptor::CPPTYPE_UINT64)
            << row.flag;
        EXPECT_LE(row.min, row.max) << row.flag;
        if (type == FieldDescriptor::CPPTYPE_UINT32) {
          EXPECT_LE(row.max, std::numeric_limits<uint32_t>::max()) << row.flag;
        }
        break;
      case ValueType::kReal:
        EXPECT_EQ(type, FieldDescriptor::CPPTYPE_DOUBLE) << row.flag;
        break;
      case ValueType::kSwitch:
        EXPECT_EQ(type, FieldDescriptor::CPPTYPE_BOOL) << row.flag;
        break;
      case ValueType::kAlgorithm:
        EXPECT_EQ(type, FieldDescriptor::CPPTYPE_ENUM) << row.flag;
        break;
      case ValueType::kRoute:
        EXPECT_EQ(type, FieldDescriptor::CPPTYPE_MESSAGE) << row.flag;
        break;
      default:
        EXPECT_EQ(type, FieldDescriptor::CPPTYPE_STRING) << row.flag;
        break;
    }
  }
  EXPECT_EQ(find_parameter("arp-timout"), find_parameter("arp-timeout"));
  EXPECT_EQ(find_parameter("no-such-flag"), nullptr);
}

TEST(ParameterTable, EveryTasParameterHasAFlag) {
  const auto* tas = manifest::TasParameters::descriptor();
  for (int i = 0; i < tas->field_count(); ++i) {
    EXPECT_NE(find_parameter_by_field("tas." + tas->field(i)->name()), nullptr)
        << tas->field(i)->name();
  }
}

// TAS's documented defaults (doc/user/parameters.rst and config.c), written here by hand so
// a change of the schema default shows up as a test failure.
TEST(ParameterTable, DefaultsAreTheDocumentedTasDefaults) {
  const std::map<std::string_view, std::string_view> kTasDefaults = {
      {"shm-len", "1073741824"},
      {"nic-rx-len", "16384"},
      {"nic-tx-len", "16384"},
      {"app-kin-len", "1048576"},
      {"app-kout-len", "1048576"},
      {"tcp-rtt-init", "50"},
      {"tcp-link-bw", "10"},
      {"tcp-rxbuf-len", "8192"},
      {"tcp-txbuf-len", "8192"},
      {"tcp-handshake-timeout", "10000"},
      {"tcp-handshake-retries", "10"},
      {"cc", "dctcp-rate"},
      {"cc-control-granularity", "50"},
      {"cc-control-interval", "2"},
      {"cc-rexmit-ints", "4"},
      {"cc-dctcp-weight", "0.0625"},
      {"cc-dctcp-init", "10000"},
      {"cc-dctcp-step", "10000"},
      {"cc-dctcp-mimd", "0"},
      {"cc-dctcp-min", "10000"},
      {"cc-dctcp-minpkts", "50"},
      {"cc-const-rate", "0"},
      {"cc-timely-tlow", "30"},
      {"cc-timely-thigh", "150"},
      {"cc-timely-step", "10000"},
      {"cc-timely-init", "10000"},
      {"cc-timely-alpha", "0.02"},
      {"cc-timely-beta", "0.8"},
      {"cc-timely-minrtt", "11"},
      {"cc-timely-minrate", "10000"},
      {"arp-timeout", "500"},
      {"arp-timeout-max", "10000000"},
      {"fp-cores-max", "1"},
      {"fp-no-ints", "off"},
      {"fp-no-xsumoffload", "off"},
      {"fp-no-autoscale", "off"},
      {"fp-no-hugepages", "off"},
      {"fp-vlan-strip", "off"},
      {"fp-poll-interval-tas", "10000"},
      {"fp-poll-interval-app", "10000"},
      {"kni-name", "disabled"},
      {"ready-fd", "disabled"},
      {"quiet", "off"},
      {"ip-addr", "none (the fast path requires one)"},
      {"ip-route", "none"},
      {"dpdk-extra", "none"},
  };
  for (const auto& [flag, expected] : kTasDefaults) {
    const Parameter* row = find_parameter(flag);
    ASSERT_NE(row, nullptr) << flag;
    EXPECT_EQ(default_text(*row), expected) << flag;
  }
  // And the generated accessors agree with what help prints.
  manifest::TasParameters tas;
  EXPECT_EQ(tas.cc_dctcp_weight(), 0.0625);
  EXPECT_EQ(tas.cc_timely_alpha(), 0.02);
  EXPECT_EQ(tas.cc_timely_beta(), 0.8);
  EXPECT_EQ(tas.cc(), manifest::CONGESTION_CONTROL_DCTCP_RATE);
  EXPECT_EQ(tas.shm_len(), 1073741824u);
  // Every TAS flag is in the list above.
  for (const auto& row : parameter_table()) {
    if (row.group != FlagGroup::kVtas) {
      EXPECT_EQ(kTasDefaults.count(row.flag), 1u) << row.flag;
    }
  }
}

// A manifest that leaves everything unset must pass its own range checks.
TEST(ParameterTable, DefaultsLieInsideTheAllowedRanges) {
  manifest::Manifest defaults;
  for (const auto& row : parameter_table()) {
    auto path = parameter_fields(row);
    if (path.empty() || path.back()->is_repeated()) continue;
    if (path.back()->cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
        !path.back()->has_default_value()) {
      continue;  // unset strings mean "none"
    }
    // Read the default through a default instance of the holder.
    const auto* holder_type = path.back()->containing_type();
    const auto* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(holder_type);
    EXPECT_EQ(check_manifest_value(row, *prototype, path.back(), -1), std::nullopt) << row.flag;
  }
}

TEST(ParameterTable, AllowedTextNamesTheRange) {
  EXPECT_EQ(allowed_text(*find_parameter("cc-rexmit-ints")), "1..1000");
  EXPECT_EQ(allowed_text(*find_parameter("nic-rx-len")), "64..1048576, a power of two");
  EXPECT_EQ(allowed_text(*find_parameter("cc-dctcp-weight")), "0..1");
  EXPECT_EQ(allowed_text(*find_parameter("cc-dctcp-mimd")), "0 (off) or 1..2");
  EXPECT_EQ(allowed_text(*find_parameter("cc")), "dctcp-rate, dctcp-win, timely, const-rate");
  EXPECT_EQ(allowed_text(*find_parameter("fp-cores-max")), "1..16");
}

TEST(ParameterTable, CongestionControlNames) {
  EXPECT_EQ(parse_congestion_control("timely"), manifest::CONGESTION_CONTROL_TIMELY);
  EXPECT_EQ(parse_congestion_control("cubic"), std::nullopt);
  EXPECT_EQ(congestion_control_name(manifest::CONGESTION_CONTROL_CONST_RATE), "const-rate");
  EXPECT_EQ(congestion_control_name(manifest::CONGESTION_CONTROL_UNSPECIFIED), "");
}

TEST(ParameterTable, NamesFollowTheRule) {
  EXPECT_TRUE(is_valid_name("echo_1-a"));
  EXPECT_TRUE(is_valid_name(std::string(32, 'a')));
  EXPECT_FALSE(is_valid_name(std::string(33, 'a')));
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_FALSE(is_valid_name("Echo"));
  EXPECT_FALSE(is_valid_name("a.b"));
  EXPECT_FALSE(is_valid_name("a b"));
}

// docs/parameters.md documents every flag with its manifest field, default and range.
TEST(ParameterTable, DocumentationListsEveryFlag) {
  std::ifstream file(std::string(VTAS_SOURCE_DIR) + "/docs/parameters.md");
  ASSERT_TRUE(file) << "docs/parameters.md missing";
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string docs = buffer.str();
  for (const auto& row : parameter_table()) {
    // The row of the flag: "| `--flag=VALUE` | `field` | unit | default | allowed |"
    std::string lead = "| `--" + std::string(row.flag) + (takes_value(row) ? "=" : "`");
    size_t at = docs.find(lead);
    ASSERT_NE(at, std::string::npos) << row.flag;
    std::string line = docs.substr(at, docs.find('\n', at) - at);
    if (!row.field.empty()) {
      EXPECT_NE(line.find("`" + std::string(row.field) + "`"), std::string::npos) << line;
    }
    EXPECT_NE(line.find(default_text(row)), std::string::npos) << line;
    if (takes_value(row)) {
      EXPECT_NE(line.find(allowed_text(row)), std::string::npos) << line;
    }
    if (!row.alias.empty()) {
      EXPECT_NE(line.find("--" + std::string(row.alias)), std::string::npos) << line;
    }
  }
}

}  // namespace
}  // namespace vtas
