#include "runtime/loop_watch.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace vtas {
namespace {

using std::chrono::milliseconds;
using Clock = LoopWatch::Clock;

class LoopWatchTest : public ::testing::Test {
 protected:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> logger_ = std::make_shared<spdlog::logger>(
      "loop-watch-test", std::make_shared<spdlog::sinks::ostream_sink_st>(out_));
  LoopWatch watch_{logger_};
  Clock::time_point t0_ = Clock::now();
};

TEST_F(LoopWatchTest, AHandlerThatRunsLongIsReportedByName) {
  watch_.after_handler(t0_, t0_ + milliseconds(249), [] { return std::string("quick"); });
  EXPECT_EQ(watch_.slow_handlers(), 0u);
  watch_.after_handler(t0_, t0_ + milliseconds(1200), [] { return std::string("fd 7"); });
  EXPECT_EQ(watch_.slow_handlers(), 1u);
  EXPECT_NE(out_.str().find("fd 7 took 1200 ms"), std::string::npos) << out_.str();
  EXPECT_EQ(out_.str().find("quick"), std::string::npos);
}

TEST_F(LoopWatchTest, WaitsThatKeepReturningAtOnceAreReportedAsSpinning) {
  int described = 0;
  auto describe = [&described] { ++described; return std::string("fd 9"); };
  // One second of wake-ups, each with something ready; the report comes as the window closes.
  for (uint64_t i = 0; i < LoopWatch::kSpinningWakeups; ++i) watch_.after_wait(t0_, 1, describe);
  watch_.after_wait(t0_ + std::chrono::seconds(1), 1, describe);
  EXPECT_EQ(watch_.spinning_seconds(), 1u);
  EXPECT_EQ(described, 1);
  EXPECT_NE(out_.str().find("spinning"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("ready now: fd 9"), std::string::npos) << out_.str();
}

TEST_F(LoopWatchTest, AnIdleOrModeratelyBusyLoopIsNotSpinning) {
  auto describe = [] { return std::string("x"); };
  // Timeouts (nothing ready) do not count: a loop that polls with timeout 0 while it has
  // work of its own (the fast path's control loop) is busy, not stuck.
  for (int i = 0; i < 200000; ++i) watch_.after_wait(t0_, 0, describe);
  for (int i = 0; i < 5000; ++i) watch_.after_wait(t0_, 1, describe);
  watch_.after_wait(t0_ + std::chrono::seconds(1), 0, describe);
  EXPECT_EQ(watch_.spinning_seconds(), 0u);
  EXPECT_EQ(out_.str(), "");
}

}  // namespace
}  // namespace vtas
