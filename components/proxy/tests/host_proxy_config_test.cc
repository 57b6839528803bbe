// The proxy-host actor's manifest settings (proxy_host { ... }, proto/manifest.proto): how they
// read, how wrong values are reported (file:line:col, the offending value, what to do), and
// that host_proxy_config_from_manifest hands them to the actor.
#include <grp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "components/proxy/host/host_proxy_actor.h"
#include "runtime/manifest/tests/test_rules.h"
#include "runtime/manifest/unix_group.h"

namespace vtas::proxy {
namespace {

using testing_manifest::all_kinds;
using testing_manifest::errors_of;

// A manifest with one proxy-host actor whose settings are `settings` (written on line 2, so
// positions in the messages are easy to check: the settings start at column 3).
std::string with_settings(const std::string& settings) {
  return "actor { name: \"proxy\" kind: \"proxy-host\"\n"
         "  proxy_host { " +
         settings + " } }\n";
}

manifest::Manifest load(const std::string& text) {
  auto loaded = load_manifest_text(text, "m.txtpb", all_kinds());
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  return loaded.ok() ? *loaded : manifest::Manifest();
}

// The name of a group this host has (every Linux system has gid 0's group).
std::string existing_group_name() {
  const group* g = ::getgrgid(0);
  return g ? g->gr_name : "root";
}

TEST(HostProxyConfig, DefaultsWithoutSettings) {
  auto m = load("runtime_dir: \"/run/vtas/t\"\nactor { name: \"proxy\" kind: \"proxy-host\" }\n");
  HostProxyConfig c = host_proxy_config_from_manifest(m, m.actor(0).proxy_host());
  EXPECT_EQ(c.socket_path, "/run/vtas/t/ivshmem.sock");
  EXPECT_EQ(c.fastpath_socket, "/run/vtas/t/app.sock");
  EXPECT_EQ(c.socket_group, "");
  // The schema's defaults are the code's defaults.
  VmLimits code_defaults;
  EXPECT_EQ(c.limits.region_size, code_defaults.region_size);
  EXPECT_EQ(c.limits.max_connections, code_defaults.max_connections);
  EXPECT_EQ(c.limits.max_apps, code_defaults.max_apps);
  EXPECT_EQ(c.limits.max_contexts, code_defaults.max_contexts);
  EXPECT_EQ(c.limits.max_rate_kbps, code_defaults.max_rate_kbps);
  EXPECT_EQ(c.limits.max_rate_kbps, 0u);  // no limit
  EXPECT_EQ(c.max_vms, HostProxyConfig().max_vms);
}

TEST(HostProxyConfig, EverySettingReachesTheConfig) {
  auto m = load("runtime_dir: \"/run/vtas/t\"\n" +
                with_settings("socket_path: \"/run/qemu/vtas.sock\" socket_group: \"" +
                              existing_group_name() +
                              "\" region_size_mib: 1024 max_vms: 3 max_connections: 2 "
                              "max_apps: 5 max_contexts: 7 max_rate_kbps: 40000"));
  HostProxyConfig c = host_proxy_config_from_manifest(m, m.actor(0).proxy_host());
  EXPECT_EQ(c.socket_path, "/run/qemu/vtas.sock");
  EXPECT_EQ(c.fastpath_socket, "/run/vtas/t/app.sock");  // always the instance's own
  EXPECT_EQ(c.socket_group, existing_group_name());
  EXPECT_EQ(c.limits.region_size, 1024ull << 20);
  EXPECT_EQ(c.max_vms, 3u);
  EXPECT_EQ(c.limits.max_connections, 2u);
  EXPECT_EQ(c.limits.max_apps, 5u);
  EXPECT_EQ(c.limits.max_contexts, 7u);
  EXPECT_EQ(c.limits.max_rate_kbps, 40000u);
}

TEST(HostProxyConfig, RegionSizeMustBeAPowerOfTwoIn8To65536MiB) {
  for (const char* good : {"8", "256", "65536"}) {
    EXPECT_EQ(errors_of(with_settings(std::string("region_size_mib: ") + good)), "") << good;
  }
  EXPECT_EQ(
      errors_of(with_settings("region_size_mib: 100")),
      "m.txtpb:2:33: actor[0].proxy_host.region_size_mib: 100: not a power of two in 8..65536 "
      "(QEMU's ivshmem needs a power of two, e.g. 256)");
  for (const char* bad : {"0", "4", "131072"}) {
    EXPECT_NE(
        errors_of(with_settings(std::string("region_size_mib: ") + bad))
            .find(std::string("region_size_mib: ") + bad + ": not a power of two in 8..65536"),
        std::string::npos)
        << bad;
  }
}

TEST(HostProxyConfig, CountsMustLeaveRoomForOne) {
  EXPECT_EQ(errors_of(with_settings("max_vms: 0")),
            "m.txtpb:2:25: actor[0].proxy_host.max_vms: 0: out of range (allowed: 1..65534)");
  EXPECT_EQ(errors_of(with_settings("max_vms: 70000")),
            "m.txtpb:2:25: actor[0].proxy_host.max_vms: 70000: out of range (allowed: 1..65534)");
  EXPECT_EQ(errors_of(with_settings("max_apps: 0")),
            "m.txtpb:2:26: actor[0].proxy_host.max_apps: 0 must be greater than 0");
  EXPECT_EQ(errors_of(with_settings("max_contexts: 0")),
            "m.txtpb:2:30: actor[0].proxy_host.max_contexts: 0 must be greater than 0");
  // 0 connections means "no limit", as TAS's rate 0 means unlimited.
  EXPECT_EQ(errors_of(with_settings("max_connections: 0")), "");
}

TEST(HostProxyConfig, SocketPathMustBeAbsoluteAndFitAUnixAddress) {
  EXPECT_EQ(errors_of(with_settings("socket_path: \"ivshmem.sock\"")),
            "m.txtpb:2:29: actor[0].proxy_host.socket_path: \"ivshmem.sock\": not an absolute path "
            "(leave it out for <runtime_dir>/ivshmem.sock)");
  std::string long_path = "/" + std::string(107, 'a');
  EXPECT_EQ(errors_of(with_settings("socket_path: \"" + long_path + "\"")),
            "m.txtpb:2:29: actor[0].proxy_host.socket_path: \"" + long_path +
                "\": 108 bytes, at most 107 fit in a unix socket address (use a shorter path)");
  EXPECT_EQ(errors_of(with_settings("socket_path: \"/" + std::string(106, 'a') + "\"")), "");
}

TEST(HostProxyConfig, SocketGroupMustExistOrBeNumeric) {
  EXPECT_EQ(errors_of(with_settings("socket_group: \"no-such-group-vt\"")),
            "m.txtpb:2:30: actor[0].proxy_host.socket_group: unknown group \"no-such-group-vt\" "
            "(create it with `groupadd no-such-group-vt`, or give a numeric gid)");
  EXPECT_EQ(errors_of(with_settings("socket_group: \"\"")),
            "m.txtpb:2:30: actor[0].proxy_host.socket_group: empty group name (give a group name "
            "or a numeric gid)");
  EXPECT_EQ(errors_of(with_settings("socket_group: \"" + existing_group_name() + "\"")), "");
  EXPECT_EQ(errors_of(with_settings("socket_group: \"64055\"")), "");  // as chown(1) takes it
}

TEST(HostProxyConfig, OnlyProxyHostActorsTakeTheSettings) {
  EXPECT_EQ(
      errors_of("actor { name: \"echo\" kind: \"diag-echo\" proxy_host { max_vms: 2 } }\n"),
      "m.txtpb:1:40: actor[0].proxy_host: only proxy-host actors take proxy_host settings (this "
      "one is \"diag-echo\")");
}

TEST(HostProxyConfig, EveryProblemIsReportedAtOnce) {
  std::string errors =
      errors_of(with_settings("region_size_mib: 3 max_vms: 0 socket_group: \"nope-vt\""));
  EXPECT_NE(errors.find("region_size_mib: 3:"), std::string::npos) << errors;
  EXPECT_NE(errors.find("max_vms: 0:"), std::string::npos) << errors;
  EXPECT_NE(errors.find("unknown group \"nope-vt\""), std::string::npos) << errors;
}

TEST(ResolveGroup, NamesNumbersAndMistakes) {
  auto root = resolve_group(existing_group_name());
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(*root, 0u);
  auto numeric = resolve_group("4242");
  ASSERT_TRUE(numeric.ok()) << numeric.error().message;
  EXPECT_EQ(*numeric, 4242u);
  EXPECT_FALSE(resolve_group("4294967295").ok());  // (gid_t)-1 means "unchanged" to chown
  EXPECT_FALSE(resolve_group("-1").ok());
  EXPECT_FALSE(resolve_group("12abc-vt").ok());
}

}  // namespace
}  // namespace vtas::proxy
