#include "runtime/manifest/manifest_locations.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>

namespace vtas {

using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;
namespace io = google::protobuf::io;

namespace {

// The tokenizer's tab width (google/protobuf/io/tokenizer.cc).
constexpr int kTokenizerTabWidth = 8;

// The text was already parsed successfully; re-tokenizing it cannot fail in a way we care about.
class IgnoreErrors : public io::ErrorCollector {
 public:
  void AddError(int, io::ColumnNumber, const std::string&) override {}
};

bool is_open(const std::string& token) {
  return token == "[" || token == "{" || token == "<";
}
bool is_close(const std::string& token) {
  return token == "]" || token == "}" || token == ">";
}

}  // namespace

std::string to_string(const SourcePosition& position) {
  return std::to_string(position.line) + ":" + std::to_string(position.column);
}

SourceText::SourceText(std::string_view text) : text_(text) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
}

SourcePosition SourceText::position(int line, int column) const {
  if (line < 0) return SourcePosition{};
  if (static_cast<size_t>(line) >= line_starts_.size())
    line = static_cast<int>(line_starts_.size()) - 1;
  size_t offset = line_starts_[static_cast<size_t>(line)];
  int visual = 0;
  int bytes = 0;
  while (visual < column && offset < text_.size() && text_[offset] != '\n') {
    visual += text_[offset] == '\t' ? kTokenizerTabWidth - visual % kTokenizerTabWidth : 1;
    ++offset;
    ++bytes;
  }
  // Past the end of the line (an error at end of input): keep the tokenizer's count.
  if (visual < column) bytes += column - visual;
  return SourcePosition{line + 1, bytes + 1};
}

size_t SourceText::offset_of(const SourcePosition& position) const {
  if (position.line < 1) return 0;
  size_t line = std::min(static_cast<size_t>(position.line), line_starts_.size()) - 1;
  size_t offset = line_starts_[line] + static_cast<size_t>(std::max(position.column, 1) - 1);
  return std::min(offset, text_.size());
}

SourcePosition SourceText::at_offset(size_t offset) const {
  offset = std::min(offset, text_.size());
  auto next_line = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  size_t line = static_cast<size_t>(next_line - line_starts_.begin()) - 1;
  return SourcePosition{static_cast<int>(line) + 1,
                        static_cast<int>(offset - line_starts_[line]) + 1};
}

SourceText::Values SourceText::values_of(TokenizerLocation field_name) const {
  Values values;
  if (field_name.line < 0 || static_cast<size_t>(field_name.line) >= line_starts_.size()) {
    return values;
  }
  size_t start = line_starts_[static_cast<size_t>(field_name.line)];
  io::ArrayInputStream input(text_.data() + start, static_cast<int>(text_.size() - start));
  IgnoreErrors errors;
  io::Tokenizer tokenizer(&input, &errors);
  // As TextFormat::Parser configures it.
  tokenizer.set_comment_style(io::Tokenizer::SH_COMMENT_STYLE);
  tokenizer.set_allow_f_after_float(true);
  tokenizer.set_require_space_after_number(false);
  auto here = [&] {
    const auto& token = tokenizer.current();
    return TokenizerLocation(token.line + field_name.line, token.column);
  };

  // Find the field name itself.
  bool found = false;
  while (tokenizer.Next()) {
    const auto& token = tokenizer.current();
    if (token.line > 0 || token.column >= field_name.column) {
      found = token.line == 0 && token.column == field_name.column;
      break;
    }
  }
  if (!found || !tokenizer.Next()) return values;
  if (tokenizer.current().text == ":" && !tokenizer.Next()) return values;
  if (tokenizer.current().text != "[") {
    values.single = here();
    return values;
  }
  values.is_list = true;
  if (!tokenizer.Next() || tokenizer.current().text == "]") return values;
  values.elements.push_back(here());
  int depth = 0;
  do {
    const std::string& text = tokenizer.current().text;
    if (tokenizer.current().type == io::Tokenizer::TYPE_STRING) continue;
    if (is_open(text)) {
      ++depth;
    } else if (is_close(text)) {
      if (depth == 0) break;  // the list's own "]"
      --depth;
    } else if (text == "," && depth == 0) {
      if (!tokenizer.Next()) break;
      values.elements.push_back(here());
      // The element's first token may itself open a nested message.
      if (is_open(tokenizer.current().text)) ++depth;
    }
  } while (tokenizer.Next());
  return values;
}

std::optional<SourceText::TokenizerLocation> ManifestLocations::locate(
    const TextFormat::ParseInfoTree& tree, const FieldDescriptor* field, int index) const {
  if (field == nullptr) return std::nullopt;
  bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (!field->is_repeated()) {
    auto start = tree.GetLocation(field, -1);
    if (start.line < 0) return std::nullopt;
    if (is_message) return start;
    auto values = source_.values_of(start);
    return values.single ? *values.single : start;
  }
  if (index < 0) return std::nullopt;
  const auto& elements = elements_of(tree, field);
  auto at = static_cast<size_t>(index);
  if (at < elements.size()) return elements[at];
  // A protobuf that records every element itself would make the counts differ.
  auto start = tree.GetLocation(field, index);
  if (start.line >= 0) return start;
  return std::nullopt;
}

const std::vector<SourceText::TokenizerLocation>& ManifestLocations::elements_of(
    const TextFormat::ParseInfoTree& tree, const FieldDescriptor* field) const {
  auto key = std::pair<const void*, const void*>(&tree, field);
  if (auto cached = elements_cache_.find(key); cached != elements_cache_.end()) {
    return cached->second;
  }
  // One recorded location per occurrence; expand lists into their elements.
  bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  std::vector<SourceText::TokenizerLocation> elements;
  for (int i = 0;; ++i) {
    auto start = tree.GetLocation(field, i);
    if (start.line < 0) break;
    auto values = source_.values_of(start);
    if (values.is_list) {
      elements.insert(elements.end(), values.elements.begin(), values.elements.end());
    } else if (is_message) {
      elements.push_back(start);
    } else {
      elements.push_back(values.single ? *values.single : start);
    }
  }
  return elements_cache_.emplace(key, std::move(elements)).first->second;
}

std::optional<SourcePosition> ManifestLocations::find(const FieldPath& path) const {
  std::optional<SourcePosition> best;
  const TextFormat::ParseInfoTree* tree = &tree_;
  const auto& steps = path.steps();
  for (size_t i = 0; i < steps.size() && tree != nullptr; ++i) {
    auto location = locate(*tree, steps[i].field, steps[i].index);
    if (!location) break;
    best = source_.position(location->line, location->column);
    if (i + 1 < steps.size()) tree = tree->GetTreeForNested(steps[i].field, steps[i].index);
  }
  return best;
}

}  // namespace vtas
