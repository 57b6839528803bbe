// Every semantic check of a manifest, each with the exact `file:line:col: message` it gives.
#include "runtime/manifest/manifest_validator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "runtime/manifest/parameter_table.h"
#include "runtime/manifest/tests/test_rules.h"

namespace vtas {
namespace {

using testing_manifest::errors_of;
using testing_manifest::kEchoActor;

constexpr char kKnown[] =
    "arp, cc, conn, diag-echo, diag-pinger, fastpath, proxy-host, scale, timer";

TEST(ManifestValidator, AcceptsAMinimalManifest) {
  EXPECT_EQ(errors_of(kEchoActor), "");
}

TEST(ManifestValidator, InstanceName) {
  EXPECT_EQ(errors_of(std::string("instance: \"Bad Name\"\n") + kEchoActor),
            "m.txtpb:1:11: instance: \"Bad Name\": invalid name (allowed: 1 to 32 of a-z 0-9 _ -)");
  std::string long_name(33, 'a');
  EXPECT_EQ(errors_of("instance: \"" + long_name + "\"\n" + kEchoActor),
            "m.txtpb:1:11: instance: \"" + long_name +
                "\": invalid name (allowed: 1 to 32 of a-z 0-9 _ -)");
  EXPECT_EQ(errors_of("instance: \"" + std::string(32, 'a') + "\"\n" + kEchoActor), "");
}

TEST(ManifestValidator, RuntimeDirMustBeAbsolute) {
  EXPECT_EQ(errors_of(std::string("runtime_dir: \"run/vtas\"\n") + kEchoActor),
            "m.txtpb:1:14: runtime_dir: \"run/vtas\": not an absolute path (allowed: an absolute "
            "path)");
}

TEST(ManifestValidator, RuntimeDirMustLeaveRoomForTheLongestSocketName) {
  std::string name(32, 'a');
  std::string actor = "actor { name: \"" + name + "\" kind: \"diag-echo\" }\n";
  std::string fits(107 - 1 - 37, 'd');  // "<dir>/<32 chars>.sock" is exactly 107 bytes
  fits[0] = '/';
  EXPECT_EQ(errors_of("runtime_dir: \"" + fits + "\"\n" + actor), "");
  std::string too_long = fits + "d";
  EXPECT_EQ(errors_of("runtime_dir: \"" + too_long + "\"\n" + actor),
            "m.txtpb:1:14: runtime_dir: \"" + too_long + "\": too long for unix sockets: \"" +
                too_long + "/" + name +
                ".sock\" is 108 bytes, at most 107 fit (use a shorter directory)");
  // Short actor names: the supervisor's own supervisor.sock is then the longest file.
  std::string for_supervisor(107 - 1 - 15 + 1, 'd');
  for_supervisor[0] = '/';
  EXPECT_NE(errors_of("runtime_dir: \"" + for_supervisor + "\"\n" + kEchoActor)
                .find("supervisor.sock\" is 108 bytes"),
            std::string::npos);
}

TEST(ManifestValidator, AtLeastOneActor) {
  std::string expected =
      "m.txtpb:1:1: actor: at least one actor is required (add an `actor { name: ... kind: ... "
      "}`)";
  EXPECT_EQ(errors_of("instance: \"x\"\n"), expected);
  EXPECT_EQ(errors_of(""), expected);
}

TEST(ManifestValidator, ActorNameIsRequired) {
  EXPECT_EQ(errors_of("actor {\n  kind: \"diag-echo\"\n}\n"),
            "m.txtpb:1:1: actor[0].name: required (a unique name, 1 to 32 of a-z 0-9 _ -)");
  EXPECT_EQ(errors_of("actor { name: \"\" kind: \"diag-echo\" }\n"),
            "m.txtpb:1:1: actor[0].name: required (a unique name, 1 to 32 of a-z 0-9 _ -)");
}

TEST(ManifestValidator, ActorNameMustBeValid) {
  EXPECT_EQ(
      errors_of("actor { name: \"Echo\" kind: \"diag-echo\" }\n"),
      "m.txtpb:1:15: actor[0].name: \"Echo\": invalid name (allowed: 1 to 32 of a-z 0-9 _ -)");
  EXPECT_EQ(errors_of("actor { name: \"" + std::string(33, 'e') + "\" kind: \"diag-echo\" }\n"),
            "m.txtpb:1:15: actor[0].name: \"" + std::string(33, 'e') +
                "\": invalid name (allowed: 1 to 32 of a-z 0-9 _ -)");
}

TEST(ManifestValidator, ActorNamesAreUnique) {
  EXPECT_EQ(errors_of("instance: \"demo\"\n"
                      "actor {\n"
                      "  name: \"echo\"\n"
                      "  kind: \"diag-echo\"\n"
                      "}\n"
                      "actor {\n"
                      "  name: \"echo\"\n"
                      "  kind: \"diag-echo\"\n"
                      "}\n"),
            "m.txtpb:7:9: actor[1].name: duplicate actor name \"echo\" (first defined at 3:9)");
}

TEST(ManifestValidator, ReservedNames) {
  for (auto reserved : kReservedActorNames) {
    EXPECT_EQ(errors_of("actor { name: \"" + std::string(reserved) + "\" kind: \"diag-echo\" }\n"),
              "m.txtpb:1:15: actor[0].name: \"" + std::string(reserved) +
                  "\" is reserved (reserved: supervisor, vtasctl, trace, trace-in, ctl)");
  }
}

TEST(ManifestValidator, KindIsRequiredAndKnown) {
  EXPECT_EQ(errors_of("actor { name: \"echo\" }\n"),
            std::string("m.txtpb:1:1: actor[0].kind: required (known: ") + kKnown + ")");
  EXPECT_EQ(errors_of("actor { name: \"echo\" kind: \"diag-echoo\" }\n"),
            std::string("m.txtpb:1:28: actor[0].kind: unknown kind \"diag-echoo\" (known: ") +
                kKnown + ")");
  // Tools without a registry do not check kinds.
  EXPECT_EQ(errors_of("actor { name: \"echo\" kind: \"anything\" }\n", ManifestRules{}), "");
}

TEST(ManifestValidator, ExplicitUnspecifiedEnumsAreRefused) {
  EXPECT_EQ(errors_of("actor {\n"
                      "  name: \"echo\"\n"
                      "  kind: \"diag-echo\"\n"
                      "  placement: PLACEMENT_UNSPECIFIED\n"
                      "  restart: RESTART_POLICY_UNSPECIFIED\n"
                      "}\n"),
            "m.txtpb:4:14: actor[0].placement: PLACEMENT_UNSPECIFIED is not a placement (use "
            "PLACEMENT_THREAD or PLACEMENT_PROCESS, or leave it out for PLACEMENT_PROCESS)\n"
            "m.txtpb:5:12: actor[0].restart: RESTART_POLICY_UNSPECIFIED is not a policy (use "
            "RESTART_POLICY_PERMANENT, RESTART_POLICY_TRANSIENT or RESTART_POLICY_TEMPORARY)");
}

TEST(ManifestValidator, Backoff) {
  EXPECT_EQ(errors_of("actor {\n"
                      "  name: \"echo\"\n"
                      "  kind: \"diag-echo\"\n"
                      "  backoff { multiplier: 0.5 initial_ms: 500 max_ms: 100 }\n"
                      "}\n"),
            "m.txtpb:4:25: actor[0].backoff.multiplier: 0.5: out of range (allowed: 1..100)\n"
            "m.txtpb:4:53: actor[0].backoff.max_ms: 100 must be at least "
            "actor[0].backoff.initial_ms (500)");
  // Only initial_ms written: it is the one pointed at, against the default maximum.
  EXPECT_EQ(
      errors_of("actor { name: \"echo\" kind: \"diag-echo\" backoff { initial_ms: 5000 } }\n"),
      "m.txtpb:1:62: actor[0].backoff.initial_ms: 5000 must be at most "
      "actor[0].backoff.max_ms (1000, the default)");
  EXPECT_EQ(errors_of("actor { name: \"echo\" kind: \"diag-echo\" backoff { multiplier: 1 } }\n"),
            "");
}

TEST(ManifestValidator, SupervisionTimesMustBePositive) {
  EXPECT_EQ(errors_of(std::string("supervision {\n"
                                  "  heartbeat_interval_ms: 0\n"
                                  "  period_ms: 0\n"
                                  "  ready_timeout_ms: 0\n"
                                  "  stop_timeout_ms: 0\n"
                                  "}\n") +
                      kEchoActor),
            "m.txtpb:2:26: supervision.heartbeat_interval_ms: 0 must be greater than 0\n"
            "m.txtpb:3:14: supervision.period_ms: 0 must be greater than 0\n"
            "m.txtpb:4:21: supervision.ready_timeout_ms: 0 must be greater than 0\n"
            "m.txtpb:5:20: supervision.stop_timeout_ms: 0 must be greater than 0");
}

TEST(ManifestValidator, HeartbeatTimeoutExceedsInterval) {
  EXPECT_EQ(errors_of(std::string("supervision { heartbeat_interval_ms: 500 "
                                  "heartbeat_timeout_ms: 500 }\n") +
                      kEchoActor),
            "m.txtpb:1:64: supervision.heartbeat_timeout_ms: 500 must be greater than "
            "supervision.heartbeat_interval_ms (500)");
  EXPECT_EQ(errors_of(std::string("supervision { heartbeat_interval_ms: 2000 }\n") + kEchoActor),
            "m.txtpb:1:38: supervision.heartbeat_interval_ms: 2000 must be less than "
            "supervision.heartbeat_timeout_ms (1000, the default)");
}

TEST(ManifestValidator, LogLevels) {
  EXPECT_EQ(errors_of(std::string("logging { level: \"verbose\" }\n") + kEchoActor),
            "m.txtpb:1:18: logging.level: \"verbose\": unknown level (allowed: trace, debug, "
            "info, warn, error, critical, off)");
  EXPECT_EQ(errors_of("actor { name: \"echo\" kind: \"diag-echo\" log_level: \"loud\" }\n"),
            "m.txtpb:1:51: actor[0].log_level: \"loud\": unknown level (allowed: trace, debug, "
            "info, warn, error, critical, off)");
  for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    EXPECT_EQ(
        errors_of(std::string("logging { level: \"") + level + "\" }\n" +
                  "actor { name: \"echo\" kind: \"diag-echo\" log_level: \"" + level + "\" }\n"),
        "")
        << level;
  }
}

TEST(ManifestValidator, DiagSettings) {
  EXPECT_EQ(
      errors_of(
          "actor { name: \"echo\" kind: \"diag-echo\" }\n"
          "actor { name: \"p1\" kind: \"diag-pinger\" }\n"
          "actor { name: \"p2\" kind: \"diag-pinger\" diag { peer: \"nobody\" } }\n"
          "actor { name: \"p3\" kind: \"diag-pinger\" diag { peer: \"p3\" rate_hz: 20000 } }\n"
          "actor { name: \"c\" kind: \"conn\" diag { peer: \"echo\" } }\n"),
      "m.txtpb:2:1: actor[1].diag.peer: required for a diag-pinger: the name of the actor to "
      "ping (diag { peer: \"echo\" })\n"
      "m.txtpb:3:53: actor[2].diag.peer: no actor named \"nobody\" in this manifest\n"
      "m.txtpb:4:53: actor[3].diag.peer: \"p3\": a pinger cannot ping itself\n"
      "m.txtpb:4:67: actor[3].diag.rate_hz: 20000: out of range (allowed: 0..10000)\n"
      "m.txtpb:5:32: actor[4].diag: only diag-echo and diag-pinger actors take diag settings "
      "(this one is \"conn\")");
  // A peer defined after the pinger is fine.
  EXPECT_EQ(errors_of("actor { name: \"p\" kind: \"diag-pinger\" diag { peer: \"echo\" } }\n"
                      "actor { name: \"echo\" kind: \"diag-echo\" }\n"),
            "");
  EXPECT_NE(errors_of("actor { name: \"p\" kind: \"diag-pinger\" diag { peer: \"echo\" "
                      "payload_bytes: 2000000 } }\n"
                      "actor { name: \"echo\" kind: \"diag-echo\" }\n")
                .find("actor[0].diag.payload_bytes: 2000000: out of range (allowed: 0..1048576)"),
            std::string::npos);
}

TEST(ManifestValidator, BinaryOnlyForProcessActors) {
  EXPECT_EQ(errors_of("actor { name: \"echo\" kind: \"diag-echo\" placement: PLACEMENT_THREAD "
                      "binary: \"/bin/x\" }\n"),
            "m.txtpb:1:76: actor[0].binary: only process-placed actors run a binary; this actor "
            "has PLACEMENT_THREAD");
  EXPECT_EQ(errors_of("actor { name: \"echo\" kind: \"diag-echo\" binary: \"\" }\n"),
            "m.txtpb:1:48: actor[0].binary: empty (leave it out to run the vtas binary itself)");
}

TEST(ManifestValidator, FastpathNeedsALocalAddress) {
  EXPECT_EQ(errors_of("actor { name: \"fp\" kind: \"fastpath\" }\n"),
            "m.txtpb:1:26: network.ip_addr: required when a fastpath actor runs (actor \"fp\"), "
            "e.g. network { ip_addr: \"10.0.0.1/24\" }");
  EXPECT_EQ(errors_of("network { device: \"net_null0\" }\n"
                      "actor { name: \"fp\" kind: \"fastpath\" }\n"),
            "m.txtpb:1:1: network.ip_addr: required when a fastpath actor runs (actor \"fp\"), "
            "e.g. network { ip_addr: \"10.0.0.1/24\" }");
  EXPECT_EQ(errors_of("network { ip_addr: \"10.0.0.1/24\" }\n"
                      "actor { name: \"fp\" kind: \"fastpath\" }\n"),
            "");
}

TEST(ManifestValidator, LocalAddress) {
  const std::string allowed =
      " (allowed: ADDR[/PREFIXLEN]: a unicast IPv4 address, PREFIXLEN 0..32)";
  auto with_address = [](const std::string& address) {
    return "network { ip_addr: \"" + address + "\" }\n" + kEchoActor;
  };
  EXPECT_EQ(errors_of(with_address("10.0.0.0/24")),
            "m.txtpb:1:20: network.ip_addr: \"10.0.0.0/24\": this is the network address of the "
            "subnet, not a host address" +
                allowed);
  EXPECT_EQ(errors_of(with_address("10.0.0.255/24")),
            "m.txtpb:1:20: network.ip_addr: \"10.0.0.255/24\": this is the broadcast address of "
            "the subnet" +
                allowed);
  EXPECT_EQ(errors_of(with_address("10.0.0.1/33")),
            "m.txtpb:1:20: network.ip_addr: \"10.0.0.1/33\": prefix length \"33\" is not a number "
            "0..32" +
                allowed);
  EXPECT_EQ(errors_of(with_address("10.0.0")),
            "m.txtpb:1:20: network.ip_addr: \"10.0.0\": \"10.0.0\" is not an IPv4 address "
            "(expected four numbers 0..255 like 10.0.0.1)" +
                allowed);
  EXPECT_EQ(
      errors_of(with_address("224.0.0.1/4")),
      "m.txtpb:1:20: network.ip_addr: \"224.0.0.1/4\": 224.0.0.1 is a multicast address" + allowed);
  EXPECT_EQ(errors_of(with_address("10.0.0.1")), "");
  EXPECT_EQ(errors_of(with_address("10.0.0.1/32")), "");
  EXPECT_EQ(errors_of(with_address("10.0.0.0/31")), "");
}

TEST(ManifestValidator, Routes) {
  EXPECT_EQ(
      errors_of(std::string("network {\n"
                            "  ip_addr: \"10.0.0.1/24\"\n"
                            "  route { destination: \"10.1.2.3/16\" next_hop: \"10.0.0.254\" }\n"
                            "  route { destination: \"10.2.0.0/16\" next_hop: \"192.168.0.1\" }\n"
                            "  route { destination: \"10.2.0.0/16\" next_hop: \"10.0.0\" }\n"
                            "  route { destination: \"10.3.0.0/33\" }\n"
                            "  route { next_hop: \"10.0.0.1\" }\n"
                            "}\n") +
                kEchoActor),
      "m.txtpb:3:24: network.route[0].destination: \"10.1.2.3/16\": destination has host bits set "
      "(did you mean 10.1.0.0/16?)\n"
      "m.txtpb:4:48: network.route[1].next_hop: \"192.168.0.1\": not on the local network "
      "\"10.0.0.1/24\" (network.ip_addr), unreachable\n"
      "m.txtpb:5:24: network.route[2].destination: duplicate route to \"10.2.0.0/16\" (first at "
      "4:24)\n"
      "m.txtpb:5:48: network.route[2].next_hop: \"10.0.0\": next hop \"10.0.0\" is not an IPv4 "
      "address (expected four numbers 0..255 like 10.0.0.1)\n"
      "m.txtpb:6:3: network.route[3].next_hop: required, e.g. next_hop: \"10.0.0.254\"\n"
      "m.txtpb:6:24: network.route[3].destination: \"10.3.0.0/33\": destination prefix length "
      "\"33\" is not a number 0..32\n"
      "m.txtpb:7:3: network.route[4].destination: required, e.g. destination: \"10.1.0.0/16\"\n"
      "m.txtpb:7:21: network.route[4].next_hop: \"10.0.0.1\": is the local address "
      "(network.ip_addr)");
  EXPECT_EQ(
      errors_of(std::string("network {\n"
                            "  ip_addr: \"10.0.0.1/24\"\n"
                            "  route { destination: \"10.1.0.0/16\" next_hop: \"10.0.0.254\" }\n"
                            "  route { destination: \"0.0.0.0/0\" next_hop: \"10.0.0.254\" }\n"
                            "  route { destination: \"10.9.9.9\" next_hop: \"10.0.0.253\" }\n"
                            "}\n") +
                kEchoActor),
      "");
}

TEST(ManifestValidator, EalArgumentsAndDevice) {
  EXPECT_EQ(errors_of(std::string("network {\n"
                                  "  eal_arg: [\"--no-pci\", \"\"]\n"
                                  "  device: \"net_af_packet0, iface=x\"\n"
                                  "}\n") +
                      kEchoActor),
            "m.txtpb:2:25: network.eal_arg[1]: \"\": empty argument (allowed: one DPDK EAL "
            "argument)\n"
            "m.txtpb:3:11: network.device: \"net_af_packet0, iface=x\": invalid device (allowed: a "
            "DPDK vdev spec or PCI address, without spaces)");
}

TEST(ManifestValidator, TasParametersStayInTheirFlagRanges) {
  EXPECT_EQ(
      errors_of(std::string("tas {\n"
                            "  cc_rexmit_ints: 0\n"
                            "  nic_rx_len: 1000\n"
                            "  cc_dctcp_weight: 1.5\n"
                            "  cc_dctcp_mimd: 0.5\n"
                            "  cc: CONGESTION_CONTROL_UNSPECIFIED\n"
                            "  kni_name: \"a-very-long-interface\"\n"
                            "  shm_len: 1024\n"
                            "}\n") +
                kEchoActor),
      "m.txtpb:2:19: tas.cc_rexmit_ints: 0: out of range (allowed: 1..1000)\n"
      "m.txtpb:3:15: tas.nic_rx_len: 1000: not a power of two (allowed: 64..1048576, a power "
      "of two)\n"
      "m.txtpb:4:20: tas.cc_dctcp_weight: 1.5: out of range (allowed: 0..1)\n"
      "m.txtpb:5:18: tas.cc_dctcp_mimd: 0.5: out of range (allowed: 0 (off) or 1..2)\n"
      "m.txtpb:6:7: tas.cc: CONGESTION_CONTROL_UNSPECIFIED: not an algorithm (allowed: "
      "CONGESTION_CONTROL_DCTCP_RATE, CONGESTION_CONTROL_DCTCP_WIN, CONGESTION_CONTROL_TIMELY, "
      "CONGESTION_CONTROL_CONST_RATE)\n"
      "m.txtpb:7:13: tas.kni_name: \"a-very-long-interface\": invalid interface name "
      "(allowed: 1 to 15 of A-Z a-z 0-9 _ . -)\n"
      "m.txtpb:8:12: tas.shm_len: 1024: out of range (allowed: 1048576..68719476736)");
}

TEST(ManifestValidator, EmptyKniNameMeansOff) {
  EXPECT_EQ(errors_of(std::string("tas { kni_name: \"\" }\n") + kEchoActor), "");
  EXPECT_EQ(errors_of(std::string("tas { kni_name: \"vtas0\" }\n") + kEchoActor), "");
}

// The same table limits every numeric TAS field: one step beyond its range is refused.
TEST(ManifestValidator, EveryNumericTasFieldIsRangeChecked) {
  int checked = 0;
  for (const auto& parameter : parameter_table()) {
    if (parameter.field.substr(0, 4) != "tas.") continue;
    std::string name(parameter.field.substr(4));
    std::string bad;
    if (parameter.type == ValueType::kCount) {
      auto fields = parameter_fields(parameter);
      ASSERT_FALSE(fields.empty()) << parameter.field;
      uint64_t type_max =
          fields.back()->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT32
              ? std::numeric_limits<uint32_t>::max()
              : std::numeric_limits<uint64_t>::max();
      if (parameter.max < type_max) {
        bad = std::to_string(parameter.max + 1);
      } else if (parameter.min > 0) {
        bad = std::to_string(parameter.min - 1);
      } else {
        continue;  // every value of the type is allowed (rates in kbps)
      }
    } else if (parameter.type == ValueType::kReal) {
      bad = "3";
    } else {
      continue;
    }
    std::string text = "tas { " + name + ": " + bad + " }\n" + kEchoActor;
    std::string expected = "m.txtpb:1:" + std::to_string(7 + name.size() + 2) + ": tas." + name +
                           ": " + bad + ": out of range (allowed: " + allowed_text(parameter) + ")";
    EXPECT_EQ(errors_of(text), expected);
    ++checked;
  }
  EXPECT_GE(checked, 25);
}

TEST(ManifestValidator, TasRelations) {
  EXPECT_EQ(errors_of(std::string("tas { arp_timeout: 20000000 }\n") + kEchoActor),
            "m.txtpb:1:20: tas.arp_timeout: 20000000 must be at most tas.arp_timeout_max "
            "(10000000, the default)");
  EXPECT_EQ(
      errors_of(std::string("tas { cc_timely_tlow: 200 cc_timely_thigh: 100 }\n") + kEchoActor),
      "m.txtpb:1:44: tas.cc_timely_thigh: 100 must be greater than tas.cc_timely_tlow (200)");
}

TEST(ManifestValidator, ReportsEveryErrorInFileOrder) {
  // The TAS ranges are checked before the actors, yet the output follows the file.
  EXPECT_EQ(
      errors_of("actor { name: \"Echo\" kind: \"diag-echo\" }\n"
                "tas { fp_cores_max: 0 }\n"
                "actor { name: \"x\" kind: \"nope\" }\n"),
      "m.txtpb:1:15: actor[0].name: \"Echo\": invalid name (allowed: 1 to 32 of a-z 0-9 _ -)\n"
      "m.txtpb:2:21: tas.fp_cores_max: 0: out of range (allowed: 1..16)\n"
      "m.txtpb:3:25: actor[1].kind: unknown kind \"nope\" (known: " +
          std::string(kKnown) + ")");
}

TEST(ManifestValidator, CapsTheNumberOfReportedErrors) {
  std::string text = "network {\n";
  for (size_t i = 0; i < kMaxReportedIssues + 5; ++i) text += "  eal_arg: \"\"\n";
  text += "}\n";
  std::string errors = errors_of(text + kEchoActor);
  EXPECT_EQ(static_cast<size_t>(std::count(errors.begin(), errors.end(), '\n')),
            kMaxReportedIssues);
  EXPECT_EQ(errors.substr(0, errors.find('\n')),
            "m.txtpb:2:12: network.eal_arg[0]: \"\": empty argument (allowed: one DPDK EAL "
            "argument)");
  EXPECT_EQ(errors.substr(errors.rfind('\n') + 1), "m.txtpb: 5 more errors not shown");
}

TEST(ManifestValidator, WithoutPositionsNamesTheOrigin) {
  manifest::Manifest manifest;
  for (int i = 0; i < 2; ++i) {
    auto* actor = manifest.add_actor();
    actor->set_name("echo");
    actor->set_kind("diag-echo");
  }
  manifest.mutable_tas()->set_fp_cores_max(17);
  auto status = validate_manifest(manifest, testing_manifest::all_kinds(), "built-in");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message,
            "built-in: tas.fp_cores_max: 17: out of range (allowed: 1..16)\n"
            "built-in: actor[1].name: duplicate actor name \"echo\"");
}

}  // namespace
}  // namespace vtas
