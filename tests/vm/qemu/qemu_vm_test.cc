// A real VM on the host's vtas (issue 7): vtas runs on the host with the proxy-host actor and a
// Linux peer in a namespace; QEMU (software emulation: KVM hangs on these machines) boots the
// guest scripts/vm/build_guest.sh builds from Debian packages, attached to the host proxy's
// ivshmem socket; inside, vtas-proxy-guest binds the ivshmem device through VFIO — type1 with
// QEMU's emulated intel-iommu, or no-IOMMU mode in a VM without one (with the vfio.ko that
// scripts/vm/build_noiommu_vfio.sh builds) — and vtas_ll_tool talks to the Linux peer through
// the host's vtas: an echo and a SHA-256-checked transfer. The guest's /init (guest_init.sh)
// reports on the serial console, which QEMU writes to a file this test reads.
//
// Skipped only when qemu-system-x86_64 is not installed.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/instance.h"
#include "tests/integration/test_network.h"
#include "tests/vm/qemu/qemu_vm.h"

namespace vtas::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kEchoPort = 7100;
constexpr int kBulkPort = 7101;
constexpr int kHostEchoPort = 7102;
constexpr uint64_t kEchoBytes = 256 * 1024;
constexpr uint64_t kBulkBytes = 4ull << 20;
// Boot (5-15 s, 30+ s on a loaded machine) plus the transfers under emulation; the ctest
// TIMEOUT (300 s) leaves room for the rest, including the one-time build of the no-IOMMU
// vfio.ko (30 s, 90 s on a loaded machine) in a fresh build directory.
constexpr auto kVmDeadline = seconds(150);

// How a VM reaches VFIO: the machine QEMU emulates, the guest's vfio.ko and the proxy's mode.
enum class VmKind {
  kType1,         // intel-iommu; Debian's modules; the proxy picks type1
  kNoIommuStock,  // no IOMMU; Debian's vfio.ko, which has no no-IOMMU mode: the proxy fails
  kNoIommu,       // no IOMMU; vfio.ko with CONFIG_VFIO_NOIOMMU; proxy --vfio-mode noiommu
};

bool qemu_installed() { return run_command({"/bin/sh", "-c", "command -v qemu-system-x86_64"}).exit_code == 0; }

// All "key=value" values of `key` in the lines of `text` that contain `line_tag`.
std::vector<std::string> values_in_lines(const std::string& text, const std::string& line_tag,
                                         const std::string& key) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(line_tag) == std::string::npos) continue;
    size_t at = line.find(key + "=");
    if (at == std::string::npos) continue;
    at += key.size() + 1;
    out.push_back(line.substr(at, line.find_first_of(" \r", at) - at));
  }
  return out;
}

// The ivshmem peer id the guest proxy reported ("... peer id 3, ..."), or "".
std::string peer_id_of(const std::string& console) {
  size_t at = console.find("peer id ");
  if (at == std::string::npos) return "";
  at += 8;
  return console.substr(at, console.find_first_not_of("0123456789", at) - at);
}

class QemuVmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!qemu_installed()) {
      GTEST_SKIP() << "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86 qemu-utils "
                      "busybox-static cpio; scripts/test.sh installs them): the real-VM test needs it";
    }
    // The guest first: downloading the kernel package happens once per build directory.
    initrd_ = build_guest({});
    ASSERT_FALSE(HasFailure());
    kernel_ = std::string(GUEST_DIR) + "/vmlinuz";

    net_ = std::make_unique<TestNetwork>("q");
    ASSERT_TRUE(net_->ok()) << net_->error();
    vtas_ = std::make_unique<Instance>(
        // A long heartbeat timeout: QEMU's emulation competes with the fast path for the CPU,
        // and on a loaded 2-core machine the fast path can miss 2 s of heartbeats without
        // being hung (this test is not about hang detection).
        "supervision { heartbeat_interval_ms: 100 heartbeat_timeout_ms: 15000 }\n" + net_->manifest_network() +
            "tas { fp_no_hugepages: true fp_poll_interval_tas: 2000 tcp_rxbuf_len: 262144 "
            "tcp_txbuf_len: 262144 }\n"
            "actor { name: \"fastpath\" kind: \"fastpath\" }\n"
            "actor { name: \"arp\" kind: \"arp\" }\n"
            "actor { name: \"timer\" kind: \"timer\" }\n"
            "actor { name: \"conn\" kind: \"conn\" }\n"
            "actor { name: \"proxy-host\" kind: \"proxy-host\" }\n",
        "vm" + std::to_string(::getpid() % 100000));
    ASSERT_TRUE(vtas_->start()) << vtas_->supervisor_stderr();
    dir_ = vtas_->runtime_dir() + "/../out";
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    if (HasFailure() && vtas_) {
      std::cerr << "---- vtasctl stats ----\n" << vtas_->ctl({"stats"}).out;
      // Every output file of the test (consoles, QEMU's stderr, peers, host apps).
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
        std::cerr << "---- " << entry.path().filename().string() << " ----\n" << read_text(entry.path().string());
      }
    }
    vms_.clear();  // kills QEMU (by PID) before vtas goes
    for (pid_t pid : apps_) {
      if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
    if (vtas_) {
      int status = vtas_->stop();
      EXPECT_EQ(status, 0) << vtas_->supervisor_stderr();
      if (HasFailure()) std::cerr << "---- supervisor log ----\n" << vtas_->supervisor_stderr();
    }
    vtas_.reset();
    net_.reset();
  }

  // Builds the guest (build_guest.sh with `extra` arguments) and returns its initrd.
  std::string build_guest(const std::vector<std::string>& extra) {
    std::vector<std::string> command{BUILD_GUEST_SCRIPT, "--out", GUEST_DIR, "--bin", GUEST_PROXY_BINARY,
                                     "--bin", GUEST_APP_BINARY};
    command.insert(command.end(), extra.begin(), extra.end());
    CommandResult guest = run_command(command, seconds(240));
    EXPECT_EQ(guest.exit_code, 0) << "building the guest failed:\n" << guest.err << guest.out;
    const auto values = values_in_lines(guest.out, "kernel=", "initrd");
    EXPECT_EQ(values.size(), 1u) << guest.out;
    return values.empty() ? "" : values[0];
  }

  // The Linux peer program in the namespace; waits for its "listening" line.
  void start_peer(const std::vector<std::string>& args, const std::string& name) {
    std::vector<std::string> full{"/usr/bin/python3", LINUX_PEER_SCRIPT};
    full.insert(full.end(), args.begin(), args.end());
    net_->spawn_in_peer(full, dir_ + "/" + name, dir_ + "/" + name + ".err");
    ASSERT_TRUE(eventually([&] { return peer_output(name).find("listening") != std::string::npos; }, seconds(20)))
        << name << ": " << read_text(dir_ + "/" + name + ".err");
  }
  std::string peer_output(const std::string& name) const { return read_text(dir_ + "/" + name); }

  // A VM running `runs` (each a vtas_ll_tool command line, words separated by commas).
  QemuVm* start_vm(const std::string& name, const std::vector<std::string>& runs, VmKind kind = VmKind::kType1) {
    std::string params;
    for (size_t i = 0; i < runs.size(); ++i) params += " vt_run" + std::to_string(i + 1) + "=" + runs[i];
    std::string initrd = initrd_;
    if (kind == VmKind::kNoIommu) {
      // The first time, this downloads the kernel's sources and headers and builds vfio.ko (~30 s).
      initrd = build_guest({"--noiommu-vfio"});
      params += " vt_proxy_args=--vfio-mode,noiommu";
    }
    vms_.push_back(std::make_unique<QemuVm>(dir_ + "/" + name + ".console"));
    QemuVm* vm = vms_.back().get();
    QemuVmOptions options;
    options.kernel = kernel_;
    options.initrd = initrd;
    options.ivshmem_socket = vtas_->runtime_dir() + "/ivshmem.sock";
    options.init_params = params;
    options.iommu = kind == VmKind::kType1;
    options.deadline = kVmDeadline;
    EXPECT_TRUE(vm->start(options));
    return vm;
  }

  void wait_proxy_ready(QemuVm& vm, const std::string& name) {
    ASSERT_TRUE(vm.wait_for("VTAS-VM proxy ready"))
        << name << " never got its guest proxy ready. console:\n" << vm.console() << "\nqemu:\n" << vm.qemu_stderr();
  }

  // An app on the host's vtas (the dynamic vtas_ll_tool), output to files in dir_.
  pid_t spawn_host_app(const std::vector<std::string>& args, const std::string& name) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("VTAS_RUNTIME_DIR", vtas_->runtime_dir().c_str(), 1);
      int out = ::open((dir_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = ::open((dir_ + "/" + name + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(out, 1);
      ::dup2(err, 2);
      std::vector<std::string> full{HOST_APP_BINARY};
      full.insert(full.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : full) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    apps_.push_back(pid);
    return pid;
  }

  // The exit code of `pid` (128 + signal), or -1 if it is still running after `timeout`.
  int wait_pid(pid_t pid, milliseconds timeout) {
    int code = -1;
    eventually(
        [&] {
          int status = 0;
          if (::waitpid(pid, &status, WNOHANG) != pid) return false;
          code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          return true;
        },
        timeout);
    return code;
  }

  // What run `run` of the VM sent is what the Linux peer `peer` received (bytes and SHA-256).
  void expect_transfer_checked(const std::string& console, int run, const std::string& peer, uint64_t bytes) {
    auto sent = values_in_lines(console, "VTAS-VM run" + std::to_string(run) + ": sent", "sha256");
    ASSERT_EQ(sent.size(), 1u) << console;
    ASSERT_TRUE(eventually([&] { return peer_output(peer).find("closed") != std::string::npos; }, seconds(20)))
        << peer << ": " << peer_output(peer);
    EXPECT_EQ(values_in_lines(peer_output(peer), "closed", "bytes"), std::vector<std::string>{std::to_string(bytes)});
    EXPECT_EQ(values_in_lines(peer_output(peer), "closed", "sha256"), sent);
  }

  // Waits for the VM to finish its runs, checks the proxy came up and every run exited 0, and
  // reports the boot time (QEMU start to the guest proxy ready, as this host saw it).
  void expect_vm_passes(QemuVm& vm, size_t runs, const std::string& name) {
    wait_proxy_ready(vm, name);
    if (HasFailure()) return;
    std::cout << "[ measured ] " << name << ": QEMU start to guest proxy ready " << vm.seconds_since_start()
              << " s (guest uptime " << values_in_lines(vm.console(), "VTAS-VM proxy ready", "uptime")[0]
              << " s)" << std::endl;
    ASSERT_TRUE(vm.wait_for("VTAS-VM done"))
        << name << " did not finish. console:\n" << vm.console();
    const std::string console = vm.console();
    for (size_t i = 1; i <= runs; ++i) {
      auto exits = values_in_lines(console, "VTAS-VM run" + std::to_string(i) + " exit", "exit");
      ASSERT_EQ(exits.size(), 1u) << name << " run " << i << " reported no exit status:\n" << console;
      EXPECT_EQ(exits[0], "0") << name << " run " << i << " failed (console below)";
    }
  }

  // Seconds a run took inside the guest.
  static double run_seconds(const std::string& console, int run) {
    const std::string tag = "VTAS-VM run" + std::to_string(run) + " exit";
    auto start = values_in_lines(console, tag, "start");
    auto end = values_in_lines(console, tag, "end");
    if (start.empty() || end.empty()) return 0;
    return std::stod(end[0]) - std::stod(start[0]);
  }

  std::string guest_connect(int port, uint64_t bytes, bool echo) const {
    return "vtas_ll_tool,connect," + net_->peer_ip() + "," + std::to_string(port) + ",--bytes," +
           std::to_string(bytes) + (echo ? ",--echo" : "");
  }

  // One VM of `kind`: an echo and a 4 MiB transfer whose SHA-256 the Linux peer confirms; while
  // the VM's apps run, a host app runs its own echo on the same vtas. `mode` is how the guest
  // proxy names its VFIO mode.
  void expect_echo_and_checked_transfer(VmKind kind, const std::string& name, const std::string& mode) {
    start_peer({"echo-server", std::to_string(kEchoPort), "--count", "1"}, "peer-echo");
    start_peer({"sink-server", std::to_string(kBulkPort), "--count", "1"}, "peer-sink");
    start_peer({"echo-server", std::to_string(kHostEchoPort), "--count", "1"}, "peer-host-echo");
    QemuVm* vm =
        start_vm(name, {guest_connect(kEchoPort, kEchoBytes, true), guest_connect(kBulkPort, kBulkBytes, false)}, kind);
    ASSERT_FALSE(HasFailure());
    wait_proxy_ready(*vm, name);
    ASSERT_FALSE(HasFailure());

    // A host app at the same time as the VM's apps.
    pid_t host_app = spawn_host_app({"connect", net_->peer_ip(), std::to_string(kHostEchoPort), "--bytes",
                                     std::to_string(kBulkBytes), "--echo"},
                                    "host-app");
    expect_vm_passes(*vm, 2, name);
    EXPECT_EQ(wait_pid(host_app, seconds(60)), 0) << "host app: " << read_text(dir_ + "/host-app")
                                                  << read_text(dir_ + "/host-app.err");
    EXPECT_NE(read_text(dir_ + "/host-app").find("echo=ok"), std::string::npos);

    const std::string console = vm->console();
    EXPECT_NE(console.find("through VFIO (" + mode + ")"), std::string::npos) << console;
    EXPECT_NE(console.find("VTAS-VM run1: sent bytes=" + std::to_string(kEchoBytes)), std::string::npos) << console;
    EXPECT_NE(console.find("echo=ok"), std::string::npos) << console;
    expect_transfer_checked(console, 2, "peer-sink", kBulkBytes);
    // The app's own timing (connect to last byte acknowledged, guest clock).
    auto secs = values_in_lines(console, "VTAS-VM run2: summary", "seconds");
    ASSERT_EQ(secs.size(), 1u) << console;
    std::cout << "[ measured ] " << name << ": " << (kBulkBytes >> 20) << " MiB from the VM app to the Linux peer in "
              << secs[0] << " s (guest clock) = "
              << (static_cast<double>(kBulkBytes) / std::stod(secs[0]) / (1 << 20)) << " MiB/s; the whole run took "
              << run_seconds(console, 2) << " s" << std::endl;
  }

  std::unique_ptr<TestNetwork> net_;
  std::unique_ptr<Instance> vtas_;
  std::vector<std::unique_ptr<QemuVm>> vms_;
  std::vector<pid_t> apps_;
  std::string dir_, kernel_, initrd_;
};

// A VM with QEMU's intel-iommu: the guest proxy binds through VFIO type1.
TEST_F(QemuVmTest, AppInVmReachesLinuxPeerThroughHostVtas) {
  expect_echo_and_checked_transfer(VmKind::kType1, "vm1", "type1");
}

// A VM without an IOMMU, with a vfio.ko built with CONFIG_VFIO_NOIOMMU and loaded with
// enable_unsafe_noiommu_mode=1: the guest proxy binds through /dev/vfio/noiommu-<group>.
TEST_F(QemuVmTest, AppInVmWithoutIommuReachesLinuxPeerThroughNoIommuVfio) {
  expect_echo_and_checked_transfer(VmKind::kNoIommu, "vm-noiommu", "no-IOMMU");
}

// Two VMs at once, each with its own region and apps, each transferring to its own Linux peer.
TEST_F(QemuVmTest, TwoVmsAtOnce) {
  constexpr uint64_t kBytes = 1ull << 20;
  start_peer({"sink-server", std::to_string(kBulkPort), "--count", "1"}, "peer-sink-a");
  start_peer({"sink-server", std::to_string(kBulkPort + 10), "--count", "1"}, "peer-sink-b");
  QemuVm* a = start_vm("vm-a", {guest_connect(kBulkPort, kBytes, false)});
  QemuVm* b = start_vm("vm-b", {guest_connect(kBulkPort + 10, kBytes, false)});
  ASSERT_FALSE(HasFailure());
  expect_vm_passes(*a, 1, "vm-a");
  expect_vm_passes(*b, 1, "vm-b");
  expect_transfer_checked(a->console(), 1, "peer-sink-a", kBytes);
  expect_transfer_checked(b->console(), 1, "peer-sink-b", kBytes);
  // Two VMs, two ivshmem peers: each got its own id from the host proxy.
  const std::string id_a = peer_id_of(a->console()), id_b = peer_id_of(b->console());
  EXPECT_FALSE(id_a.empty()) << a->console();
  EXPECT_NE(id_a, id_b);
}

// A VM without an IOMMU (and Debian's vfio.ko, which has no no-IOMMU mode): the guest proxy
// fails with an error that says what is missing and how to fix it.
TEST_F(QemuVmTest, WithoutIommuTheGuestProxyExplainsTheFix) {
  QemuVm* vm = start_vm("vm-noiommu-stock", {}, VmKind::kNoIommuStock);
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(vm->wait_for("VTAS-VM done")) << vm->console() << vm->qemu_stderr();
  const std::string console = vm->console();
  EXPECT_NE(console.find("VTAS-VM proxy failed"), std::string::npos) << console;
  EXPECT_NE(console.find("intel-iommu,intremap=on"), std::string::npos) << console;
  EXPECT_NE(console.find("intel_iommu=on"), std::string::npos) << console;
  EXPECT_NE(console.find("enable_unsafe_noiommu_mode=1"), std::string::npos) << console;
}

}  // namespace
}  // namespace vtas::testing
