// Integration variant of the actor-kill suite: 10 SIGKILLs under running transfers (well
// under two minutes). bench/run_all.sh runs it for the restart-time table.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/long/actor_kills.h"

namespace vtas::testing {
namespace {

TEST_F(ActorKillFixture, ShortTenKillsUnderTransfersLoseNothing) {
  const auto kills = run_kills({.kills = 10});
  std::cout << restart_summary(kills);
  EXPECT_EQ(kills.size(), 10u);
  EXPECT_EQ(slow_restarts(kills), "");
}

}  // namespace
}  // namespace vtas::testing
