// Where things were written in a manifest file, so every message can start with
// `file:line:col`. Lines and columns are 1-based; columns count bytes (a tab is one column),
// which is what editors jump to. Used by the manifest loader and validator only.
//
// Two protobuf details are handled here rather than leaking into the validator:
//  - the text-format tokenizer expands tabs to multiples of 8 in its columns;
//  - ParseInfoTree records one location per *occurrence* of a repeated field, so the
//    elements of `eal_arg: ["a", "b"]` share one location; we re-tokenize the occurrence to
//    find each element.
#pragma once

#include <google/protobuf/text_format.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/manifest/field_path.h"

namespace vtas {

struct SourcePosition {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
};

// "12:9"
std::string to_string(const SourcePosition& position);

// The manifest text, indexed by line.
class SourceText {
 public:
  using TokenizerLocation = google::protobuf::TextFormat::ParseLocation;

  explicit SourceText(std::string_view text);

  // Converts a protobuf position (0-based line, tab-expanded column) to a SourcePosition.
  SourcePosition position(int line, int column) const;
  // Byte offset of a SourcePosition in the text and back (clamped to the text).
  size_t offset_of(const SourcePosition& position) const;
  SourcePosition at_offset(size_t offset) const;
  std::string_view text() const { return text_; }

  // For the field whose name starts at `field_name`: `single` is the start of its value
  // (`name: value`), or `elements` the start of each element (`name: [a, b]`).
  struct Values {
    std::optional<TokenizerLocation> single;
    std::vector<TokenizerLocation> elements;
    bool is_list = false;
  };
  Values values_of(TokenizerLocation field_name) const;

 private:
  std::string_view text_;
  std::vector<size_t> line_starts_;
};

// Looks up FieldPaths in the ParseInfoTree of one parse. Both arguments must outlive it.
class ManifestLocations {
 public:
  ManifestLocations(const SourceText& source,
                    const google::protobuf::TextFormat::ParseInfoTree& tree)
      : source_(source), tree_(tree) {}

  // Where `path` was written: the value of a scalar field, the name of a message field (or
  // its element in a list). A path that was not written resolves to its nearest written
  // ancestor (a missing `name` points at its `actor {`); nullopt if none was written.
  std::optional<SourcePosition> find(const FieldPath& path) const;

 private:
  std::optional<SourceText::TokenizerLocation> locate(
      const google::protobuf::TextFormat::ParseInfoTree& tree,
      const google::protobuf::FieldDescriptor* field, int index) const;
  // Where each element of a repeated field starts, computed once per field and tree: a long
  // list with many bad elements must not be re-tokenized for each of them.
  const std::vector<SourceText::TokenizerLocation>& elements_of(
      const google::protobuf::TextFormat::ParseInfoTree& tree,
      const google::protobuf::FieldDescriptor* field) const;

  const SourceText& source_;
  const google::protobuf::TextFormat::ParseInfoTree& tree_;
  mutable std::map<std::pair<const void*, const void*>, std::vector<SourceText::TokenizerLocation>>
      elements_cache_;
};

}  // namespace vtas
