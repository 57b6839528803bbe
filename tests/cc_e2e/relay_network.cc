#include "tests/cc_e2e/relay_network.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/instance.h"

namespace vtas::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void exec_in_namespace(const std::string& ns, const std::vector<std::string>& argv) {
  std::vector<std::string> full{"/usr/bin/ip", "netns", "exec", ns};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : full) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

void redirect(int fd, const std::string& path) {
  if (path.empty()) return;
  const int out = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(out, fd);
}

// Ends a child: SIGTERM, a moment to print its counters, then SIGKILL.
void end_process(pid_t pid) {
  if (pid <= 0 || ::kill(pid, SIGTERM) != 0) return;
  for (int i = 0; i < 200; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace

size_t count_lines_starting(const std::string& text, const std::string& prefix) {
  size_t count = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) ++count;
  }
  return count;
}

RelayNetwork::RelayNetwork(const std::string& tag) {
  // A relay that died must not take the test with it when we write to its stdin.
  ::signal(SIGPIPE, SIG_IGN);
  id_ = std::to_string(::getpid() % 100000) + tag;
  fp_if_ = "cf" + id_;
  relay_a_ = "cra" + id_;
  relay_b_ = "crb" + id_;
  peer_if_ = "cpb" + id_;
  relay_ns_ = "vtas-ccr" + id_;
  peer_ns_ = "vtas-ccp" + id_;
  const std::string subnet = "10.79." + std::to_string(1 + ::getpid() % 200) + ".";
  vtas_ip_ = subnet + "1";
  peer_ip_ = subnet + "2";
  char pattern[] = "/tmp/vtas-cc-e2e-XXXXXX";
  dir_ = ::mkdtemp(pattern);
  const std::string in_relay = "ip netns exec " + relay_ns_ + " ";
  const std::string in_peer = "ip netns exec " + peer_ns_ + " ";
  const std::string no_offloads = " tx off rx off tso off gso off gro off >/dev/null 2>&1";
  ok_ = sh("ip netns add " + relay_ns_) && sh("ip netns add " + peer_ns_) &&
        sh("ip link add " + fp_if_ + " type veth peer name " + relay_a_) &&
        sh("ip link add " + relay_b_ + " type veth peer name " + peer_if_) &&
        sh("ip link set " + relay_a_ + " netns " + relay_ns_) &&
        sh("ip link set " + relay_b_ + " netns " + relay_ns_) &&
        sh("ip link set " + peer_if_ + " netns " + peer_ns_) &&
        sh("sysctl -qw net.ipv6.conf." + fp_if_ + ".disable_ipv6=1") &&
        sh(in_relay + "sysctl -qw net.ipv6.conf.all.disable_ipv6=1") &&
        sh(in_peer + "sysctl -qw net.ipv6.conf.all.disable_ipv6=1") &&
        sh(in_peer + "sysctl -qw net.ipv4.tcp_ecn=1") && sh(in_peer + "ip link set lo up") &&
        sh(in_peer + "ip addr add " + peer_ip_ + "/24 dev " + peer_if_) &&
        sh("ip link set " + fp_if_ + " up") && sh(in_relay + "ip link set " + relay_a_ + " up") &&
        sh(in_relay + "ip link set " + relay_b_ + " up") &&
        sh(in_peer + "ip link set " + peer_if_ + " up") &&
        sh("ethtool -K " + fp_if_ + no_offloads) &&
        sh(in_relay + "ethtool -K " + relay_a_ + no_offloads) &&
        sh(in_relay + "ethtool -K " + relay_b_ + no_offloads) &&
        sh(in_peer + "ethtool -K " + peer_if_ + no_offloads);
  if (!ok_ && error_.empty()) error_ = "network setup failed (root, iproute2 and ethtool needed)";
}

RelayNetwork::~RelayNetwork() {
  stop_relay();
  for (pid_t pid : spawned_) end_process(pid);
  sh("ip netns del " + peer_ns_ + " 2>/dev/null");
  sh("ip netns del " + relay_ns_ + " 2>/dev/null");
  sh("ip link del " + fp_if_ + " 2>/dev/null");
  std::filesystem::remove_all(dir_);
}

bool RelayNetwork::sh(const std::string& command) {
  const int rc = std::system(command.c_str());
  if (rc != 0 && error_.empty()) error_ = "failed: " + command;
  return rc == 0;
}

std::string RelayNetwork::manifest_network() const {
  return "network { ip_addr: \"" + vtas_ip_ + "/24\" device: \"net_af_packet0,iface=" + fp_if_ +
         "\" }\n";
}

bool RelayNetwork::start_relay(const std::vector<std::string>& options, std::string* why) {
  stop_relay();
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *why = "pipe failed";
    return false;
  }
  const std::string out = dir_ + "/relay.out", err = dir_ + "/relay.err";
  std::vector<std::string> argv{VTAS_RELAY_BINARY, "--a=" + relay_a_, "--b=" + relay_b_,
                                "--commands", "--seed=1"};
  argv.insert(argv.end(), options.begin(), options.end());
  relay_pid_ = ::fork();
  if (relay_pid_ == 0) {
    ::dup2(pipe_fds[0], 0);
    redirect(1, out);
    redirect(2, err);
    exec_in_namespace(relay_ns_, argv);
  }
  ::close(pipe_fds[0]);
  relay_stdin_ = pipe_fds[1];
  const bool ready = eventually(
      [&] {
        return read_file(out).find("ready") != std::string::npos ||
               ::waitpid(relay_pid_, nullptr, WNOHANG) == relay_pid_;
      },
      std::chrono::seconds(10));
  if (!ready || read_file(out).find("ready") == std::string::npos) {
    *why = "vtas-relay did not start: " + read_file(err);
    return false;
  }
  return true;
}

bool RelayNetwork::set_relay(const std::string& assignment) {
  if (relay_stdin_ < 0) return false;
  const std::string out_path = dir_ + "/relay.out";
  auto answers = [&] {
    const std::string text = read_file(out_path);
    return count_lines_starting(text, "ok ") + count_lines_starting(text, "error ");
  };
  const size_t before = answers();
  const std::string line = "set " + assignment + "\n";
  if (::write(relay_stdin_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    return false;
  }
  if (!eventually([&] { return answers() > before; }, std::chrono::seconds(5))) return false;
  const std::string text = read_file(out_path);
  const size_t last = text.rfind('\n', text.size() - 2);
  return text.compare(last == std::string::npos ? 0 : last + 1, 3, "ok ") == 0;
}

std::string RelayNetwork::relay_output() const {
  return read_file(dir_ + "/relay.out");
}

std::string RelayNetwork::relay_stats() {
  if (relay_pid_ <= 0) return "";
  const size_t before = count_lines_starting(relay_output(), "stats total");
  ::kill(relay_pid_, SIGUSR1);
  eventually([&] { return count_lines_starting(relay_output(), "stats total") > before; },
             std::chrono::seconds(5));
  const std::string text = relay_output();
  // The last three "stats" lines: a2b, b2a, total.
  size_t at = text.rfind("stats a2b");
  return at == std::string::npos ? "" : text.substr(at);
}

void RelayNetwork::stop_relay() {
  if (relay_stdin_ >= 0) ::close(relay_stdin_);
  relay_stdin_ = -1;
  end_process(relay_pid_);
  relay_pid_ = -1;
}

pid_t RelayNetwork::spawn_in_peer(const std::vector<std::string>& argv,
                                  const std::string& stdout_path, const std::string& stderr_path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    redirect(1, stdout_path);
    redirect(2, stderr_path);
    exec_in_namespace(peer_ns_, argv);
  }
  spawned_.push_back(pid);
  return pid;
}

}  // namespace vtas::testing
