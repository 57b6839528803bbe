#include "runtime/trace/capture_file.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "runtime/envelope.h"

namespace vtas::trace {
namespace {

// Longest varint32: 5 bytes of 7 bits, the last carrying only the top 4 bits.
constexpr size_t kMaxVarint32Bytes = 5;
constexpr size_t kReadChunk = 64 * 1024;

void put_u32_le(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

uint32_t get_u32_le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

std::string capture_file_header() {
  std::string header(kCaptureMagic, sizeof(kCaptureMagic));
  put_u32_le(header, kCaptureFormatVersion);
  put_u32_le(header, 0);  // flags
  return header;
}

// ---------------------------------------------------------------------------------------
// CaptureWriter

Result<CaptureWriter> CaptureWriter::create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error("cannot create capture file '" + path + "': " + errno_text());
  }
  CaptureWriter writer(fd, path);
  const std::string header = capture_file_header();
  if (Status s = writer.write_all(header.data(), header.size()); !s) return s.error();
  return writer;
}

CaptureWriter::CaptureWriter(CaptureWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      batch_(std::move(other.batch_)),
      records_(other.records_) {}

CaptureWriter& CaptureWriter::operator=(CaptureWriter&& other) noexcept {
  if (this != &other) {
    (void)close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    batch_ = std::move(other.batch_);
    records_ = other.records_;
  }
  return *this;
}

CaptureWriter::~CaptureWriter() {
  (void)close();
}

Status CaptureWriter::append(const Envelope& envelope) {
  if (fd_ < 0) return make_error("capture file '" + path_ + "' is already closed");
  const size_t size = envelope.ByteSizeLong();
  if (size > kMaxCaptureRecordBytes) {
    return make_error("envelope of " + std::to_string(size) + " bytes not written to '" + path_ +
                      "': a capture record holds at most 64 MiB");
  }
  uint8_t varint[kMaxVarint32Bytes];
  uint8_t* varint_end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(size), varint);
  batch_.append(reinterpret_cast<const char*>(varint), static_cast<size_t>(varint_end - varint));
  const size_t body_at = batch_.size();
  batch_.resize(body_at + size);
  if (!envelope.SerializeToArray(batch_.data() + body_at, static_cast<int>(size))) {
    batch_.resize(body_at - static_cast<size_t>(varint_end - varint));
    return make_error("cannot serialize envelope for '" + path_ + "'");
  }
  ++records_;
  if (batch_.size() >= kBatchBytes) return flush();
  return Status::success();
}

Status CaptureWriter::flush() {
  if (fd_ < 0 || batch_.empty()) return Status::success();
  Status s = write_all(batch_.data(), batch_.size());
  // On failure the batch is dropped too: the file is broken at this point anyway, and the
  // error tells the caller to stop writing.
  batch_.clear();
  return s;
}

Status CaptureWriter::close() {
  if (fd_ < 0) return Status::success();
  Status s = flush();
  if (::close(fd_) != 0 && s) {
    s = make_error("cannot close capture file '" + path_ + "': " + errno_text());
  }
  fd_ = -1;
  return s;
}

Status CaptureWriter::write_all(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot write capture file '" + path_ + "': " + errno_text());
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::success();
}

// ---------------------------------------------------------------------------------------
// CaptureReader

Result<CaptureReader> CaptureReader::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open capture file '" + path + "': " + errno_text());
  CaptureReader reader(fd, path);
  if (Status s = reader.check_header(); !s) return s.error();
  return reader;
}

CaptureReader::CaptureReader(CaptureReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      buffer_(std::move(other.buffer_)),
      pos_(other.pos_),
      end_(other.end_),
      eof_(other.eof_),
      offset_(other.offset_),
      records_(other.records_),
      error_(std::move(other.error_)) {}

CaptureReader& CaptureReader::operator=(CaptureReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    buffer_ = std::move(other.buffer_);
    pos_ = other.pos_;
    end_ = other.end_;
    eof_ = other.eof_;
    offset_ = other.offset_;
    records_ = other.records_;
    error_ = std::move(other.error_);
  }
  return *this;
}

CaptureReader::~CaptureReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<size_t> CaptureReader::fill(size_t n) {
  while (end_ - pos_ < n && !eof_) {
    if (end_ == buffer_.size()) {
      if (pos_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
        end_ -= pos_;
        pos_ = 0;
      } else {
        // Grow only when full of data read so far, so a corrupt length cannot make the
        // reader allocate much more than the file holds.
        buffer_.resize(std::max(kReadChunk, std::min(buffer_.size() * 2, n)));
      }
    }
    ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (got < 0) {
      if (errno == EINTR) continue;
      return make_error("read failed: " + errno_text());
    }
    if (got == 0) eof_ = true;
    end_ += static_cast<size_t>(got);
  }
  return end_ - pos_;
}

Status CaptureReader::check_header() {
  auto avail = fill(kCaptureHeaderSize);
  if (!avail) return make_error(path_ + ": offset 0: " + avail.error().message);
  const uint8_t* p = buffer_.data() + pos_;
  if (*avail == 0) return make_error(path_ + ": offset 0: empty file, not a vtas trace capture");
  if (std::memcmp(p, kCaptureMagic, std::min(*avail, sizeof(kCaptureMagic))) != 0) {
    return make_error(path_ + ": offset 0: not a vtas trace capture (bad magic)");
  }
  if (*avail < kCaptureHeaderSize) {
    return make_error(path_ + ": offset 0: truncated header (" + std::to_string(*avail) + " of " +
                      std::to_string(kCaptureHeaderSize) + " bytes)");
  }
  const uint32_t version = get_u32_le(p + 8);
  if (version != kCaptureFormatVersion) {
    return make_error(path_ + ": offset 8: unsupported capture version " + std::to_string(version) +
                      " (this vtas reads version " + std::to_string(kCaptureFormatVersion) + ")");
  }
  const uint32_t flags = get_u32_le(p + 12);
  if (flags != 0) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%08x", flags);
    return make_error(path_ + ": offset 12: unsupported capture flags " + hex +
                      " (version 1 defines none)");
  }
  pos_ += kCaptureHeaderSize;
  offset_ = kCaptureHeaderSize;
  return Status::success();
}

bool CaptureReader::fail(uint64_t offset, const std::string& what) {
  error_ = make_error(path_ + ": offset " + std::to_string(offset) + ": record " +
                      std::to_string(records_ + 1) + ": " + what);
  return false;
}

bool CaptureReader::next(Envelope* out) {
  if (error_ || fd_ < 0) return false;
  auto avail = fill(kMaxVarint32Bytes);
  if (!avail) return fail(offset_, avail.error().message);
  if (*avail == 0) return false;  // clean end: the file ends on a record boundary

  // The length varint, decoded strictly: at most 5 bytes and no bits beyond 32.
  const uint8_t* p = buffer_.data() + pos_;
  uint64_t length = 0;
  size_t varint_size = 0;
  for (size_t i = 0;; ++i) {
    if (i == kMaxVarint32Bytes) return fail(offset_, "length varint is malformed");
    if (i == *avail) return fail(offset_, "truncated (length varint cut short)");
    length |= static_cast<uint64_t>(p[i] & 0x7f) << (7 * i);
    if ((p[i] & 0x80) == 0) {
      varint_size = i + 1;
      break;
    }
  }
  if (length > UINT32_MAX) return fail(offset_, "length varint is malformed");
  if (length > kMaxCaptureRecordBytes) {
    return fail(offset_, "length " + std::to_string(length) +
                             " exceeds the 64 MiB record limit (corrupt capture)");
  }

  const size_t record_size = varint_size + static_cast<size_t>(length);
  avail = fill(record_size);
  if (!avail) return fail(offset_, avail.error().message);
  if (*avail < record_size) {
    return fail(offset_, "truncated (length says " + std::to_string(length) + " bytes, " +
                             std::to_string(*avail - varint_size) + " left)");
  }
  if (!decode_envelope(buffer_.data() + pos_ + varint_size, static_cast<size_t>(length), out)) {
    return fail(offset_, "not a valid envelope (" + std::to_string(length) + " bytes)");
  }
  pos_ += record_size;
  offset_ += record_size;
  if (pos_ == end_) pos_ = end_ = 0;
  ++records_;
  return true;
}

}  // namespace vtas::trace
