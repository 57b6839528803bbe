// Long suite: transfers through vtas-relay under loss, reordering, duplication, delay jitter
// and all of them together (label long). Bounds are generous (this 2-core machine is shared);
// the measured times are printed.
#include <gtest/gtest.h>

#include "tests/long/impairments.h"

namespace vtas::testing {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
using std::chrono::seconds;

TEST_F(ImpairmentFixture, OnePercentLoss) {
  transfer_under({"--loss=1"}, 32 * kMiB, seconds(240));
}

TEST_F(ImpairmentFixture, FivePercentLoss) {
  transfer_under({"--loss=5"}, 8 * kMiB, seconds(300));
}

TEST_F(ImpairmentFixture, TenPercentReordering) {
  transfer_under({"--reorder=10", "--reorder-delay-us=500"}, 32 * kMiB, seconds(240));
}

TEST_F(ImpairmentFixture, TwoPercentDuplication) {
  transfer_under({"--duplicate=2"}, 32 * kMiB, seconds(240));
}

TEST_F(ImpairmentFixture, DelayWithJitter) {
  transfer_under({"--delay-us=2000", "--jitter-us=1000"}, 32 * kMiB, seconds(240));
}

// The combination: 2% loss, 10% reordering, 1% duplication, 0.1% corruption, 64 MiB
// each way.
TEST_F(ImpairmentFixture, EverythingTogether64MiB) {
  transfer_under({"--loss=2", "--reorder=10", "--duplicate=1", "--corrupt=0.1"}, 64 * kMiB,
                 seconds(600));
}

}  // namespace
}  // namespace vtas::testing
