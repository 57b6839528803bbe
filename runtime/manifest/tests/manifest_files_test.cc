// The manifests shipped in manifests/ load and validate with every kind vtas will know.
#include <gtest/gtest.h>

#include <filesystem>

#include "runtime/manifest/manifest_loader.h"
#include "runtime/manifest/tests/test_rules.h"

namespace vtas {
namespace {

const std::string kManifestDir = std::string(VTAS_SOURCE_DIR) + "/manifests";

manifest::Manifest load(const std::string& name) {
  auto loaded = load_manifest_file(kManifestDir + "/" + name, testing_manifest::all_kinds());
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  return loaded.ok() ? *loaded : manifest::Manifest();
}

TEST(ShippedManifests, EveryFileValidates) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kManifestDir)) {
    if (entry.path().extension() != ".txtpb") continue;
    auto loaded = load_manifest_file(entry.path().string(), testing_manifest::all_kinds());
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    ++files;
  }
  EXPECT_GE(files, 3);
}

TEST(ShippedManifests, DefaultRunsTheTcpServiceOnTheEmbeddedNetwork) {
  auto manifest = load("default.txtpb");
  EXPECT_EQ(manifest.instance(), "vtas");
  EXPECT_EQ(manifest.network().ip_addr(), "10.77.0.1/24");
  EXPECT_EQ(manifest.network().device(), "net_af_packet0,iface=vtas0");
  ASSERT_EQ(manifest.actor_size(), 6);
  const char* kinds[] = {"fastpath", "arp", "timer", "conn", "cc", "scale"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(manifest.actor(i).kind(), kinds[i]);
    EXPECT_EQ(manifest.actor(i).placement(), manifest::PLACEMENT_PROCESS);
  }
}

TEST(ShippedManifests, DiagIsTheRuntimeDemo) {
  auto manifest = load("diag.txtpb");
  EXPECT_EQ(manifest.instance(), "vtas");
  ASSERT_EQ(manifest.actor_size(), 3);
  EXPECT_EQ(manifest.actor(0).name(), "echo");
  EXPECT_EQ(manifest.actor(0).kind(), "diag-echo");
  EXPECT_EQ(manifest.actor(0).placement(), manifest::PLACEMENT_PROCESS);
  EXPECT_EQ(manifest.actor(1).name(), "pinger");
  EXPECT_EQ(manifest.actor(1).kind(), "diag-pinger");
  EXPECT_EQ(manifest.actor(1).placement(), manifest::PLACEMENT_PROCESS);
  EXPECT_EQ(manifest.actor(1).diag().peer(), "echo");
  EXPECT_EQ(manifest.actor(1).diag().rate_hz(), 5u);
  EXPECT_EQ(manifest.actor(2).name(), "monitor");
  EXPECT_EQ(manifest.actor(2).kind(), "diag-echo");
  EXPECT_EQ(manifest.actor(2).placement(), manifest::PLACEMENT_THREAD);
}

void expect_three_diag_actors(const manifest::Manifest& manifest, manifest::Placement placement) {
  ASSERT_EQ(manifest.actor_size(), 3);
  int echoes = 0;
  int pingers = 0;
  for (const auto& actor : manifest.actor()) {
    EXPECT_EQ(actor.placement(), placement) << actor.name();
    echoes += actor.kind() == "diag-echo";
    pingers += actor.kind() == "diag-pinger";
  }
  EXPECT_EQ(echoes, 1);
  EXPECT_EQ(pingers, 2);
}

TEST(ShippedManifests, AllThreads) {
  expect_three_diag_actors(load("all-threads.txtpb"), manifest::PLACEMENT_THREAD);
}

TEST(ShippedManifests, AllProcesses) {
  expect_three_diag_actors(load("all-processes.txtpb"), manifest::PLACEMENT_PROCESS);
}

}  // namespace
}  // namespace vtas
