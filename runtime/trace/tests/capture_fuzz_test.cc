// Random and mutated captures: the reader must stop with an error or at a clean end, never
// crash, hang or yield something past a break. Seeds are fixed so failures reproduce.
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <random>

#include "runtime/trace/capture_file.h"
#include "runtime/trace/tests/trace_test_support.h"
#include "runtime/trace/trace_format.h"

namespace vtas::trace {
namespace {

using testing::make_note;
using testing::make_ping;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

// Reads `path` to its end; checks the reader's account of itself is consistent.
void read_to_end(const std::string& path, uint64_t file_size) {
  // Random strings are mostly invalid UTF-8, which protobuf logs about on every parse.
  google::protobuf::LogSilencer quiet;
  auto reader = CaptureReader::open(path);
  if (!reader) {
    EXPECT_EQ(reader.error().message.rfind(path + ": ", 0), 0u) << reader.error().message;
    return;
  }
  Envelope e;
  uint64_t yielded = 0;
  while (reader->next(&e)) {
    ++yielded;
    ASSERT_LE(reader->offset(), file_size);
    // Whatever parsed must also render.
    EXPECT_FALSE(format_text(e).empty());
    EXPECT_FALSE(format_json(e).empty());
  }
  EXPECT_EQ(reader->records(), yielded);
  if (reader->error()) {
    EXPECT_EQ(reader->error()->message.rfind(path + ": offset " + std::to_string(reader->offset()) +
                                                 ": record " + std::to_string(yielded + 1) + ": ",
                                             0),
              0u)
        << reader->error()->message;
  } else {
    EXPECT_EQ(reader->offset(), file_size);
  }
}

TEST(CaptureFuzz, RandomBytesAfterAValidHeaderNeverCrash) {
  TempDir dir;
  const std::string path = dir.file("random.vtr");
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = capture_file_header();
    const size_t size = rng() % 300;
    for (size_t i = 0; i < size; ++i) bytes += static_cast<char>(rng() & 0xff);
    write_file(path, bytes);
    read_to_end(path, bytes.size());
  }
}

TEST(CaptureFuzz, RandomBytesWithoutHeaderAreRejected) {
  TempDir dir;
  const std::string path = dir.file("random.vtr");
  std::mt19937_64 rng(7);
  for (int round = 0; round < 500; ++round) {
    std::string bytes;
    const size_t size = rng() % 64;
    for (size_t i = 0; i < size; ++i) bytes += static_cast<char>(rng() & 0xff);
    write_file(path, bytes);
    read_to_end(path, bytes.size());
  }
}

TEST(CaptureFuzz, BitFlipsInAValidCaptureNeverCrash) {
  TempDir dir;
  const std::string path = dir.file("flip.vtr");
  {
    auto writer = CaptureWriter::create(path);
    ASSERT_TRUE(writer) << writer.error().message;
    for (uint64_t i = 1; i <= 30; ++i) {
      ASSERT_TRUE(
          writer->append(i % 4 == 0 ? make_note("note " + std::to_string(i)) : make_ping(i)));
    }
  }
  const std::string original = read_file(path);
  std::mt19937_64 rng(99);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = original;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      // Keep the header mostly intact so the records get exercised.
      const size_t at = kCaptureHeaderSize + rng() % (bytes.size() - kCaptureHeaderSize);
      bytes[at] = static_cast<char>(bytes[at] ^ static_cast<char>(1u << (rng() % 8)));
    }
    write_file(path, bytes);
    read_to_end(path, bytes.size());
  }
}

}  // namespace
}  // namespace vtas::trace
