// Positions in manifest text: byte columns despite tabs, and list elements located one by one.
#include "runtime/manifest/manifest_locations.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "proto/manifest.pb.h"

namespace vtas {
namespace {

using google::protobuf::TextFormat;

// Parses `text` and answers positions of paths in it.
class Located {
 public:
  explicit Located(std::string text) : text_(std::move(text)), source_(text_) {
    TextFormat::Parser parser;
    parser.WriteLocationsTo(&tree_);
    parsed_ = parser.ParseFromString(text_, &manifest_);
  }
  bool parsed() const { return parsed_; }
  std::string at(const FieldPath& path) const {
    ManifestLocations locations(source_, tree_);
    auto position = locations.find(path);
    return position ? to_string(*position) : "none";
  }

 private:
  std::string text_;
  SourceText source_;
  TextFormat::ParseInfoTree tree_;
  manifest::Manifest manifest_;
  bool parsed_ = false;
};

FieldPath path(std::string_view name, int index = -1) {
  return FieldPath().child(manifest::Manifest::descriptor(), name, index);
}
FieldPath path(const FieldPath& parent, std::string_view name, int index = -1) {
  return parent.child(manifest::Manifest::descriptor(), name, index);
}

TEST(SourceText, ConvertsTokenizerColumnsToByteColumns) {
  SourceText source("a\n\tb: 1\n  \tc\n");
  EXPECT_EQ(to_string(source.position(0, 0)), "1:1");
  // The tokenizer puts `b` after a tab at column 8; it is the second byte of the line.
  EXPECT_EQ(to_string(source.position(1, 8)), "2:2");
  EXPECT_EQ(to_string(source.position(1, 11)), "2:5");
  EXPECT_EQ(to_string(source.position(2, 8)), "3:4");
}

TEST(ManifestLocations, PointsAtValuesOfScalarsAndNamesOfMessages) {
  Located located("instance: \"x\"\nactor {\n  name:   \"echo\"\n}\n");
  ASSERT_TRUE(located.parsed());
  EXPECT_EQ(located.at(path("instance")), "1:11");
  EXPECT_EQ(located.at(path("actor", 0)), "2:1");
  EXPECT_EQ(located.at(path(path("actor", 0), "name")), "3:11");
  FieldPath path_with_tab = path(path("actor", 0), "name");
  EXPECT_EQ(Located("actor {\n\tname:\t\"echo\"\n}\n").at(path_with_tab), "2:8");
}

TEST(ManifestLocations, FallsBackToTheNearestWrittenAncestor) {
  Located located("# comment\nactor {\n  kind: \"diag-echo\"\n}\n");
  ASSERT_TRUE(located.parsed());
  EXPECT_EQ(located.at(path(path("actor", 0), "name")), "2:1");
  EXPECT_EQ(located.at(path("supervision")), "none");
}

TEST(ManifestLocations, FindsEachElementOfAList) {
  Located located(
      "network {\n"
      "  eal_arg: [\"-a\", \"-b\"]\n"
      "  eal_arg: \"-c\"\n"
      "  eal_arg: [\"-d\"]\n"
      "}\n"
      "actor: [{ name: \"a\" }, < name: \"b\" >]\n"
      "actor { name: \"c\" }\n");
  ASSERT_TRUE(located.parsed());
  FieldPath network = path("network");
  EXPECT_EQ(located.at(path(network, "eal_arg", 0)), "2:13");
  EXPECT_EQ(located.at(path(network, "eal_arg", 1)), "2:19");
  EXPECT_EQ(located.at(path(network, "eal_arg", 2)), "3:12");
  EXPECT_EQ(located.at(path(network, "eal_arg", 3)), "4:13");
  EXPECT_EQ(located.at(path("actor", 0)), "6:9");
  EXPECT_EQ(located.at(path("actor", 1)), "6:24");
  EXPECT_EQ(located.at(path("actor", 2)), "7:1");
  EXPECT_EQ(located.at(path(path("actor", 1), "name")), "6:32");
  EXPECT_EQ(located.at(path(path("actor", 2), "name")), "7:15");
}

}  // namespace
}  // namespace vtas
