#include "tools/vtas-trace/trace_output.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "runtime/trace/tests/trace_test_support.h"
#include "runtime/trace/trace_format.h"

namespace vtas::trace {
namespace {

using testing::make_note;
using testing::make_ping;

// Collects what TraceOutput prints, in memory.
class MemoryOut {
 public:
  MemoryOut() : file_(open_memstream(&data_, &size_)) {}
  ~MemoryOut() {
    std::fclose(file_);
    std::free(data_);
  }
  FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(data_, size_);
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  FILE* file_;
};

TraceOutput::Settings settings_for(const char* type, uint64_t limit, bool json = false) {
  TraceOutput::Settings s;
  if (type) {
    EXPECT_TRUE(s.filter.add_type(type));
  }
  s.limit = limit;
  s.json = json;
  return s;
}

TEST(TraceOutput, PrintsMatchingMessagesOnePerLineAndCountsAll) {
  MemoryOut out;
  TraceOutput output(settings_for("ping_request", 0), out.file(), std::nullopt);
  EXPECT_TRUE(*output.handle(make_ping(1)));
  EXPECT_TRUE(*output.handle(make_note("skip")));
  EXPECT_TRUE(*output.handle(make_ping(2)));
  EXPECT_EQ(out.text(), format_text(make_ping(1)) + "\n" + format_text(make_ping(2)) + "\n");
  EXPECT_EQ(output.seen(), 3u);
  EXPECT_EQ(output.shown(), 2u);
  EXPECT_EQ(output.summary(), "vtas-trace: 2 messages shown, 3 seen");
}

TEST(TraceOutput, JsonLines) {
  MemoryOut out;
  TraceOutput output(settings_for(nullptr, 0, true), out.file(), std::nullopt);
  EXPECT_TRUE(*output.handle(make_note("hi")));
  EXPECT_EQ(out.text(), format_json(make_note("hi")) + "\n");
}

TEST(TraceOutput, StopsAtTheLimit) {
  MemoryOut out;
  TraceOutput output(settings_for("note", 2), out.file(), std::nullopt);
  EXPECT_TRUE(*output.handle(make_note("a")));
  EXPECT_TRUE(*output.handle(make_ping(1)));
  EXPECT_FALSE(*output.handle(make_note("b")));
  EXPECT_TRUE(output.done());
  EXPECT_FALSE(*output.handle(make_note("c")));  // nothing after the limit
  EXPECT_EQ(output.shown(), 2u);
  EXPECT_EQ(output.seen(), 3u);
}

TEST(TraceOutput, QuietWithCaptureOnlyWrites) {
  testing::TempDir dir;
  auto writer = CaptureWriter::create(dir.file("cap.vtr"));
  ASSERT_TRUE(writer) << writer.error().message;
  MemoryOut out;
  auto settings = settings_for(nullptr, 0);
  settings.print = false;
  TraceOutput output(std::move(settings), out.file(), std::move(*writer));
  EXPECT_TRUE(*output.handle(make_ping(1)));
  output.count_malformed();
  ASSERT_TRUE(output.finish());
  EXPECT_EQ(out.text(), "");
  EXPECT_EQ(output.summary(),
            "vtas-trace: 1 message written to " + dir.file("cap.vtr") + ", 2 seen, 1 malformed");
  auto reader = CaptureReader::open(dir.file("cap.vtr"));
  ASSERT_TRUE(reader) << reader.error().message;
  Envelope e;
  ASSERT_TRUE(reader->next(&e));
  EXPECT_EQ(e.ping_request().sequence(), 1u);
  EXPECT_FALSE(reader->next(&e));
  EXPECT_FALSE(reader->error());
}

// `vtas-trace | head -3`: once the reader is gone, vtas-trace ends quietly.
TEST(TraceOutput, ClosedPipeEndsWithoutError) {
  auto* previous = ::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  FILE* out = ::fdopen(fds[1], "w");
  ASSERT_NE(out, nullptr);
  TraceOutput output(settings_for(nullptr, 0), out, std::nullopt);
  auto more = output.handle(make_ping(1));
  ASSERT_TRUE(more) << more.error().message;
  EXPECT_FALSE(*more);
  EXPECT_TRUE(output.done());
  std::fclose(out);
  ::signal(SIGPIPE, previous);
}

}  // namespace
}  // namespace vtas::trace
