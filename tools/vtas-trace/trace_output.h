// TraceOutput: what vtas-trace does with each envelope it gets, live or from a file —
// filter, print (text or JSON, one line each, flushed per line), keep in a capture file —
// and the counts for the closing summary. Used by vtas-trace only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "proto/envelope.pb.h"
#include "runtime/result.h"
#include "runtime/trace/capture_file.h"
#include "runtime/trace/trace_filter.h"

namespace vtas::trace {

class TraceOutput {
 public:
  struct Settings {
    TraceFilter filter;
    bool json = false;
    bool print = true;   // false with -q
    uint64_t limit = 0;  // matching messages to handle before stopping; 0 = no limit
  };

  // Prints to `out` (stdout in the tool); writes to `capture` when there is one.
  TraceOutput(Settings settings, FILE* out, std::optional<CaptureWriter> capture);

  // Handles one envelope. Returns true to keep going, false once the limit is reached or
  // the reader of `out` has gone away (a closed pipe ends vtas-trace quietly, like `head`
  // closing its input). Errors: output or capture file cannot be written.
  Result<bool> handle(const Envelope& envelope);
  // A message that could not be decoded: counted, reported in the summary.
  void count_malformed() {
    ++seen_;
    ++malformed_;
  }

  // Puts what the capture writer has batched on disk; call whenever the input is drained.
  Status flush();
  // Flushes and closes the capture file.
  Status finish();

  bool done() const { return done_; }
  uint64_t seen() const { return seen_; }
  uint64_t shown() const { return shown_; }
  uint64_t malformed() const { return malformed_; }
  // "vtas-trace: 120 messages shown, 3400 seen" (wording follows -q / -w).
  std::string summary() const;

 private:
  Settings settings_;
  FILE* out_;
  std::optional<CaptureWriter> capture_;
  std::string capture_path_;
  uint64_t seen_ = 0;
  uint64_t shown_ = 0;
  uint64_t malformed_ = 0;
  bool done_ = false;
};

}  // namespace vtas::trace
