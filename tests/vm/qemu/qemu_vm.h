// QemuVm: one test VM under QEMU's software emulation (-accel tcg always: KVM hangs on these
// machines), booting the guest scripts/vm/build_guest.sh builds, attached to a vtas host
// proxy's ivshmem socket (-device ivshmem-doorbell), with its serial console in a file. The
// guest's /init (guest_init.sh) reports there as "VTAS-VM ..." lines. For tests/vm/qemu only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

namespace vtas::testing {

struct QemuVmOptions {
  std::string kernel;          // vmlinuz
  std::string initrd;          // initrd.cpio.gz
  std::string ivshmem_socket;  // the host proxy's <runtime_dir>/ivshmem.sock
  std::string init_params;     // name=value words for /init (vt_run1=..., vt_proxy_args=...)
  bool iommu = true;           // QEMU's intel-iommu (VFIO type1 in the guest) or none
  std::chrono::seconds deadline{150};  // every wait ends this long after start()
};

class QemuVm {
 public:
  explicit QemuVm(std::string console_path);
  ~QemuVm();  // kills QEMU (by PID) if it still runs
  QemuVm(const QemuVm&) = delete;
  QemuVm& operator=(const QemuVm&) = delete;

  // Starts QEMU; false if it could not be forked.
  bool start(const QemuVmOptions& options);
  // Waits for `needle` on the console until the deadline (so waits in a row, and VMs in
  // parallel, share one bound); false when it did not come or QEMU exited without it.
  bool wait_for(const std::string& needle);

  std::string console() const;
  std::string qemu_stderr() const;
  double seconds_since_start() const;
  bool exited();
  void kill();

 private:
  std::string console_;
  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point started_;
  std::chrono::seconds deadline_{0};
};

// The whole text of a file ("" when it does not exist).
std::string read_text(const std::string& path);

}  // namespace vtas::testing
