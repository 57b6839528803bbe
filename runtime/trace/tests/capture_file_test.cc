#include "runtime/trace/capture_file.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "runtime/trace/tests/trace_test_support.h"

namespace vtas::trace {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::make_note;
using testing::make_ping;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

// Envelopes of many shapes: empty (a zero-length record), one- two- and three-byte length
// varints, every kind.
std::vector<Envelope> sample_envelopes(size_t count) {
  std::vector<Envelope> out;
  out.emplace_back();  // serializes to zero bytes
  for (size_t i = 1; i < count; ++i) {
    if (i % 3 == 0) {
      out.push_back(make_note(std::string(i * 7, 'n')));
    } else {
      out.push_back(make_ping(i));
    }
  }
  out.push_back(make_note(std::string(20000, 'x')));  // 3-byte length varint
  return out;
}

void write_capture(const std::string& path, const std::vector<Envelope>& envelopes) {
  auto writer = CaptureWriter::create(path);
  ASSERT_TRUE(writer) << writer.error().message;
  for (const auto& e : envelopes) ASSERT_TRUE(writer->append(e));
  EXPECT_EQ(writer->records(), envelopes.size());
  ASSERT_TRUE(writer->close());
}

// Reads until the reader stops; returns the envelopes yielded.
std::vector<Envelope> read_all(CaptureReader& reader) {
  std::vector<Envelope> out;
  Envelope e;
  while (reader.next(&e)) out.push_back(e);
  return out;
}

std::string with_header(const std::string& records) {
  return capture_file_header() + records;
}

TEST(CaptureFile, HeaderIsMagicVersionAndFlags) {
  EXPECT_EQ(capture_file_header(), std::string("VTASTRC1\x01\x00\x00\x00\x00\x00\x00\x00", 16));
}

TEST(CaptureFile, RoundTripKeepsEveryEnvelopeInOrder) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  auto envelopes = sample_envelopes(2000);
  write_capture(path, envelopes);

  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  auto got = read_all(*reader);
  EXPECT_FALSE(reader->error()) << reader->error()->message;
  ASSERT_EQ(got.size(), envelopes.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(got[i], envelopes[i])) << "record " << i + 1;
  }
  EXPECT_EQ(reader->records(), envelopes.size());
  EXPECT_EQ(reader->offset(), read_file(path).size());
  Envelope e;
  EXPECT_FALSE(reader->next(&e));  // stays at the end
}

TEST(CaptureFile, EmptyCaptureIsJustTheHeader) {
  TempDir dir;
  const std::string path = dir.file("empty.vtr");
  write_capture(path, {});
  EXPECT_EQ(read_file(path), capture_file_header());
  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_TRUE(read_all(*reader).empty());
  EXPECT_FALSE(reader->error());
}

TEST(CaptureFile, FileIsCreatedOwnerOnly) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  write_capture(path, {make_ping(1)});
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(CaptureFile, RecordsAreLengthDelimitedEnvelopes) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  Envelope ping = make_ping(5);
  write_capture(path, {ping});
  const std::string body = ping.SerializeAsString();
  ASSERT_LT(body.size(), 128u);
  EXPECT_EQ(read_file(path), with_header(std::string(1, static_cast<char>(body.size())) + body));
}

// What a flush() put on disk is a readable capture while the writer is still open: an
// interrupted vtas-trace leaves a usable file.
TEST(CaptureFile, FlushedRecordsAreReadableBeforeClose) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  auto writer = CaptureWriter::create(path);
  ASSERT_TRUE(writer) << writer.error().message;
  for (uint64_t i = 1; i <= 3; ++i) ASSERT_TRUE(writer->append(make_ping(i)));
  ASSERT_TRUE(writer->flush());

  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  auto got = read_all(*reader);
  EXPECT_FALSE(reader->error());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].ping_request().sequence(), 3u);
}

TEST(CaptureFile, BatchesPastTheBatchSizeReachTheDiskWithoutFlush) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  auto writer = CaptureWriter::create(path);
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE(writer->append(make_note(std::string(CaptureWriter::kBatchBytes, 'b'))));
  EXPECT_GT(read_file(path).size(), CaptureWriter::kBatchBytes);
}

TEST(CaptureFile, WriterRejectsAppendAfterClose) {
  TempDir dir;
  auto writer = CaptureWriter::create(dir.file("cap.vtr"));
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE(writer->close());
  Status s = writer->append(make_ping(1));
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("closed"), std::string::npos);
}

TEST(CaptureFile, WriterReportsUncreatableFile) {
  auto writer = CaptureWriter::create("/nonexistent-dir/cap.vtr");
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().message,
            "cannot create capture file '/nonexistent-dir/cap.vtr': No such file or directory");
}

TEST(CaptureFile, ReaderReportsMissingFile) {
  auto reader = CaptureReader::open("/nonexistent-dir/cap.vtr");
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().message,
            "cannot open capture file '/nonexistent-dir/cap.vtr': No such file or directory");
}

// The central promise: cut anywhere, the reader yields exactly the complete records before
// the cut and names the offset and number of the record that breaks.
TEST(CaptureFile, CutAtEveryByteOffsetYieldsCompleteRecordsAndNamesTheBreak) {
  TempDir dir;
  const std::string path = dir.file("cut.vtr");
  auto envelopes = sample_envelopes(40);
  write_capture(path, envelopes);
  const std::string full = read_file(path);

  // Start offset of each record, plus the end of the file.
  std::vector<uint64_t> starts{kCaptureHeaderSize};
  for (const auto& e : envelopes) {
    const uint64_t size = e.ByteSizeLong();
    const uint64_t varint = size < 128 ? 1 : size < 16384 ? 2 : 3;
    starts.push_back(starts.back() + varint + size);
  }
  ASSERT_EQ(starts.back(), full.size());

  for (uint64_t cut = full.size() + 1; cut-- > 0;) {
    ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(cut)), 0);
    auto reader = CaptureReader::open(path);
    if (cut < kCaptureHeaderSize) {
      ASSERT_FALSE(reader) << "cut at " << cut;
      const std::string expected =
          cut == 0
              ? path + ": offset 0: empty file, not a vtas trace capture"
              : path + ": offset 0: truncated header (" + std::to_string(cut) + " of 16 bytes)";
      EXPECT_EQ(reader.error().message, expected);
      continue;
    }
    ASSERT_TRUE(reader) << "cut at " << cut << ": " << reader.error().message;
    auto got = read_all(*reader);

    // Records that end at or before the cut are complete.
    size_t complete = 0;
    while (complete < envelopes.size() && starts[complete + 1] <= cut) ++complete;
    ASSERT_EQ(got.size(), complete) << "cut at " << cut;
    for (size_t i = 0; i < complete; ++i) {
      ASSERT_TRUE(MessageDifferencer::Equals(got[i], envelopes[i])) << "cut " << cut;
    }

    if (cut == starts[complete]) {
      EXPECT_FALSE(reader->error())
          << "cut at boundary " << cut << ": " << reader->error()->message;
      continue;
    }
    ASSERT_TRUE(reader->error()) << "cut at " << cut;
    const uint64_t start = starts[complete];
    const uint64_t length = envelopes[complete].ByteSizeLong();
    const uint64_t varint = starts[complete + 1] - start - length;
    const uint64_t present = cut - start;
    const std::string what = present < varint
                                 ? "truncated (length varint cut short)"
                                 : "truncated (length says " + std::to_string(length) + " bytes, " +
                                       std::to_string(present - varint) + " left)";
    EXPECT_EQ(reader->error()->message, path + ": offset " + std::to_string(start) + ": record " +
                                            std::to_string(complete + 1) + ": " + what);
  }
}

TEST(CaptureFile, MalformedVarintNamesRecordAndOffset) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  std::string records;
  for (uint64_t i = 1; i <= 2; ++i) {
    std::string body = make_ping(i).SerializeAsString();
    records += static_cast<char>(body.size()) + body;
  }
  const uint64_t bad_at = kCaptureHeaderSize + records.size();
  // Six continuation bytes: longer than any varint32.
  records += std::string("\xff\xff\xff\xff\xff\x01", 6) + std::string(100, 'z');
  write_file(path, with_header(records));

  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ(read_all(*reader).size(), 2u);
  ASSERT_TRUE(reader->error());
  EXPECT_EQ(reader->error()->message,
            path + ": offset " + std::to_string(bad_at) + ": record 3: length varint is malformed");
}

TEST(CaptureFile, VarintBeyond32BitsIsMalformed) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  write_file(path, with_header(std::string("\xff\xff\xff\xff\x1f", 5)));
  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_TRUE(read_all(*reader).empty());
  ASSERT_TRUE(reader->error());
  EXPECT_EQ(reader->error()->message, path + ": offset 16: record 1: length varint is malformed");
}

TEST(CaptureFile, RecordOver64MiBIsCorrupt) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  // (64 MiB + 1) as a varint, then a few bytes: the limit is checked before any allocation.
  write_file(path, with_header(std::string("\x81\x80\x80\x20", 4) + "abc"));
  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_TRUE(read_all(*reader).empty());
  ASSERT_TRUE(reader->error());
  EXPECT_EQ(reader->error()->message,
            path +
                ": offset 16: record 1: length 67108865 exceeds the 64 MiB record limit "
                "(corrupt capture)");
}

TEST(CaptureFile, InvalidEnvelopeBytesNameTheRecord) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  std::string good = make_ping(1).SerializeAsString();
  // Field 1 (header) claims more bytes than the record holds.
  const std::string garbage("\x0a\xff\xff\xff\xff\x0f\x01", 7);
  write_file(path, with_header(static_cast<char>(good.size()) + good +
                               static_cast<char>(garbage.size()) + garbage));
  auto reader = CaptureReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ(read_all(*reader).size(), 1u);
  ASSERT_TRUE(reader->error());
  EXPECT_EQ(reader->error()->message, path + ": offset " +
                                          std::to_string(kCaptureHeaderSize + 1 + good.size()) +
                                          ": record 2: not a valid envelope (7 bytes)");
}

TEST(CaptureFile, BadMagicIsNotACapture) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  write_file(path, "GIF89a this is something else entirely");
  auto reader = CaptureReader::open(path);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().message, path + ": offset 0: not a vtas trace capture (bad magic)");

  write_file(path, "VTAS");  // a prefix of the magic is a truncated header, not a bad one
  reader = CaptureReader::open(path);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().message, path + ": offset 0: truncated header (4 of 16 bytes)");
}

TEST(CaptureFile, UnsupportedVersionIsNamed) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  write_file(path, std::string("VTASTRC1\x07\x00\x00\x00\x00\x00\x00\x00", 16));
  auto reader = CaptureReader::open(path);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().message,
            path + ": offset 8: unsupported capture version 7 (this vtas reads version 1)");
}

TEST(CaptureFile, UnknownFlagsAreRejected) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  write_file(path, std::string("VTASTRC1\x01\x00\x00\x00\x02\x00\x00\x00", 16));
  auto reader = CaptureReader::open(path);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().message,
            path + ": offset 12: unsupported capture flags 0x00000002 (version 1 defines none)");
}

TEST(CaptureFile, ReaderAndWriterMove) {
  TempDir dir;
  const std::string path = dir.file("cap.vtr");
  {
    auto created = CaptureWriter::create(path);
    ASSERT_TRUE(created);
    CaptureWriter writer = std::move(*created);
    ASSERT_TRUE(writer.append(make_ping(1)));
  }  // destructor flushes
  auto opened = CaptureReader::open(path);
  ASSERT_TRUE(opened) << opened.error().message;
  CaptureReader reader = std::move(*opened);
  EXPECT_EQ(read_all(reader).size(), 1u);
  EXPECT_FALSE(reader.error());
}

}  // namespace
}  // namespace vtas::trace
