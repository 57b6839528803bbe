// Every `vtas` flag, end to end: for each row of the parameter table it checks that
//   - `--flag=VALUE` parses and `vtas --help` documents the flag,
//   - a bad value is refused with the flag, the value and the allowed range,
//   - with the flag left out, the component that uses it gets TAS's default,
//   - with the flag given, the value lands in that component's configuration, built from the
//     manifest exactly as the actor builds it (fast_path_config, conn/timer/arp/cc/scale
//     config_from_manifest), after the same steps as the supervisor's main (parse, apply
//     overrides onto the manifest, validate again).
// A flag added to the table without a row here fails AllFlagsAreCovered: a new flag must say
// which component reads it.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "components/arp/arp_config.h"
#include "components/cc/actor/cc_config.h"
#include "components/fastpath/fastpath_config.h"
#include "components/scale/scale_config.h"
#include "components/slowpath/conn_config.h"
#include "components/slowpath/timer/timer_config.h"
#include "runtime/manifest/command_line.h"
#include "runtime/manifest/ipv4.h"
#include "runtime/manifest/manifest_loader.h"
#include "runtime/manifest/manifest_validator.h"
#include "runtime/manifest/parameter_table.h"

namespace vtas {
namespace {

// What every actor is built from, as the supervisor resolves it.
constexpr char kBase[] =
    "instance: \"reach\"\n"
    "runtime_dir: \"/tmp/vtas-reach\"\n"
    "network { ip_addr: \"10.77.0.1/24\" device: \"net_af_packet0,iface=vtas0\" }\n"
    "actor { name: \"fastpath\" kind: \"fastpath\" }\n"
    "actor { name: \"arp\" kind: \"arp\" }\n"
    "actor { name: \"timer\" kind: \"timer\" }\n"
    "actor { name: \"conn\" kind: \"conn\" }\n"
    "actor { name: \"cc\" kind: \"cc\" }\n"
    "actor { name: \"scale\" kind: \"scale\" }\n";

// Every component's configuration of one instance, plus what only the supervisor reads.
struct Built {
  manifest::Manifest manifest;
  CommandLine command_line;
  fastpath::FastPathConfig fastpath;
  conn::ConnConfig conn;
  timer::TimerConfig timer;
  arp::ArpConfig arp;
  cc::CcConfig cc;
  scale::ScaleConfig scale;
};

std::string ip(uint32_t host_order) { return format_ipv4_address(host_order); }

// Parses `flags` and builds every configuration; the error says which step failed.
Result<Built> build(const std::vector<std::string>& flags, const std::string& base = kBase) {
  std::vector<const char*> argv{"vtas"};
  for (const auto& f : flags) argv.push_back(f.c_str());
  auto command_line = parse_command_line(static_cast<int>(argv.size()), argv.data());
  if (!command_line) return make_error("parse: " + command_line.error().message);
  auto loaded = load_manifest_text(base, "base.txtpb", ManifestRules{});
  if (!loaded) return make_error("load: " + loaded.error().message);
  Built b;
  b.command_line = *command_line;
  b.manifest = *loaded;
  if (Status s = apply_overrides(*command_line, &b.manifest); !s) {
    return make_error("apply: " + s.error().message);
  }
  if (Status s = validate_manifest(b.manifest, ManifestRules{}, "overridden"); !s) {
    return make_error("validate: " + s.error().message);
  }
  auto fp = fastpath::fast_path_config(b.manifest);
  if (!fp) return make_error("fastpath: " + fp.error().message);
  b.fastpath = *fp;
  auto conn = conn::config_from_manifest(b.manifest, "conn");
  if (!conn) return make_error("conn: " + conn.error().message);
  b.conn = *conn;
  auto timer = timer::config_from_manifest(b.manifest);
  if (!timer) return make_error("timer: " + timer.error().message);
  b.timer = *timer;
  auto arp = arp::config_from_manifest(b.manifest);
  if (!arp) return make_error("arp: " + arp.error().message);
  b.arp = *arp;
  auto cc = cc::config_from_manifest(b.manifest);
  if (!cc) return make_error("cc: " + cc.error().message);
  b.cc = *cc;
  auto sc = scale::config_from_manifest(b.manifest);
  if (!sc) return make_error("scale: " + sc.error().message);
  b.scale = *sc;
  return b;
}

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string yes(bool b) { return b ? "yes" : "no"; }

// One flag: a valid value that differs from the default, what the consumers then hold, what
// they hold by default, and a value the flag refuses. `read` names the component fields,
// "component.field=value", so a failure says where the value did not arrive.
struct Reach {
  std::string value;       // "" for switches
  std::string with_value;  // read() after --flag=value
  std::string by_default;  // read() without the flag
  std::string bad_value;   // refused ("" for switches: "=1" is the bad form)
  std::function<std::string(const Built&)> read;
};

std::string q32(uint64_t v) { return std::to_string(static_cast<double>(v) / 4294967296.0); }

const std::map<std::string, Reach>& reaches() {
  static const std::map<std::string, Reach> table = {
      // Memory.
      {"shm-len",
       {"134217728", "fastpath.app_region_size=134217728", "fastpath.app_region_size=67108864",
        "1000", [](const Built& b) { return "fastpath.app_region_size=" + std::to_string(b.fastpath.app_region_size); }}},
      {"nic-rx-len",
       {"4096", "fastpath.report_ring=4096", "fastpath.report_ring=16384", "100",
        [](const Built& b) { return "fastpath.report_ring=" + std::to_string(b.fastpath.report_ring); }}},
      {"nic-tx-len",
       {"2048", "fastpath.command_ring=2048", "fastpath.command_ring=16384", "0",
        [](const Built& b) { return "fastpath.command_ring=" + std::to_string(b.fastpath.command_ring); }}},
      // TAS app_kin = app -> slow path = vtas kout; app_kout = slow path -> app = vtas kin.
      {"app-kin-len",
       {"65536", "fastpath.kout_entries=1024", "fastpath.kout_entries=16384", "5000",
        [](const Built& b) { return "fastpath.kout_entries=" + std::to_string(b.fastpath.kout_entries); }}},
      {"app-kout-len",
       {"131072", "fastpath.kin_entries=2048", "fastpath.kin_entries=16384", "abc",
        [](const Built& b) { return "fastpath.kin_entries=" + std::to_string(b.fastpath.kin_entries); }}},
      // TCP.
      {"tcp-rtt-init",
       {"77", "timer.rto.rtt_init_us=77 cc.rtt_init_us=77", "timer.rto.rtt_init_us=50 cc.rtt_init_us=50", "0",
        [](const Built& b) {
          return "timer.rto.rtt_init_us=" + std::to_string(b.timer.rto.rtt_init_us) +
                 " cc.rtt_init_us=" + std::to_string(b.cc.params.rtt_init_us);
        }}},
      {"tcp-link-bw",
       {"40", "cc.link_bw_gbps=40", "cc.link_bw_gbps=10", "1001",
        [](const Built& b) { return "cc.link_bw_gbps=" + std::to_string(b.cc.params.link_bw_gbps); }}},
      {"tcp-rxbuf-len",
       {"65536", "fastpath.rx_buffer=65536 conn.rx_buffer=65536",
        "fastpath.rx_buffer=8192 conn.rx_buffer=8192", "512",
        [](const Built& b) {
          return "fastpath.rx_buffer=" + std::to_string(b.fastpath.rx_buffer) +
                 " conn.rx_buffer=" + std::to_string(b.conn.rx_buffer);
        }}},
      {"tcp-txbuf-len",
       {"32768", "fastpath.tx_buffer=32768 conn.tx_buffer=32768",
        "fastpath.tx_buffer=8192 conn.tx_buffer=8192", "2147483648",
        [](const Built& b) {
          return "fastpath.tx_buffer=" + std::to_string(b.fastpath.tx_buffer) +
                 " conn.tx_buffer=" + std::to_string(b.conn.tx_buffer);
        }}},
      {"tcp-handshake-timeout",
       {"20000", "conn.handshake_timeout_us=20000", "conn.handshake_timeout_us=10000", "0",
        [](const Built& b) { return "conn.handshake_timeout_us=" + std::to_string(b.conn.handshake_timeout_us); }}},
      {"tcp-handshake-retries",
       {"3", "conn.handshake_retries=3", "conn.handshake_retries=10", "101",
        [](const Built& b) { return "conn.handshake_retries=" + std::to_string(b.conn.handshake_retries); }}},
      // Congestion control.
      {"cc",
       {"timely", "cc.algorithm=timely", "cc.algorithm=dctcp-rate", "cubic",
        [](const Built& b) { return "cc.algorithm=" + std::string(cc::algorithm_name(b.cc.params.algorithm)); }}},
      {"cc-control-granularity",
       {"80", "cc.control_granularity_us=80", "cc.control_granularity_us=50", "0",
        [](const Built& b) { return "cc.control_granularity_us=" + std::to_string(b.cc.params.control_granularity_us); }}},
      {"cc-control-interval",
       {"4", "cc.control_interval_rtts=4 timer.rto.control_interval_rtts=4",
        "cc.control_interval_rtts=2 timer.rto.control_interval_rtts=2", "1001",
        [](const Built& b) {
          return "cc.control_interval_rtts=" + std::to_string(b.cc.params.control_interval_rtts) +
                 " timer.rto.control_interval_rtts=" + std::to_string(b.timer.rto.control_interval_rtts);
        }}},
      {"cc-rexmit-ints",
       {"6", "timer.rto.rexmit_intervals=6", "timer.rto.rexmit_intervals=4", "0",
        [](const Built& b) { return "timer.rto.rexmit_intervals=" + std::to_string(b.timer.rto.rexmit_intervals); }}},
      {"cc-dctcp-weight",
       {"0.5", "cc.dctcp_weight=" + std::to_string(0.5), "cc.dctcp_weight=" + std::to_string(0.0625), "1.5",
        [](const Built& b) { return "cc.dctcp_weight=" + q32(b.cc.params.dctcp_weight_q32); }}},
      {"cc-dctcp-init",
       {"20000", "cc.dctcp_init_kbps=20000", "cc.dctcp_init_kbps=10000", "-1",
        [](const Built& b) { return "cc.dctcp_init_kbps=" + std::to_string(b.cc.params.dctcp_init_kbps); }}},
      {"cc-dctcp-step",
       {"30000", "cc.dctcp_step_kbps=30000", "cc.dctcp_step_kbps=10000", "4294967296",
        [](const Built& b) { return "cc.dctcp_step_kbps=" + std::to_string(b.cc.params.dctcp_step_kbps); }}},
      {"cc-dctcp-mimd",
       {"1.5", "cc.dctcp_mimd=" + std::to_string(1.5), "cc.dctcp_mimd=" + std::to_string(0.0), "0.5",
        [](const Built& b) { return "cc.dctcp_mimd=" + q32(b.cc.params.dctcp_mimd_q32); }}},
      {"cc-dctcp-min",
       {"5000", "cc.dctcp_min_kbps=5000", "cc.dctcp_min_kbps=10000", "x",
        [](const Built& b) { return "cc.dctcp_min_kbps=" + std::to_string(b.cc.params.dctcp_min_kbps); }}},
      {"cc-dctcp-minpkts",
       {"20", "cc.dctcp_minpkts=20", "cc.dctcp_minpkts=50", "1000001",
        [](const Built& b) { return "cc.dctcp_minpkts=" + std::to_string(b.cc.params.dctcp_minpkts); }}},
      {"cc-const-rate",
       {"123456", "cc.const_rate_kbps=123456", "cc.const_rate_kbps=0", "1.5",
        [](const Built& b) { return "cc.const_rate_kbps=" + std::to_string(b.cc.params.const_rate_kbps); }}},
      {"cc-timely-tlow",
       {"40", "cc.timely_tlow_us=40", "cc.timely_tlow_us=30", "0",
        [](const Built& b) { return "cc.timely_tlow_us=" + std::to_string(b.cc.params.timely_tlow_us); }}},
      {"cc-timely-thigh",
       {"300", "cc.timely_thigh_us=300", "cc.timely_thigh_us=150", "60000001",
        [](const Built& b) { return "cc.timely_thigh_us=" + std::to_string(b.cc.params.timely_thigh_us); }}},
      {"cc-timely-step",
       {"7000", "cc.timely_step_kbps=7000", "cc.timely_step_kbps=10000", "ten",
        [](const Built& b) { return "cc.timely_step_kbps=" + std::to_string(b.cc.params.timely_step_kbps); }}},
      {"cc-timely-init",
       {"8000", "cc.timely_init_kbps=8000", "cc.timely_init_kbps=10000", "-5",
        [](const Built& b) { return "cc.timely_init_kbps=" + std::to_string(b.cc.params.timely_init_kbps); }}},
      {"cc-timely-alpha",
       {"0.25", "cc.timely_alpha=" + std::to_string(0.25), "cc.timely_alpha=" + std::to_string(0.02), "2",
        [](const Built& b) { return "cc.timely_alpha=" + q32(b.cc.params.timely_alpha_q32); }}},
      {"cc-timely-beta",
       {"0.5", "cc.timely_beta=" + std::to_string(0.5), "cc.timely_beta=" + std::to_string(0.8), "nan",
        [](const Built& b) { return "cc.timely_beta=" + q32(b.cc.params.timely_beta_q32); }}},
      {"cc-timely-minrtt",
       {"20", "cc.timely_min_rtt_us=20", "cc.timely_min_rtt_us=11", "0",
        [](const Built& b) { return "cc.timely_min_rtt_us=" + std::to_string(b.cc.params.timely_min_rtt_us); }}},
      {"cc-timely-minrate",
       {"2000", "cc.timely_min_rate_kbps=2000", "cc.timely_min_rate_kbps=10000", "1e3",
        [](const Built& b) { return "cc.timely_min_rate_kbps=" + std::to_string(b.cc.params.timely_min_rate_kbps); }}},
      // IP.
      {"ip-route",
       {"10.9.0.0/16,10.77.0.254", "arp.routes=10.9.0.0/16 via 10.77.0.254", "arp.routes=", "10.9.0.0/16",
        [](const Built& b) {
          std::string out = "arp.routes=";
          for (const auto& r : b.arp.routes) {
            out += ip(r.destination.address) + "/" + std::to_string(r.destination.length) + " via " + ip(r.next_hop);
          }
          return out;
        }}},
      {"ip-addr",
       {"10.88.1.5/16", "fastpath=10.88.1.5/16 conn=10.88.1.5 arp=10.88.1.5/16",
        "fastpath=10.77.0.1/24 conn=10.77.0.1 arp=10.77.0.1/24", "10.77.0.0/24",
        [](const Built& b) {
          return "fastpath=" + ip(b.fastpath.local_ip.value) + "/" + std::to_string(b.fastpath.prefix_length) +
                 " conn=" + ip(b.conn.local_ip) + " arp=" + ip(b.arp.local.address) + "/" +
                 std::to_string(b.arp.local.length);
        }}},
      // ARP.
      {"arp-timeout",
       {"700", "arp.request_timeout_us=700", "arp.request_timeout_us=500", "0",
        [](const Built& b) { return "arp.request_timeout_us=" + std::to_string(b.arp.request_timeout_us); }}},
      {"arp-timeout-max",
       {"20000000", "arp.request_timeout_max_us=20000000 conn.arp_request_timeout_ms=21000",
        "arp.request_timeout_max_us=10000000 conn.arp_request_timeout_ms=11000", "60000001",
        [](const Built& b) {
          return "arp.request_timeout_max_us=" + std::to_string(b.arp.request_timeout_max_us) +
                 " conn.arp_request_timeout_ms=" +
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(b.conn.arp_request_timeout).count());
        }}},
      // Fast path.
      {"fp-cores-max",
       {"2", "fastpath.cores=2 scale.max_cores=2", "fastpath.cores=1 scale.max_cores=1", "17",
        [](const Built& b) {
          return "fastpath.cores=" + std::to_string(b.fastpath.cores) +
                 " scale.max_cores=" + std::to_string(b.scale.monitor.max_cores);
        }}},
      {"fp-no-ints",
       {"", "fastpath.interrupts=no", "fastpath.interrupts=yes", "",
        [](const Built& b) { return "fastpath.interrupts=" + yes(b.fastpath.interrupts); }}},
      {"fp-no-xsumoffload",
       {"", "fastpath.tx_checksum_offload=no", "fastpath.tx_checksum_offload=yes", "",
        [](const Built& b) { return "fastpath.tx_checksum_offload=" + yes(b.fastpath.tx_checksum_offload); }}},
      {"fp-no-autoscale",
       {"", "scale.pinned=yes", "scale.pinned=no", "",
        [](const Built& b) { return "scale.pinned=" + yes(b.scale.monitor.pinned); }}},
      {"fp-no-hugepages",
       {"", "fastpath.hugepages=no eal.--no-huge=yes", "fastpath.hugepages=yes eal.--no-huge=no", "",
        [](const Built& b) {
          return "fastpath.hugepages=" + yes(b.fastpath.hugepages) + " eal.--no-huge=" + yes(has(b.fastpath.eal_args, "--no-huge"));
        }}},
      {"fp-vlan-strip",
       {"", "fastpath.vlan_strip=yes", "fastpath.vlan_strip=no", "",
        [](const Built& b) { return "fastpath.vlan_strip=" + yes(b.fastpath.vlan_strip); }}},
      {"fp-poll-interval-tas",
       {"500", "fastpath.poll_interval_us=500", "fastpath.poll_interval_us=10000", "60000001",
        [](const Built& b) { return "fastpath.poll_interval_us=" + std::to_string(b.fastpath.poll_interval_us); }}},
      // The fast path tells each app at attach (AttachResponse.poll_interval_app_us, filled
      // from this field: clientlib/tests/attach_server_test.cc); libvtas applies it in its
      // blocking wait (clientlib/tests/blocking_test.cc, PollIntervalTest).
      {"fp-poll-interval-app",
       {"500", "fastpath.poll_interval_app_us=500", "fastpath.poll_interval_app_us=10000", "60000001",
        [](const Built& b) { return "fastpath.poll_interval_app_us=" + std::to_string(b.fastpath.poll_interval_app_us); }}},
      {"dpdk-extra",
       {"--log-level=pmd:debug", "eal.--log-level=pmd:debug=yes", "eal.--log-level=pmd:debug=no", "a\tb",
        [](const Built& b) { return "eal.--log-level=pmd:debug=" + yes(has(b.fastpath.eal_args, "--log-level=pmd:debug")); }}},
      // Host kernel interface.
      {"kni-name",
       {"vtk0", "fastpath.kni_name=vtk0", "fastpath.kni_name=", "bad name",
        [](const Built& b) { return "fastpath.kni_name=" + b.fastpath.kni_name; }}},
      // Miscellaneous: read by the supervisor's main (tools/vtas/main.cc), not by an actor.
      {"quiet",
       {"", "supervisor.quiet=yes", "supervisor.quiet=no", "",
        [](const Built& b) { return "supervisor.quiet=" + yes(b.manifest.logging().quiet()); }}},
      {"ready-fd",
       {"5", "supervisor.ready_fd=5", "supervisor.ready_fd=-1", "-1",
        [](const Built& b) { return "supervisor.ready_fd=" + std::to_string(b.command_line.ready_fd.value_or(-1)); }}},
      // vtas's own.
      {"instance",
       {"other", "fastpath.instance=other", "fastpath.instance=reach", "Bad!",
        [](const Built& b) { return "fastpath.instance=" + b.fastpath.instance; }}},
      {"runtime-dir",
       {"/tmp/vtas-elsewhere", "fastpath=/tmp/vtas-elsewhere timer=/tmp/vtas-elsewhere/flows cc=/tmp/vtas-elsewhere/flows scale=/tmp/vtas-elsewhere/flows",
        "fastpath=/tmp/vtas-reach timer=/tmp/vtas-reach/flows cc=/tmp/vtas-reach/flows scale=/tmp/vtas-reach/flows", "relative",
        [](const Built& b) {
          return "fastpath=" + b.fastpath.runtime_dir + " timer=" + b.timer.flow_table_path +
                 " cc=" + b.cc.flow_table_path + " scale=" + b.scale.flow_table_path;
        }}},
      {"device",
       {"net_tap0,iface=vtt0", "fastpath.device=net_tap0,iface=vtt0",
        "fastpath.device=net_af_packet0,iface=vtas0,framecnt=8192", "has space",
        [](const Built& b) { return "fastpath.device=" + b.fastpath.device; }}},
      {"log-level",
       {"debug", "supervisor.log_level=debug", "supervisor.log_level=info", "loud",
        [](const Built& b) { return "supervisor.log_level=" + b.manifest.logging().level(); }}},
  };
  return table;
}

// Flags that reach no component yet, with the reason. Fixing one means moving it to reaches().
const std::map<std::string, std::string>& known_gaps() {
  static const std::map<std::string, std::string> gaps = {
  };
  return gaps;
}

// Not parameters: they select what runs (--manifest) or print and exit.
const std::set<std::string> kNotParameters = {"manifest", "help", "version"};

TEST(ParameterReach, AllFlagsAreCovered) {
  for (const Parameter& row : parameter_table()) {
    std::string flag(row.flag);
    bool covered = reaches().count(flag) + known_gaps().count(flag) + kNotParameters.count(flag);
    EXPECT_EQ(covered, 1) << "--" << flag << ": say which component reads it (reaches()), or why none does";
  }
  for (const auto& [flag, reach] : reaches()) {
    EXPECT_NE(find_parameter(flag), nullptr) << "--" << flag << " is not in the parameter table";
  }
}

TEST(ParameterReach, TheBaseManifestBuildsEveryComponent) {
  auto b = build({});
  ASSERT_TRUE(b) << b.error().message;
}

TEST(ParameterReach, EveryDefaultReachesItsComponent) {
  auto b = build({});
  ASSERT_TRUE(b) << b.error().message;
  for (const auto& [flag, reach] : reaches()) {
    EXPECT_EQ(reach.read(*b), reach.by_default) << "--" << flag << " left out";
  }
}

TEST(ParameterReach, EveryValueReachesItsComponent) {
  for (const auto& [flag, reach] : reaches()) {
    const Parameter* row = find_parameter(flag);
    ASSERT_NE(row, nullptr) << flag;
    std::string argument = "--" + flag + (takes_value(*row) ? "=" + reach.value : "");
    auto b = build({argument});
    ASSERT_TRUE(b) << argument << ": " << b.error().message;
    EXPECT_EQ(reach.read(*b), reach.with_value) << argument;
    // And the other spelling TAS's getopt_long accepts.
    if (takes_value(*row)) {
      auto spaced = build({"--" + flag, reach.value});
      ASSERT_TRUE(spaced) << "--" << flag << " " << reach.value << ": " << spaced.error().message;
      EXPECT_EQ(reach.read(*spaced), reach.with_value) << "--" << flag << " " << reach.value;
    }
  }
}

TEST(ParameterReach, ABadValueIsRefusedWithTheFlagTheValueAndTheRange) {
  for (const auto& [flag, reach] : reaches()) {
    const Parameter* row = find_parameter(flag);
    ASSERT_NE(row, nullptr) << flag;
    std::string argument = "--" + flag + "=" + (takes_value(*row) ? reach.bad_value : "1");
    std::vector<const char*> argv{"vtas", argument.c_str()};
    auto parsed = parse_command_line(2, argv.data());
    ASSERT_FALSE(parsed) << argument << " was accepted";
    const std::string& message = parsed.error().message;
    EXPECT_NE(message.find(argument), std::string::npos) << message;
    if (takes_value(*row)) {
      EXPECT_NE(message.find("(allowed: " + allowed_text(*row) + ")"), std::string::npos) << message;
    } else {
      EXPECT_NE(message.find("takes no value"), std::string::npos) << message;
    }
  }
}

TEST(ParameterReach, HelpDocumentsEveryFlagWithItsDefaultAndRange) {
  const std::string help = command_line_help();
  for (const Parameter& row : parameter_table()) {
    std::string flag = "--" + std::string(row.flag);
    size_t at = help.find("  " + flag + (takes_value(row) ? "=" : ""));
    ASSERT_NE(at, std::string::npos) << flag << " is missing from vtas --help";
    if (row.type == ValueType::kHelp || row.type == ValueType::kVersion) continue;
    size_t next = help.find("\n  --", at + 1);
    std::string entry = help.substr(at, next == std::string::npos ? std::string::npos : next - at);
    EXPECT_NE(entry.find("default: " + default_text(row)), std::string::npos) << entry;
    if (takes_value(row)) {
      EXPECT_NE(entry.find("allowed: " + allowed_text(row)), std::string::npos) << entry;
    }
  }
}

TEST(ParameterReach, ParameterEffectsThatAreNotOneFieldHold) {
  // --fp-no-ints also makes the cores poll forever (TAS: poll_cycle_tas = UINT32_MAX).
  auto b = build({"--fp-no-ints"});
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->fastpath.poll_interval_us, UINT32_MAX);
  // --fp-cores-max on net_af_packet asks for one queue pair per core.
  b = build({"--fp-cores-max=2"});
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_NE(b->fastpath.device.find("qpairs=2"), std::string::npos) << b->fastpath.device;
  // net_af_packet gets a deeper kernel ring than DPDK's 512 frames, unless the string sets one.
  EXPECT_NE(b->fastpath.device.find(",framecnt=8192"), std::string::npos) << b->fastpath.device;
  b = build({"--device=net_af_packet0,iface=vtas0,framecnt=1024"});
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->fastpath.device, "net_af_packet0,iface=vtas0,framecnt=1024");
  // --arp-timeout above --arp-timeout-max contradicts: refused when the manifest is checked.
  EXPECT_FALSE(build({"--arp-timeout=2000", "--arp-timeout-max=1000"}));
  // --cc-timely-tlow above --cc-timely-thigh: the cc actor refuses to start with the reason.
  auto bad = build({"--cc-timely-tlow=500", "--cc-timely-thigh=100"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("tlow"), std::string::npos) << bad.error().message;
  // Without --ip-addr the fast path cannot start and says why.
  auto no_ip = build({}, "network { device: \"net_af_packet0,iface=vtas0\" }\n"
                        "actor { name: \"fastpath\" kind: \"fastpath\" }\n");
  ASSERT_FALSE(no_ip);
  EXPECT_NE(no_ip.error().message.find("ip_addr"), std::string::npos) << no_ip.error().message;
}

}  // namespace
}  // namespace vtas
