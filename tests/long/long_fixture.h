// LongFixture: one vtas instance with every slow-path actor (fastpath, arp, timer, conn, cc)
// and a Linux peer, for the long reliability suites (tests/long) and their short integration
// variants. The peer sits either on a plain veth pair (TestNetwork: direct, lets a test reach
// the peer namespace for nft counters and extra addresses) or behind vtas-relay (RelayNetwork:
// loss, reordering, duplication, delay). Apps on vtas are vtas_ll_tool or any libvtas program;
// the Linux side is tests/integration/linux_peer.py or any program run in the peer namespace.
// Output of every program goes to a file in the test's directory; TearDown kills what is still
// running (by PID), stops vtas and removes the network.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/cc_e2e/relay_network.h"
#include "tests/integration/instance.h"
#include "tests/integration/test_network.h"

namespace vtas::testing {

class LongFixture : public ::testing::Test {
 protected:
  // vtas and the peer on one veth pair. `extra_tas` goes inside the manifest's tas { }.
  void start_direct(const std::string& extra_tas = "");
  // vtas and the peer with vtas-relay between them, started with `relay_options`.
  void start_relayed(const std::vector<std::string>& relay_options,
                     const std::string& extra_tas = "");
  void TearDown() override;

  // An app on vtas: `binary` (default vtas_ll_tool) with these arguments.
  pid_t spawn_app(const std::vector<std::string>& args, const std::string& name,
                  const std::string& binary = "");
  // A program in the peer namespace: linux_peer.py with `args`, or `argv` as given.
  pid_t spawn_peer(const std::vector<std::string>& args, const std::string& name);
  pid_t spawn_in_peer(const std::vector<std::string>& argv, const std::string& name);

  std::string output(const std::string& name) const;
  bool wait_output(const std::string& name, const std::string& needle,
                   std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Exit code of a child (128 + signal if killed), -1 if it did not end within `timeout`.
  int wait_pid(pid_t pid, std::chrono::milliseconds timeout);
  // Non-blocking: the exit code if `pid` ended, -1 if it still runs.
  int poll_pid(pid_t pid);

  const std::string& vtas_ip() const;
  const std::string& peer_ip() const;
  // The peer namespace (direct network only).
  const std::string& peer_ns() const { return direct_->ns(); }

  std::unique_ptr<TestNetwork> direct_;
  std::unique_ptr<RelayNetwork> relayed_;
  std::unique_ptr<Instance> vtas_;
  std::string dir_;
  std::vector<pid_t> children_;
  // Extra fields for the arp, timer, conn and cc actor blocks of the manifest (set before start).
  std::string slow_path_actor_options_;

 private:
  void start_vtas(const std::string& network, const std::string& extra_tas);
};

// All "key=value" values for `key` in `text`, in order.
std::vector<std::string> key_values(const std::string& text, const std::string& key);
// Lines of `text` containing `needle`.
size_t count_lines_with(const std::string& text, const std::string& needle);
// The q-quantile (0..1) of `values` (nearest rank); 0 for none.
double quantile(std::vector<double> values, double q);

}  // namespace vtas::testing
