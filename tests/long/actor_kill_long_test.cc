// Long suite: 100 SIGKILLs of slow-path actors under running transfers (label long).
#include <gtest/gtest.h>

#include <iostream>

#include "tests/long/actor_kills.h"

namespace vtas::testing {
namespace {

TEST_F(ActorKillFixture, HundredKillsUnderTransfersLoseNothing) {
  const auto kills = run_kills({.kills = 100, .churn = true});
  std::cout << restart_summary(kills);
  EXPECT_EQ(kills.size(), 100u);
  // The design's promise: the supervisor has a killed actor back within one second.
  EXPECT_EQ(slow_restarts(kills), "");
}

// conn alone, under connection churn: handshakes (SYN-ACK sent, third ACK not yet seen; or
// waiting for the accept) and closes are in flight at nearly every kill.
TEST_F(ActorKillFixture, FiftyConnKillsUnderConnectionChurnResetNothing) {
  const auto kills = run_kills({.kills = 50, .actors = {"conn"}, .churn = true});
  std::cout << restart_summary(kills);
  EXPECT_EQ(kills.size(), 50u);
  EXPECT_EQ(slow_restarts(kills), "");
}

}  // namespace
}  // namespace vtas::testing
