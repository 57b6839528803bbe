// ActorKillFixture: kills slow-path actors (conn, timer, arp, cc) with SIGKILL, chosen at
// random, while TCP transfers in both directions between vtas and a Linux peer run the whole
// time (finished transfers are replaced by new connections), then checks that every transfer
// completed with the right SHA-256, that no RST crossed the wire, and that the supervisor had
// every actor back within a second. Used by the long suite (100 kills) and its integration
// variant (10 kills).
#pragma once

#include <string>
#include <vector>

#include "tests/long/long_fixture.h"

namespace vtas::testing {

struct KillRecord {
  std::string actor;
  double observed_ms = 0;    // SIGKILL -> `vtasctl status` shows the new incarnation running
  double supervisor_ms = 0;  // the supervisor's last_restart_ms: exit detected -> ready again
};

class ActorKillFixture : public LongFixture {
 protected:
  // Runs the whole scenario with `kills` kills; returns what each kill took.
  std::vector<KillRecord> run_kills(int kills);
};

// "restart-time actor=<a> n=<n> p50_ms=.. p99_ms=.. max_ms=.. (observed|supervisor)" lines.
std::string restart_summary(const std::vector<KillRecord>& kills);

}  // namespace vtas::testing
