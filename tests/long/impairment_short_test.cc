// Integration variant of the impairment suite: a small transfer each way under 1% loss, 5%
// reordering and 1% duplication together, and one under heavy reordering alone (each well
// under two minutes).
#include <gtest/gtest.h>

#include "tests/long/impairments.h"

namespace vtas::testing {
namespace {

TEST_F(ImpairmentFixture, ShortLossReorderDuplication) {
  transfer_under({"--loss=1", "--reorder=5", "--duplicate=1"}, 4ull << 20,
                 std::chrono::seconds(90));
}

// 10% of segments 500 us late, both ways: several holes per window. Before vtas kept several
// out-of-order intervals and sent SACK blocks, the Linux -> vtas direction crawled (~2 Mbit/s,
// 32 MiB took > 240 s); now 32 MiB takes ~8 s here. 8 MiB within 60 s catches a regression.
TEST_F(ImpairmentFixture, TenPercentReorderingDoesNotStall) {
  transfer_under({"--reorder=10", "--reorder-delay-us=500"}, 8ull << 20,
                 std::chrono::seconds(60));
}

}  // namespace
}  // namespace vtas::testing
