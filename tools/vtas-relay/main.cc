// vtas-relay: a user-space impairment relay between two network interfaces, for tests. It
// forwards every frame from one to the other and back, and on the way drops, corrupts,
// duplicates, delays, reorders, rate-limits and ECN-marks them as configured, with seeded
// random decisions. (This machine has no netem.) See `vtas-relay --help`.
//
// Typical test topology: the fast path's veth end <-> [veth pair A] <-> relay <-> [veth pair
// B] <-> Linux peer in its namespace; the relay's two ends in a namespace of their own.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tools/vtas-relay/relay_engine.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(vtas::relay::usage().c_str(), stdout);
      return 0;
    }
  }
  auto config = vtas::relay::parse_arguments(args);
  if (!config) {
    std::fprintf(stderr, "%s\n\n%s", config.error().message.c_str(), vtas::relay::usage().c_str());
    return 64;
  }
  // The engine reads these from a signalfd.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto engine = vtas::relay::RelayEngine::open(*config);
  if (!engine) {
    std::fprintf(stderr, "%s\n", engine.error().message.c_str());
    return 1;
  }
  std::printf("ready a=%s b=%s seed=%lu a2b: %s; b2a: %s\n", config->interface_a.c_str(),
              config->interface_b.c_str(), config->seed, vtas::relay::describe(config->a2b).c_str(),
              vtas::relay::describe(config->b2a).c_str());
  std::fflush(stdout);
  const vtas::Status status = (*engine)->run();
  const std::string stats = (*engine)->stats_text();
  std::fputs(stats.c_str(), stdout);
  std::fflush(stdout);
  if (!config->stats_file.empty()) std::ofstream(config->stats_file) << stats;
  if (!status) {
    std::fprintf(stderr, "%s\n", status.error().message.c_str());
    return 1;
  }
  return 0;
}
