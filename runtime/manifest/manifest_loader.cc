#include "runtime/manifest/manifest_loader.h"

#include <fcntl.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/manifest/manifest_locations.h"

namespace vtas {
namespace {

namespace io = google::protobuf::io;
using google::protobuf::TextFormat;

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The parser reports a bad field or enum name where it stopped: at the token after the name,
// maybe on the next line. Messages that quote the name let us point at the name itself: its
// last whole-word occurrence before the reported position.
constexpr size_t kNameSearchWindow = 4096;

SourcePosition at_quoted_name(const SourceText& source, SourcePosition reported,
                              const std::string& message) {
  static constexpr std::string_view kQuotingNames[] = {
      "has no field named \"", "Unknown enumeration value of \"", "Non-repeated field \""};
  for (auto lead : kQuotingNames) {
    size_t begin = message.find(lead);
    if (begin == std::string::npos) continue;
    begin += lead.size();
    size_t end = message.find('"', begin);
    if (end == std::string::npos || end == begin) return reported;
    std::string_view name = std::string_view(message).substr(begin, end - begin);
    size_t stop = source.offset_of(reported);
    size_t window_start = stop > kNameSearchWindow ? stop - kNameSearchWindow : 0;
    std::string_view window = source.text().substr(window_start, stop - window_start);
    for (size_t at = window.rfind(name); at != std::string_view::npos;
         at = at == 0 ? std::string_view::npos : window.rfind(name, at - 1)) {
      bool starts_word = at == 0 || !is_identifier_char(window[at - 1]);
      size_t after = at + name.size();
      bool ends_word = after >= window.size() || !is_identifier_char(window[after]);
      if (starts_word && ends_word) return source.at_offset(window_start + at);
    }
    return reported;
  }
  return reported;
}

// Collects every syntax error the parser reports, positioned in bytes.
class SyntaxErrors : public io::ErrorCollector {
 public:
  SyntaxErrors(const SourceText& source, const std::string& display_name)
      : source_(source), display_name_(display_name) {}

  void AddError(int line, io::ColumnNumber column, const std::string& message) override {
    if (!text_.empty()) text_ += '\n';
    // "Expected identifier, got: " with nothing after it means the text ended.
    std::string readable = message;
    if (readable.size() >= 5 && readable.compare(readable.size() - 5, 5, "got: ") == 0) {
      readable += "end of file";
    }
    if (line < 0) {
      text_ += display_name_ + ": " + readable;
      return;
    }
    SourcePosition position = at_quoted_name(source_, source_.position(line, column), message);
    text_ += display_name_ + ":" + to_string(position) + ": " + readable;
  }

  bool empty() const { return text_.empty(); }
  const std::string& text() const { return text_; }

 private:
  const SourceText& source_;
  const std::string& display_name_;
  std::string text_;
};

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Error cannot_read(const std::string& path, int error) {
  return make_error(path + ": cannot read: " + std::strerror(error));
}

Result<std::string> read_file(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return cannot_read(path, errno);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return cannot_read(path, errno);
  if (S_ISDIR(info.st_mode)) return cannot_read(path, EISDIR);
  std::string text;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return cannot_read(path, errno);
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxManifestBytes) {
      return make_error(path + ": too large (more than " + std::to_string(kMaxManifestBytes) +
                        " bytes); a manifest is a short text file");
    }
  }
  return text;
}

}  // namespace

Result<manifest::Manifest> load_manifest_file(const std::string& path, const ManifestRules& rules) {
  auto text = read_file(path);
  if (!text.ok()) return text.error();
  return load_manifest_text(*text, path, rules);
}

Result<manifest::Manifest> load_manifest_text(std::string_view text,
                                              const std::string& display_name,
                                              const ManifestRules& rules) {
  if (text.size() > kMaxManifestBytes) {
    return make_error(display_name + ": too large (more than " + std::to_string(kMaxManifestBytes) +
                      " bytes)");
  }
  SourceText source(text);
  SyntaxErrors syntax_errors(source, display_name);
  TextFormat::ParseInfoTree tree;
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&syntax_errors);
  parser.WriteLocationsTo(&tree);
  manifest::Manifest manifest;
  io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  bool parsed = parser.Parse(&input, &manifest);
  if (!syntax_errors.empty()) return make_error(syntax_errors.text());
  if (!parsed) return make_error(display_name + ": not a valid manifest");

  ManifestLocations locations(source, tree);
  auto issues = find_manifest_issues(manifest, rules, &locations);
  if (!issues.empty()) return make_error(format_manifest_issues(issues, display_name, &locations));
  return manifest;
}

std::string manifest_to_text(const manifest::Manifest& manifest) {
  std::string text;
  TextFormat::Printer printer;
  printer.PrintToString(manifest, &text);
  return "# The manifest this vtas instance runs, command-line overrides applied (written by\n"
         "# the supervisor for its actor processes; edits are lost when it restarts).\n" +
         text;
}

}  // namespace vtas
