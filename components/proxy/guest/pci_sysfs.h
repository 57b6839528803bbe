// PciSysfs: finding the ivshmem PCI device (1af4:1110) in sysfs and binding it to vfio-pci, for
// the guest proxy's VFIO transport. The sysfs root is a parameter so tests can point it at a
// fake tree. Every error says what is missing and the command that fixes it.
#pragma once

#include <string>

#include "runtime/result.h"

namespace vtas::proxy {

inline constexpr char kIvshmemVendor[] = "0x1af4";
inline constexpr char kIvshmemDevice[] = "0x1110";

class PciSysfs {
 public:
  explicit PciSysfs(std::string root = "/sys") : root_(std::move(root)) {}

  // The PCI address ("0000:00:03.0") of the ivshmem device: `wanted` if given (it must be one),
  // else the only one, else the first in address order.
  Result<std::string> find_ivshmem(const std::string& wanted = "") const;
  // Binds `address` to vfio-pci (driver_override + drivers_probe), unbinding another driver
  // first. A no-op when it is bound to vfio-pci already.
  Status bind_vfio_pci(const std::string& address) const;
  // The device's IOMMU group number ("3"), or an error saying how to get one.
  Result<std::string> iommu_group(const std::string& address) const;
  // The driver bound to `address` ("" when none).
  std::string driver(const std::string& address) const;

 private:
  std::string device_dir(const std::string& address) const {
    return root_ + "/bus/pci/devices/" + address;
  }
  std::string root_;
};

}  // namespace vtas::proxy
