// TestNetwork: a Linux peer for integration tests. Creates a network namespace and a veth pair
// with project-prefixed, per-process names: one end stays in this namespace for the fast path
// (net_af_packet binds to it; it gets no address), the other goes into the namespace with the
// peer's address. Offloads are turned off on both ends so frames on the wire are complete
// (checksums filled in, no GSO super-frames), as a real NIC would deliver them. Everything is
// deleted in the destructor.
#pragma once

#include <string>
#include <vector>

#include "tests/integration/instance.h"

namespace vtas::testing {

class TestNetwork {
 public:
  // `tag` keeps names unique between tests in one process (names are at most 15 bytes).
  explicit TestNetwork(const std::string& tag = "t");
  ~TestNetwork();
  TestNetwork(const TestNetwork&) = delete;
  TestNetwork& operator=(const TestNetwork&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  const std::string& ns() const { return ns_; }
  const std::string& fast_path_interface() const { return fp_if_; }
  const std::string& vtas_ip() const { return vtas_ip_; }   // the fast path's address
  const std::string& peer_ip() const { return peer_ip_; }   // Linux, inside ns()
  // "net_af_packet0,iface=<fast path end>" for network.device.
  std::string device() const;
  // The manifest `network { ... }` block for this network.
  std::string manifest_network() const;

  // Runs argv inside the peer namespace.
  CommandResult run_in_peer(const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // Starts argv inside the peer namespace in the background; returns its pid (killed by the
  // destructor if still running).
  pid_t spawn_in_peer(const std::vector<std::string>& argv, const std::string& stdout_path = "",
                      const std::string& stderr_path = "");

 private:
  bool sh(const std::string& command);
  std::string ns_, fp_if_, peer_if_, vtas_ip_, peer_ip_;
  std::vector<pid_t> spawned_;
  bool ok_ = false;
  std::string error_;
};

}  // namespace vtas::testing
