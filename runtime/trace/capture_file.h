// Trace capture files (vtas-trace -w / -r): a stream of envelopes kept on disk.
//
// Format, version 1 (all integers little-endian):
//   offset 0   8 bytes  magic "VTASTRC1"
//   offset 8   u32      format version (1)
//   offset 12  u32      flags (0; version 1 defines none)
//   offset 16  records, each a protobuf varint32 length followed by that many bytes of one
//              serialized vtas.Envelope (protobuf's length-delimited framing, as written by
//              SerializeDelimitedTo). A record longer than 64 MiB is corrupt by definition.
// The file has no trailer and no index, so a capture cut short at a record boundary (an
// interrupted vtas-trace) is a complete, valid capture.
//
// Callers: vtas-trace, tests, and tools that want to read captures. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/envelope.pb.h"
#include "runtime/result.h"

namespace vtas::trace {

inline constexpr char kCaptureMagic[8] = {'V', 'T', 'A', 'S', 'T', 'R', 'C', '1'};
inline constexpr uint32_t kCaptureFormatVersion = 1;
inline constexpr size_t kCaptureHeaderSize = 16;
inline constexpr uint32_t kMaxCaptureRecordBytes = 64u << 20;

// The 16-byte file header of a version-1 capture.
std::string capture_file_header();

// Writes a capture. Records are collected in a small batch and written out when the batch
// passes kBatchBytes or on flush(); a writer of a live stream flushes whenever its input is
// drained, so an interrupted capture loses at most the batch being collected, and what is
// on disk always ends at a record boundary unless a write(2) itself fails.
class CaptureWriter {
 public:
  static constexpr size_t kBatchBytes = 64 * 1024;

  // Creates `path` with mode 0600 (traces may carry payloads), truncating an existing file,
  // and writes the header to disk.
  static Result<CaptureWriter> create(const std::string& path);

  CaptureWriter(CaptureWriter&& other) noexcept;
  CaptureWriter& operator=(CaptureWriter&& other) noexcept;
  CaptureWriter(const CaptureWriter&) = delete;
  CaptureWriter& operator=(const CaptureWriter&) = delete;
  // Flushes (best effort; call close() to see errors) and closes.
  ~CaptureWriter();

  Status append(const Envelope& envelope);
  Status flush();
  // Flushes and closes; the writer accepts nothing afterwards.
  Status close();

  const std::string& path() const { return path_; }
  uint64_t records() const { return records_; }

 private:
  CaptureWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status write_all(const char* data, size_t size);

  int fd_ = -1;
  std::string path_;
  std::string batch_;
  uint64_t records_ = 0;
};

// Reads a capture record by record. At the first problem it stops and error() says where,
// in the form
//   "cap.vtr: offset 1234: record 17: truncated (length says 56 bytes, 20 left)"
// where the offset is that of the first byte of the broken record (truncating the file
// there leaves a valid capture) and records are numbered from 1. Every record before the
// break has been yielded by then. Reads through read(2), so pipes (/dev/stdin) work too.
class CaptureReader {
 public:
  // Opens `path` and checks its header; a bad magic, version or flags is an error here.
  static Result<CaptureReader> open(const std::string& path);

  CaptureReader(CaptureReader&& other) noexcept;
  CaptureReader& operator=(CaptureReader&& other) noexcept;
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;
  ~CaptureReader();

  // Fills *out with the next record. False at the clean end of the file or at the first
  // problem; error() tells them apart.
  bool next(Envelope* out);

  // Set once next() has stopped at a problem.
  const std::optional<Error>& error() const { return error_; }
  // Records yielded so far.
  uint64_t records() const { return records_; }
  // Byte offset of the next record (the end of the last one yielded).
  uint64_t offset() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  CaptureReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status check_header();
  // Makes at least `n` bytes available after pos_ unless the file ends first; returns how
  // many are available (capped at what is buffered, which may exceed n).
  Result<size_t> fill(size_t n);
  bool fail(uint64_t offset, const std::string& what);

  int fd_ = -1;
  std::string path_;
  std::vector<uint8_t> buffer_;
  size_t pos_ = 0;  // next unread byte in buffer_
  size_t end_ = 0;  // one past the last buffered byte
  bool eof_ = false;
  uint64_t offset_ = 0;  // file offset of buffer_[pos_]
  uint64_t records_ = 0;
  std::optional<Error> error_;
};

}  // namespace vtas::trace
