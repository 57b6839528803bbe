// File + command line = the manifest an instance runs.
#include "runtime/manifest/resolve_manifest.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "runtime/manifest/tests/test_rules.h"

namespace vtas {
namespace {

class ResolveManifest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "vtas-resolve-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/m.txtpb";
    std::ofstream(path_) << "tas { arp_timeout_max: 1000 }\n"
                            "actor { name: \"echo\" kind: \"diag-echo\" }\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Result<manifest::Manifest> resolve(std::vector<std::string> arguments,
                                     const std::string& default_path) {
    std::vector<const char*> argv{"vtas"};
    for (const auto& argument : arguments) argv.push_back(argument.c_str());
    auto command_line = parse_command_line(static_cast<int>(argv.size()), argv.data());
    EXPECT_TRUE(command_line.ok()) << command_line.error().message;
    if (!command_line.ok()) return command_line.error();
    return resolve_manifest(*command_line, testing_manifest::all_kinds(), default_path);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(ResolveManifest, AppliesFlagsOnTopOfTheFile) {
  auto resolved =
      resolve({"--manifest", path_, "--arp-timeout=800", "--instance=x"}, "/nonexistent");
  ASSERT_TRUE(resolved.ok()) << resolved.error().message;
  EXPECT_EQ(resolved->tas().arp_timeout(), 800u);
  EXPECT_EQ(resolved->tas().arp_timeout_max(), 1000u);
  EXPECT_EQ(resolved->instance(), "x");
}

TEST_F(ResolveManifest, UsesTheDefaultPathWithoutManifestFlag) {
  auto resolved = resolve({}, path_);
  ASSERT_TRUE(resolved.ok()) << resolved.error().message;
  EXPECT_EQ(resolved->actor(0).name(), "echo");
}

TEST_F(ResolveManifest, AFlagContradictingTheFileIsReported) {
  auto resolved = resolve({"--manifest=" + path_, "--arp-timeout=5000"}, "");
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().message,
            path_ +
                " with command-line options: tas.arp_timeout_max: 1000 must be at least "
                "tas.arp_timeout (5000)");
}

TEST_F(ResolveManifest, MissingFile) {
  auto resolved = resolve({"--manifest=" + dir_ + "/nope.txtpb"}, path_);
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().message, dir_ + "/nope.txtpb: cannot read: No such file or directory");
}

}  // namespace
}  // namespace vtas
