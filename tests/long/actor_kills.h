// ActorKillFixture: kills slow-path actors (conn, timer, arp, cc, scale) with SIGKILL, chosen
// at random, while TCP transfers in both directions between vtas and a Linux peer run the
// whole time (finished transfers are replaced by new connections) and, with `churn`, a Linux
// client opens short echo connections back to back (so handshakes and closes are always in
// flight when an actor dies). Then checks that every transfer completed with the right
// SHA-256 and none stalled (20 s), that every churn connection echoed, that no RST crossed
// the wire, that nothing was left behind (no flow, no connection record, no unanswered close
// or open), and that every actor was back within a second of its SIGKILL, as the supervisor
// reports it (asked from the test process every 2 ms), less any time the whole machine stood
// still meanwhile, which a StallWitness measures and the output shows.
// Used by the long suite (100 kills, and 50 kills of conn alone under churn) and its
// integration variant (10 kills).
#pragma once

#include <string>
#include <vector>

#include "tests/long/long_fixture.h"

namespace vtas::testing {

struct KillRecord {
  std::string actor;
  // SIGKILL -> the supervisor reports the new incarnation running (asked every 2 ms)
  double observed_ms = 0;
  // The supervisor's last_restart_ms: exit detected -> ready again. Shorter than observed_ms by
  // the time the supervisor took to see the exit, which is why it is not what is checked.
  double supervisor_ms = 0;
  double machine_stall_ms = 0;  // of observed_ms, how long the whole machine stood still
  // The restart's time as the service's users saw it, less the machine's stall.
  double restart_ms() const { return observed_ms - machine_stall_ms; }
};

struct KillPlan {
  int kills = 100;
  std::vector<std::string> actors = {"conn", "timer", "arp", "cc", "scale"};
  bool churn = false;  // also short Linux -> vtas echo connections back to back
};

class ActorKillFixture : public LongFixture {
 protected:
  // Runs the whole scenario; returns what each kill took.
  std::vector<KillRecord> run_kills(const KillPlan& plan);
};

// "restart-time actor=<a> n=<n> p50_ms=.. p99_ms=.. max_ms=.. (observed|supervisor)" lines,
// and a line for the machine's stalls if any kill met one.
std::string restart_summary(const std::vector<KillRecord>& kills);
// The kills whose restart took a second or more (less any stall of the whole machine during
// it), one per line; empty when every actor was back within a second, as the design promises.
std::string slow_restarts(const std::vector<KillRecord>& kills);

}  // namespace vtas::testing
