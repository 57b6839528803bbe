#include "tests/integration/test_network.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "tests/integration/spawn.h"

namespace vtas::testing {

TestNetwork::TestNetwork(const std::string& tag) {
  std::string id = std::to_string(::getpid() % 100000) + tag;
  ns_ = "vtas-ns" + id;
  fp_if_ = "vtf" + id;
  peer_if_ = "vtp" + id;
  // A /24 per process so parallel test processes never share addresses.
  int subnet = 1 + ::getpid() % 200;
  vtas_ip_ = "10.77." + std::to_string(subnet) + ".1";
  peer_ip_ = "10.77." + std::to_string(subnet) + ".2";
  std::string prefix = "10.77." + std::to_string(subnet) + ".";
  ok_ = sh("ip netns add " + ns_) &&
        sh("ip link add " + fp_if_ + " type veth peer name " + peer_if_) &&
        sh("ip link set " + peer_if_ + " netns " + ns_) &&
        sh("sysctl -qw net.ipv6.conf." + fp_if_ + ".disable_ipv6=1") &&
        sh("ip link set " + fp_if_ + " up") &&
        sh("ip netns exec " + ns_ + " ip link set lo up") &&
        sh("ip netns exec " + ns_ + " ip addr add " + peer_ip_ + "/24 dev " + peer_if_) &&
        sh("ip netns exec " + ns_ + " ip link set " + peer_if_ + " up") &&
        sh("ethtool -K " + fp_if_ + " tx off rx off tso off gso off gro off >/dev/null 2>&1") &&
        sh("ip netns exec " + ns_ + " ethtool -K " + peer_if_ +
           " tx off rx off tso off gso off gro off >/dev/null 2>&1");
  if (!ok_ && error_.empty()) error_ = "network setup failed (root, iproute2 and ethtool needed)";
}

TestNetwork::~TestNetwork() {
  for (pid_t pid : spawned_) {
    if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
  }
  sh("ip netns del " + ns_ + " 2>/dev/null");
  sh("ip link del " + fp_if_ + " 2>/dev/null");
}

bool TestNetwork::sh(const std::string& command) {
  int rc = std::system(command.c_str());
  if (rc != 0 && error_.empty()) error_ = "failed: " + command;
  return rc == 0;
}

std::string TestNetwork::device() const { return "net_af_packet0,iface=" + fp_if_; }

std::string TestNetwork::manifest_network() const {
  return "network { ip_addr: \"" + vtas_ip_ + "/24\" device: \"" + device() + "\" }\n";
}

CommandResult TestNetwork::run_in_peer(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout) const {
  std::vector<std::string> full{"/usr/bin/ip", "netns", "exec", ns_};
  full.insert(full.end(), argv.begin(), argv.end());
  return run_command(full, timeout);
}

pid_t TestNetwork::spawn_in_peer(const std::vector<std::string>& argv, const std::string& stdout_path,
                                 const std::string& stderr_path) {
  std::vector<std::string> full{"/usr/bin/ip", "netns", "exec", ns_};
  full.insert(full.end(), argv.begin(), argv.end());
  SpawnOptions options;
  options.stdout_path = stdout_path;
  options.stderr_path = stderr_path;
  const pid_t pid = spawn_process_or_abort(full, options);
  spawned_.push_back(pid);
  return pid;
}

}  // namespace vtas::testing
