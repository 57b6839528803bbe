// VmFixture: the host's vtas with the proxy-host actor on a veth pair with a Linux peer in a
// namespace, plus "VMs" without a VM: each is a vtas-proxy-guest in client mode (an ivshmem
// client of the host proxy's socket, the same protocol QEMU speaks) serving apps on its own
// runtime directory. Apps in a VM are unmodified vtas_ll_tool processes pointed at the VM's
// runtime directory (VTAS_RUNTIME_DIR), exactly as an app inside a VM finds its guest proxy.
// For the protocol-level VM tests (tests/vm/protocol); needs root (namespaces, DPDK).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/instance.h"
#include "tests/integration/test_network.h"

namespace vtas::testing {

// One "VM": its guest proxy process and the apps started in it.
struct GuestVm {
  std::string name;
  std::string runtime_dir;  // where its apps attach (<runtime_dir>/app.sock)
  pid_t proxy_pid = -1;
  std::vector<pid_t> apps;
};

class VmFixture : public ::testing::Test {
 protected:
  // The network, then vtas with fastpath, arp, timer, conn and proxy-host. `proxy_settings`
  // goes into the proxy-host actor's `proxy_host { ... }` (e.g. "max_connections: 2").
  void start_host(const std::string& proxy_settings = "");
  void TearDown() override;

  // Starts a guest proxy in client mode and waits until apps can attach (its --ready-fd).
  // nullptr (with a test failure) if it did not come up.
  GuestVm* start_vm(const std::string& name);
  // Kills a VM the way a dying QEMU goes: the guest proxy first (SIGKILL), then its apps.
  void kill_vm(GuestVm& vm);

  // vtas_ll_tool in `vm` (nullptr: on the host), output to files named `name` in the test dir.
  pid_t spawn_app(GuestVm* vm, const std::vector<std::string>& args, const std::string& name);
  CommandResult run_app(GuestVm* vm, const std::vector<std::string>& args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(90));
  // The Linux peer program (tests/integration/linux_peer.py) inside the namespace.
  pid_t spawn_peer(const std::vector<std::string>& args, const std::string& name);
  CommandResult run_peer(const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = std::chrono::seconds(90));

  std::string output(const std::string& name) const;
  // The sha256= values in the outputs of `names`, together and sorted (senders and receivers
  // compared whatever order the connections finished in).
  std::vector<std::string> sorted_sha256s(const std::vector<std::string>& names) const;
  bool wait_output(const std::string& name, const std::string& needle,
                   std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Exit code of a spawned process (128+signal), -1 on timeout.
  int wait_pid(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(90));

  // A counter from `vtasctl stats` of actor `actor` ("  name   value" below its heading); -1
  // when absent.
  int64_t stats_counter(const std::string& actor, const std::string& name) const;
  // The supervisor's children (the actor processes) holding or mapping a file whose name
  // contains `needle` (e.g. "memfd:vtas-vm-2"): "pid path" lines, empty when none does.
  std::vector<std::string> actors_holding(const std::string& needle) const;

  std::string ivshmem_socket() const { return vtas_->runtime_dir() + "/ivshmem.sock"; }

  std::unique_ptr<TestNetwork> net_;
  std::unique_ptr<Instance> vtas_;
  std::string dir_;  // outputs of apps and peers, guest runtime directories
  std::vector<std::unique_ptr<GuestVm>> vms_;
  std::vector<pid_t> host_apps_;

 private:
  pid_t spawn(const std::vector<std::string>& argv, const std::string& name);
  void reap(pid_t pid);
};

// All "key=value" values for `key` in `text`, in order.
std::vector<std::string> field_values(const std::string& text, const std::string& key);

}  // namespace vtas::testing
