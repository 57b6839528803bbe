#include "tools/vtas-trace/trace_output.h"

#include <cerrno>
#include <cstring>

#include "runtime/trace/trace_format.h"

namespace vtas::trace {
namespace {

std::string messages(uint64_t n) {
  return std::to_string(n) + (n == 1 ? " message" : " messages");
}

}  // namespace

TraceOutput::TraceOutput(Settings settings, FILE* out, std::optional<CaptureWriter> capture)
    : settings_(std::move(settings)), out_(out), capture_(std::move(capture)) {
  if (capture_) capture_path_ = capture_->path();
}

Result<bool> TraceOutput::handle(const Envelope& envelope) {
  if (done_) return false;
  ++seen_;
  if (!settings_.filter.matches(envelope)) return true;
  ++shown_;
  if (capture_) {
    if (Status s = capture_->append(envelope); !s) return s.error();
  }
  if (settings_.print) {
    std::string line = settings_.json ? format_json(envelope) : format_text(envelope);
    line += '\n';
    // One write and one flush per message: a viewer (or a test) sees each line as it comes.
    if (std::fwrite(line.data(), 1, line.size(), out_) != line.size() || std::fflush(out_) != 0) {
      if (errno == EPIPE) {
        done_ = true;
        return false;
      }
      return make_error(std::string("cannot write to standard output: ") + std::strerror(errno));
    }
  }
  if (settings_.limit != 0 && shown_ >= settings_.limit) done_ = true;
  return !done_;
}

Status TraceOutput::flush() {
  return capture_ ? capture_->flush() : Status::success();
}

Status TraceOutput::finish() {
  if (!capture_) return Status::success();
  Status s = capture_->close();
  capture_.reset();
  return s;
}

std::string TraceOutput::summary() const {
  std::string text = "vtas-trace: " + messages(shown_);
  if (settings_.print && !capture_path_.empty()) {
    text += " shown and written to " + capture_path_;
  } else if (settings_.print) {
    text += " shown";
  } else if (!capture_path_.empty()) {
    text += " written to " + capture_path_;
  } else {
    text += " matched";
  }
  text += ", " + std::to_string(seen_) + " seen";
  if (malformed_ != 0) text += ", " + std::to_string(malformed_) + " malformed";
  return text;
}

}  // namespace vtas::trace
