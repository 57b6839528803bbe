#include "components/proxy/guest/pci_sysfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace vtas::proxy {
namespace {

namespace fs = std::filesystem;

const char kQemuHint[] =
    "start QEMU with -chardev socket,path=<runtime_dir>/ivshmem.sock,id=vtas "
    "-device ivshmem-doorbell,vectors=1,chardev=vtas";
const char kIommuHint[] =
    "either give the VM an IOMMU (QEMU: -machine q35,kernel-irqchip=split -device "
    "intel-iommu,intremap=on; guest kernel command line: intel_iommu=on) or use VFIO's no-IOMMU mode "
    "(modprobe vfio enable_unsafe_noiommu_mode=1; needs a vfio.ko built with CONFIG_VFIO_NOIOMMU, "
    "which Debian's stock kernel lacks)";

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

Status write_text(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open " + path + ": " + std::strerror(errno));
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return make_error("writing '" + text + "' to " + path + " failed: " + std::strerror(err));
  }
  return Status();
}

}  // namespace

Result<std::string> PciSysfs::find_ivshmem(const std::string& wanted) const {
  const std::string dir = root_ + "/bus/pci/devices";
  std::error_code ec;
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string path = entry.path().string();
    if (first_line(path + "/vendor") == kIvshmemVendor && first_line(path + "/device") == kIvshmemDevice) {
      found.push_back(entry.path().filename().string());
    }
  }
  if (ec) return make_error("cannot list " + dir + ": " + ec.message() + " (is sysfs mounted? mount -t sysfs sysfs /sys)");
  std::sort(found.begin(), found.end());
  if (!wanted.empty()) {
    if (std::find(found.begin(), found.end(), wanted) != found.end()) return wanted;
    return make_error("PCI device " + wanted + " is not an ivshmem device (1af4:1110); found " +
                      std::to_string(found.size()) + " ivshmem device(s)" +
                      (found.empty() ? std::string(": ") + kQemuHint : ": " + found.front()));
  }
  if (found.empty()) {
    return make_error("no ivshmem device (PCI 1af4:1110) in " + dir + ": this VM has no vtas device; " +
                      kQemuHint);
  }
  return found.front();
}

std::string PciSysfs::driver(const std::string& address) const {
  std::error_code ec;
  fs::path link = fs::read_symlink(device_dir(address) + "/driver", ec);
  return ec ? "" : link.filename().string();
}

Status PciSysfs::bind_vfio_pci(const std::string& address) const {
  std::string current = driver(address);
  if (current == "vfio-pci") return Status();
  if (!fs::exists(root_ + "/bus/pci/drivers/vfio-pci")) {
    return make_error("the vfio-pci driver is not loaded: modprobe vfio-pci (Debian modules: vfio, "
                      "vfio_iommu_type1, vfio-pci-core, vfio-pci, irqbypass)");
  }
  if (Status s = write_text(device_dir(address) + "/driver_override", "vfio-pci"); !s) return s;
  if (!current.empty()) {
    if (Status s = write_text(device_dir(address) + "/driver/unbind", address); !s) return s;
  }
  // drivers_probe fails with EINVAL when vfio-pci refuses the device (no IOMMU group);
  // the check below gives the better message.
  (void)write_text(root_ + "/bus/pci/drivers_probe", address);
  if (driver(address) != "vfio-pci") {
    auto group = iommu_group(address);
    return make_error("binding " + address + " to vfio-pci failed" +
                      (group ? std::string(" (see dmesg)") : ": " + group.error().message));
  }
  return Status();
}

Result<std::string> PciSysfs::iommu_group(const std::string& address) const {
  std::error_code ec;
  fs::path link = fs::read_symlink(device_dir(address) + "/iommu_group", ec);
  if (ec) return make_error("PCI device " + address + " has no IOMMU group: " + kIommuHint);
  return link.filename().string();
}

}  // namespace vtas::proxy
