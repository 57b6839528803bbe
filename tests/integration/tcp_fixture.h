// TcpFixture: a vtas instance (fastpath, arp, timer, conn) on a fresh veth pair with a Linux
// peer in a namespace, for the TCP integration tests. Apps run on vtas through libvtas
// (tests/apps/vtas_ll_tool); the Linux side runs tests/integration/linux_peer.py.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/instance.h"
#include "tests/integration/test_network.h"

namespace vtas::testing {

class TcpFixture : public ::testing::Test {
 protected:
  // `extra_tas` goes inside the manifest's tas { } block.
  void start_instance(const std::string& extra_tas = "");
  void TearDown() override;

  // An app on vtas: vtas_ll_tool with these arguments, output to a file in the test dir.
  pid_t spawn_app(const std::vector<std::string>& args, const std::string& name);
  // The Linux peer program inside the namespace.
  pid_t spawn_peer(const std::vector<std::string>& args, const std::string& name);
  CommandResult run_app(const std::vector<std::string>& args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(120));
  CommandResult run_peer(const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = std::chrono::seconds(120));
  // Output so far of a spawned program, and waiting for a line in it.
  std::string output(const std::string& name) const;
  bool wait_output(const std::string& name, const std::string& needle,
                   std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  int wait_pid(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(120));

  std::unique_ptr<TestNetwork> net_;
  std::unique_ptr<Instance> vtas_;
  std::string dir_;
  std::vector<pid_t> apps_;
};

// All "key=value" values for `key` in `text`, in order.
std::vector<std::string> values_of(const std::string& text, const std::string& key);

}  // namespace vtas::testing
