// RelayNetwork: the test network of the congestion-control end-to-end tests -- vtas's fast
// path and a Linux peer with vtas-relay between them, so a test can put a bottleneck, ECN
// marking, delay or loss on the path:
//
//   fast path (net_af_packet on <fp>, this namespace)
//     <-> veth <-> [relay namespace: <ra> vtas-relay <rb>] <-> veth <-> <pb> (peer namespace)
//
// The peer namespace negotiates ECN (net.ipv4.tcp_ecn=1). Offloads are off on every end, so
// frames are complete on the wire. Names are per process; everything is removed (and every
// process started here killed) by the destructor. Needs root, iproute2 and ethtool.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace vtas::testing {

class RelayNetwork {
 public:
  explicit RelayNetwork(const std::string& tag);
  ~RelayNetwork();
  RelayNetwork(const RelayNetwork&) = delete;
  RelayNetwork& operator=(const RelayNetwork&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  const std::string& vtas_ip() const { return vtas_ip_; }
  const std::string& peer_ip() const { return peer_ip_; }
  // The manifest `network { ... }` block (the fast path on <fp>).
  std::string manifest_network() const;

  // Starts vtas-relay between the relay ends with `options` (`--rate-mbps=200`, ...) and
  // waits for it to say "ready". False, with the reason in `why`, if it did not.
  bool start_relay(const std::vector<std::string>& options, std::string* why);
  // One run-time change (`a2b-delay-us=5000`); true when the relay answered "ok".
  bool set_relay(const std::string& assignment);
  // The relay's counters now: its latest "stats ..." lines (it prints them on SIGUSR1).
  std::string relay_stats();
  // Everything the relay printed so far.
  std::string relay_output() const;

  // Starts argv in the peer namespace with stdout/stderr to these files; killed by the
  // destructor if still running.
  pid_t spawn_in_peer(const std::vector<std::string>& argv, const std::string& stdout_path,
                      const std::string& stderr_path);

 private:
  bool sh(const std::string& command);
  void stop_relay();

  std::string id_, fp_if_, relay_a_, relay_b_, peer_if_, relay_ns_, peer_ns_;
  std::string vtas_ip_, peer_ip_;
  std::string dir_;
  pid_t relay_pid_ = -1;
  int relay_stdin_ = -1;
  std::vector<pid_t> spawned_;
  bool ok_ = false;
  std::string error_;
};

// Counts lines of `text` that start with `prefix`.
size_t count_lines_starting(const std::string& text, const std::string& prefix);

}  // namespace vtas::testing
