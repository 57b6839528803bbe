// Reading files, syntax errors with their positions, and the text round trip.
#include "runtime/manifest/manifest_loader.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "runtime/manifest/tests/test_rules.h"

namespace vtas {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing_manifest::all_kinds;
using testing_manifest::errors_of;

// A fresh directory per test, removed afterwards.
class ManifestFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "vtas-manifest-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(ManifestFiles, LoadsAFile) {
  std::string path =
      write("m.txtpb", "instance: \"demo\"\nactor { name: \"echo\" kind: \"diag-echo\" }\n");
  auto loaded = load_manifest_file(path, all_kinds());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->instance(), "demo");
  ASSERT_EQ(loaded->actor_size(), 1);
  EXPECT_EQ(loaded->actor(0).placement(), manifest::PLACEMENT_PROCESS);  // schema default
}

TEST_F(ManifestFiles, NamesTheFileInEveryError) {
  std::string path = write("bad.txtpb", "actor { name: \"Echo\" kind: \"diag-echo\" }\n");
  auto loaded = load_manifest_file(path, all_kinds());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(
      loaded.error().message,
      path + ":1:15: actor[0].name: \"Echo\": invalid name (allowed: 1 to 32 of a-z 0-9 _ -)");
}

TEST_F(ManifestFiles, MissingFile) {
  auto loaded = load_manifest_file(dir_ + "/absent.txtpb", all_kinds());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message, dir_ + "/absent.txtpb: cannot read: No such file or directory");
}

TEST_F(ManifestFiles, DirectoryIsNotAManifest) {
  auto loaded = load_manifest_file(dir_, all_kinds());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message, dir_ + ": cannot read: Is a directory");
}

TEST_F(ManifestFiles, HugeFileIsRefused) {
  std::string path = write("huge.txtpb", std::string(kMaxManifestBytes + 1, '#'));
  auto loaded = load_manifest_file(path, all_kinds());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find(path + ": too large"), std::string::npos);
}

TEST(ManifestSyntax, UnknownField) {
  EXPECT_EQ(errors_of("instance: \"x\"\nfoo: 3\n"),
            "m.txtpb:2:1: Message type \"vtas.manifest.Manifest\" has no field named \"foo\".");
  EXPECT_EQ(errors_of("actor {\n  name: \"echo\"\n  kindd: \"diag-echo\"\n}\n"),
            "m.txtpb:3:3: Message type \"vtas.manifest.Actor\" has no field named \"kindd\".");
}

TEST(ManifestSyntax, BadEnumName) {
  EXPECT_EQ(errors_of("actor {\n  placement: BOGUS\n}\n"),
            "m.txtpb:2:14: Unknown enumeration value of \"BOGUS\" for field \"placement\".");
  // The tokenizer counts a tab as up to 8 columns; positions are in bytes.
  EXPECT_EQ(errors_of("actor {\n\tplacement:\tBOGUS\n}\n"),
            "m.txtpb:2:13: Unknown enumeration value of \"BOGUS\" for field \"placement\".");
}

TEST(ManifestSyntax, UnterminatedString) {
  EXPECT_EQ(errors_of("actor {\n  name: \"echo\n}\n"),
            "m.txtpb:2:14: String literals cannot cross line boundaries.");
  std::string at_end = errors_of("actor { name: \"echo");
  EXPECT_EQ(at_end.substr(0, at_end.find('\n')), "m.txtpb:1:20: Unexpected end of string.");
}

TEST(ManifestSyntax, OtherErrors) {
  EXPECT_EQ(errors_of("instance: \"a\" instance: \"b\"\n"),
            "m.txtpb:1:15: Non-repeated field \"instance\" is specified multiple times.");
  EXPECT_EQ(errors_of("tas { shm_len: -1 }\n"), "m.txtpb:1:16: Expected integer, got: -");
  EXPECT_EQ(errors_of("tas { tcp_link_bw: 99999999999 }\n"),
            "m.txtpb:1:20: Integer out of range (99999999999)");
  EXPECT_EQ(errors_of("actor { name: \"x\"\n"),
            "m.txtpb:2:1: Expected identifier, got: end of file");
}

TEST(ManifestText, RoundTripsEverySection) {
  const std::string text = R"(
instance: "rt"
runtime_dir: "/tmp/vtas-rt"
supervision { max_restarts: 3 period_ms: 5000 heartbeat_interval_ms: 50 heartbeat_timeout_ms: 400 }
actor {
  name: "echo"
  kind: "diag-echo"
  placement: PLACEMENT_THREAD
  restart: RESTART_POLICY_TRANSIENT
  backoff { initial_ms: 10 multiplier: 1.5 max_ms: 500 reset_after_ms: 100 }
  log_level: "debug"
}
actor {
  name: "pinger"
  kind: "diag-pinger"
  binary: "/usr/bin/vtas"
  diag { peer: "echo" rate_hz: 5 count: 7 payload_bytes: 32 }
}
network {
  ip_addr: "10.0.0.1/24"
  route { destination: "10.1.0.0/16" next_hop: "10.0.0.254" }
  eal_arg: "--no-pci"
  eal_arg: "--vdev=net_null0"
  device: "net_null0"
}
tas { cc: CONGESTION_CONTROL_TIMELY cc_timely_alpha: 0.125 cc_dctcp_mimd: 1.5 kni_name: "vtas0"
      fp_no_ints: true shm_len: 2147483648 }
logging { quiet: true level: "warn" }
)";
  auto first = load_manifest_text(text, "rt.txtpb", all_kinds());
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::string written = manifest_to_text(*first);
  auto second = load_manifest_text(written, "written.txtpb", all_kinds());
  ASSERT_TRUE(second.ok()) << second.error().message << "\n" << written;
  EXPECT_TRUE(MessageDifferencer::Equals(*first, *second)) << written;
  // Unset fields stay unset: readers still tell "default" from "set to the default".
  EXPECT_FALSE(second->tas().has_tcp_link_bw());
  EXPECT_TRUE(second->tas().has_fp_no_ints());
}

// Nothing may crash on bad input: every prefix of a rich manifest, and byte flips of it, give
// either a manifest or an error with a position.
TEST(ManifestText, SurvivesTruncationAndCorruption) {
  const std::string text =
      "instance: \"x\"\n"
      "actor: [{ name: \"echo\" kind: \"diag-echo\" }, { name: \"p\" kind: \"diag-pinger\"\n"
      "  diag { peer: \"echo\" } }]\n"
      "network { ip_addr: \"10.0.0.1/24\" eal_arg: [\"-a\", \"-b\"]\n"
      "  route { destination: \"10.1.0.0/16\" next_hop: \"10.0.0.254\" } }\n"
      "tas { cc: CONGESTION_CONTROL_TIMELY cc_timely_alpha: 0.5 }\n";
  ASSERT_EQ(errors_of(text), "");
  for (size_t length = 0; length < text.size(); ++length) {
    auto loaded = load_manifest_text(text.substr(0, length), "t.txtpb", all_kinds());
    EXPECT_TRUE(loaded.ok() || loaded.error().message.rfind("t.txtpb:", 0) == 0);
  }
  const char replacements[] = {'\0', '\t', '\n', '"', '[', ']', '{', '}', ':', ',', '#', '\xff'};
  for (size_t at = 0; at < text.size(); ++at) {
    for (char replacement : replacements) {
      std::string corrupted = text;
      corrupted[at] = replacement;
      auto loaded = load_manifest_text(corrupted, "t.txtpb", all_kinds());
      EXPECT_TRUE(loaded.ok() || loaded.error().message.rfind("t.txtpb:", 0) == 0);
    }
  }
}

}  // namespace
}  // namespace vtas
