// Helpers for the trace tests (runtime/trace/tests, tools/vtas-trace/tests): envelopes with
// known contents, a temporary directory removed at the end of the test, whole-file I/O.
#pragma once

#include <cstdint>
#include <string>

#include "proto/envelope.pb.h"

namespace vtas::trace::testing {

// A header-only envelope; the caller sets the body.
Envelope make_envelope(const std::string& sender, const std::string& receiver, MessageKind kind,
                       uint64_t correlation_id, uint64_t timestamp_ns = 1'000'000'000);
Envelope make_ping(uint64_t sequence, const std::string& sender = "pinger",
                   const std::string& receiver = "echo");
Envelope make_note(const std::string& text, const std::string& sender = "echo",
                   const std::string& receiver = "pinger");

// mkdtemp under $TMPDIR (or /tmp); removed with everything in it when destroyed. Paths stay
// short enough for ipc:// socket names.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Whole-file helpers that fail the current test (ADD_FAILURE) on I/O errors.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);

}  // namespace vtas::trace::testing
