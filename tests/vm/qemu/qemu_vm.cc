#include "tests/vm/qemu/qemu_vm.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "tests/integration/instance.h"

namespace vtas::testing {
namespace {

// qboot: a minimal firmware that boots -kernel sooner than SeaBIOS, used when installed.
constexpr char kQboot[] = "/usr/share/qemu/qboot.rom";

}  // namespace

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

QemuVm::QemuVm(std::string console_path) : console_(std::move(console_path)) {}

QemuVm::~QemuVm() { kill(); }

bool QemuVm::start(const QemuVmOptions& options) {
  // no_timer_check: under emulation the kernel's IO-APIC timer check can fail and panic
  // ("timer doesn't work through Interrupt-remapped IO-APIC"). VTAS_DEBUG=1 reaches the apps'
  // environment (the kernel hands unknown name=value words to init): libvtas explains errors.
  const std::string append =
      "console=ttyS0 quiet panic=-1 intel_iommu=on no_timer_check VTAS_DEBUG=1 " + options.init_params;
  std::vector<std::string> argv{"qemu-system-x86_64", "-accel", "tcg"};
  if (std::filesystem::exists(kQboot)) argv.insert(argv.end(), {"-bios", kQboot});
  if (options.iommu) {
    // What VFIO type1 needs in the guest with Debian's stock modules.
    argv.insert(argv.end(), {"-machine", "q35,kernel-irqchip=split", "-device", "intel-iommu,intremap=on"});
  } else {
    argv.insert(argv.end(), {"-machine", "q35"});
  }
  argv.insert(argv.end(), {"-m", "384", "-smp", "1", "-nodefaults", "-no-user-config", "-nic", "none",
                           "-display", "none", "-monitor", "none", "-serial", "file:" + console_,
                           "-no-reboot", "-kernel", options.kernel, "-initrd", options.initrd,
                           "-append", append, "-chardev", "socket,path=" + options.ivshmem_socket + ",id=vtas",
                           "-device", "ivshmem-doorbell,vectors=1,chardev=vtas"});
  deadline_ = options.deadline;
  started_ = std::chrono::steady_clock::now();
  pid_ = ::fork();
  if (pid_ == 0) {
    // The deadline bounds QEMU while the test runs; if the test itself dies, QEMU goes too.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = ::open("/dev/null", O_RDWR);
    int err = ::open((console_ + ".qemu-stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid_ > 0;
}

bool QemuVm::wait_for(const std::string& needle) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(started_ + deadline_ -
                                                                    std::chrono::steady_clock::now());
  if (left.count() < 0) left = std::chrono::milliseconds(0);
  auto seen = [&] { return console().find(needle) != std::string::npos; };
  eventually([&] { return seen() || exited(); }, left);
  return seen();
}

std::string QemuVm::console() const { return read_text(console_); }

std::string QemuVm::qemu_stderr() const { return read_text(console_ + ".qemu-stderr"); }

double QemuVm::seconds_since_start() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

bool QemuVm::exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return true;
  }
  return false;
}

void QemuVm::kill() {
  if (pid_ > 0 && ::kill(pid_, SIGKILL) == 0) ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace vtas::testing
