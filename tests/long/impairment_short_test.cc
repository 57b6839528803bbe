// Integration variant of the impairment suite: a small transfer each way under 1% loss, 5%
// reordering and 1% duplication together (well under two minutes).
#include <gtest/gtest.h>

#include "tests/long/impairments.h"

namespace vtas::testing {
namespace {

TEST_F(ImpairmentFixture, ShortLossReorderDuplication) {
  transfer_under({"--loss=1", "--reorder=5", "--duplicate=1"}, 4ull << 20,
                 std::chrono::seconds(90));
}

}  // namespace
}  // namespace vtas::testing
