#include "components/proxy/guest/vfio_transport.h"

#include <fcntl.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "components/fastpath/abi/attach_protocol.h"

namespace vtas::proxy {
namespace {

// ivshmem BAR0 registers (QEMU docs/specs/ivshmem-spec.rst).
constexpr uint64_t kIvPositionRegister = 8;
constexpr uint64_t kDoorbellRegister = 12;
constexpr size_t kPage = 4096;

std::string errno_text() { return std::strerror(errno); }

Result<vfio_region_info> region_info(int device, uint32_t index, const char* what) {
  vfio_region_info info{};
  info.argsz = sizeof(info);
  info.index = index;
  if (::ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &info) != 0) {
    return make_error(std::string("VFIO_DEVICE_GET_REGION_INFO (") + what + "): " + errno_text());
  }
  return info;
}

}  // namespace

Result<std::unique_ptr<VfioTransport>> VfioTransport::open(const VfioOptions& options) {
  std::unique_ptr<VfioTransport> t(new VfioTransport());
  PciSysfs sysfs(options.sysfs_root);
  auto address = sysfs.find_ivshmem(options.pci_address);
  if (!address) return address.error();
  t->address_ = *address;
  if (Status s = sysfs.bind_vfio_pci(t->address_); !s) return s.error();

  // The group: type1 (an IOMMU, emulated or real) first, then no-IOMMU.
  std::string group_number;
  if (auto g = sysfs.iommu_group(t->address_)) group_number = *g;
  else return g.error();
  std::vector<std::pair<std::string, int>> candidates;
  if (options.mode != VfioMode::kNoIommu) {
    candidates.emplace_back(options.dev_vfio + "/" + group_number, VFIO_TYPE1_IOMMU);
  }
  if (options.mode != VfioMode::kType1) {
    candidates.emplace_back(options.dev_vfio + "/noiommu-" + group_number, VFIO_NOIOMMU_IOMMU);
  }
  int iommu_type = 0;
  std::string tried;
  for (const auto& [path, type] : candidates) {
    t->group_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (t->group_ >= 0) {
      iommu_type = type;
      t->mode_name_ = type == VFIO_TYPE1_IOMMU ? "type1" : "no-IOMMU";
      break;
    }
    tried += (tried.empty() ? "" : ", ") + path + " (" + errno_text() + ")";
  }
  if (t->group_ < 0) {
    return make_error("no VFIO group for " + t->address_ + ": tried " + tried +
                      ". For type1 the VM needs an IOMMU (QEMU: -machine q35,kernel-irqchip=split -device "
                      "intel-iommu,intremap=on; kernel: intel_iommu=on; modprobe vfio_iommu_type1); for "
                      "no-IOMMU: modprobe vfio enable_unsafe_noiommu_mode=1 (vfio.ko with CONFIG_VFIO_NOIOMMU)");
  }
  const std::string container_path = options.dev_vfio + "/vfio";
  t->container_ = ::open(container_path.c_str(), O_RDWR | O_CLOEXEC);
  if (t->container_ < 0) {
    return make_error("cannot open " + container_path + ": " + errno_text() + " (modprobe vfio)");
  }
  if (::ioctl(t->container_, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
    return make_error("VFIO API version mismatch (want " + std::to_string(VFIO_API_VERSION) + ")");
  }
  if (::ioctl(t->container_, VFIO_CHECK_EXTENSION, iommu_type) <= 0) {
    return make_error(std::string("this kernel's VFIO lacks the ") + t->mode_name_ + " IOMMU backend: " +
                      (iommu_type == VFIO_TYPE1_IOMMU ? "modprobe vfio_iommu_type1"
                                                      : "modprobe vfio enable_unsafe_noiommu_mode=1"));
  }
  vfio_group_status status{};
  status.argsz = sizeof(status);
  if (::ioctl(t->group_, VFIO_GROUP_GET_STATUS, &status) != 0) {
    return make_error("VFIO_GROUP_GET_STATUS: " + errno_text());
  }
  if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
    return make_error("VFIO group " + group_number +
                      " is not viable: bind every device of the group to vfio-pci (ls /sys/kernel/iommu_groups/" +
                      group_number + "/devices)");
  }
  if (::ioctl(t->group_, VFIO_GROUP_SET_CONTAINER, &t->container_) != 0) {
    return make_error("VFIO_GROUP_SET_CONTAINER: " + errno_text());
  }
  if (::ioctl(t->container_, VFIO_SET_IOMMU, iommu_type) != 0) {
    return make_error("VFIO_SET_IOMMU (" + t->mode_name_ + "): " + errno_text());
  }
  t->device_ = ::ioctl(t->group_, VFIO_GROUP_GET_DEVICE_FD, t->address_.c_str());
  if (t->device_ < 0) return make_error("VFIO_GROUP_GET_DEVICE_FD " + t->address_ + ": " + errno_text());

  auto config = region_info(t->device_, VFIO_PCI_CONFIG_REGION_INDEX, "config space");
  auto bar0 = region_info(t->device_, VFIO_PCI_BAR0_REGION_INDEX, "BAR0");
  auto bar2 = region_info(t->device_, VFIO_PCI_BAR2_REGION_INDEX, "BAR2");
  if (!config) return config.error();
  if (!bar0) return bar0.error();
  if (!bar2) return bar2.error();
  if (bar0->size < kDoorbellRegister + 4) return make_error("ivshmem BAR0 is too small for its registers");
  if (bar2->size < abi::kVmChannelBytes || !(bar2->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
    return make_error("ivshmem BAR2 (" + std::to_string(bar2->size) +
                      " bytes) cannot be mapped: is the device ivshmem-doorbell with vtas's region?");
  }
  t->bar0_offset_ = bar0->offset;
  t->bar2_offset_ = bar2->offset;
  t->bar2_size_ = bar2->size;

  // Bus Master and Memory Space: vfio-pci leaves Bus Master off, and without it the device's
  // MSI-X messages (the host's interrupts) never arrive.
  uint16_t command = 0;
  if (::pread(t->device_, &command, sizeof(command), static_cast<off_t>(config->offset + PCI_COMMAND)) !=
      sizeof(command)) {
    return make_error("reading PCI_COMMAND: " + errno_text());
  }
  command |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
  if (::pwrite(t->device_, &command, sizeof(command), static_cast<off_t>(config->offset + PCI_COMMAND)) !=
      sizeof(command)) {
    return make_error("setting Bus Master in PCI_COMMAND: " + errno_text());
  }

  if (bar0->flags & VFIO_REGION_INFO_FLAG_MMAP) {
    void* p = ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, t->device_, static_cast<off_t>(bar0->offset));
    if (p != MAP_FAILED) {
      t->bar0_ = static_cast<volatile uint32_t*>(p);
      t->bar0_map_len_ = kPage;
    }
  }
  auto position = t->read_bar0(kIvPositionRegister);
  if (!position) return position.error();
  t->peer_id_ = *position;

  void* channel = ::mmap(nullptr, abi::kVmChannelBytes, PROT_READ | PROT_WRITE, MAP_SHARED, t->device_,
                         static_cast<off_t>(bar2->offset));
  if (channel == MAP_FAILED) return make_error("mapping BAR2 of " + t->address_ + ": " + errno_text());
  t->channel_ = channel;

  vfio_irq_info irq{};
  irq.argsz = sizeof(irq);
  irq.index = VFIO_PCI_MSIX_IRQ_INDEX;
  if (::ioctl(t->device_, VFIO_DEVICE_GET_IRQ_INFO, &irq) != 0 || irq.count < 1) {
    return make_error("the ivshmem device has no MSI-X vector: start QEMU with -device "
                      "ivshmem-doorbell,vectors=1,chardev=... (not ivshmem-plain)");
  }
  auto interrupt = shm::Doorbell::create();
  if (!interrupt) return interrupt.error();
  t->interrupt_ = std::move(*interrupt);
  alignas(vfio_irq_set) char buf[sizeof(vfio_irq_set) + sizeof(int32_t)];
  auto* set = reinterpret_cast<vfio_irq_set*>(buf);
  set->argsz = sizeof(buf);
  set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
  set->index = VFIO_PCI_MSIX_IRQ_INDEX;
  set->start = 0;
  set->count = 1;
  int32_t efd = t->interrupt_.fd();
  std::memcpy(set->data, &efd, sizeof(efd));
  if (::ioctl(t->device_, VFIO_DEVICE_SET_IRQS, set) != 0) {
    return make_error("routing MSI-X vector 0 to an eventfd (VFIO_DEVICE_SET_IRQS): " + errno_text());
  }
  return t;
}

VfioTransport::~VfioTransport() {
  if (channel_ != nullptr) ::munmap(channel_, abi::kVmChannelBytes);
  if (bar0_ != nullptr) ::munmap(const_cast<uint32_t*>(bar0_), bar0_map_len_);
  if (device_ >= 0) ::close(device_);
  if (group_ >= 0) ::close(group_);
  if (container_ >= 0) ::close(container_);
}

Status VfioTransport::write_bar0(uint64_t offset, uint32_t value) {
  if (bar0_ != nullptr) {
    bar0_[offset / 4] = value;
    return Status();
  }
  if (::pwrite(device_, &value, sizeof(value), static_cast<off_t>(bar0_offset_ + offset)) != sizeof(value)) {
    return make_error("writing ivshmem register " + std::to_string(offset) + ": " + errno_text());
  }
  return Status();
}

Result<uint32_t> VfioTransport::read_bar0(uint64_t offset) {
  if (bar0_ != nullptr) return static_cast<uint32_t>(bar0_[offset / 4]);
  uint32_t value = 0;
  if (::pread(device_, &value, sizeof(value), static_cast<off_t>(bar0_offset_ + offset)) != sizeof(value)) {
    return make_error("reading ivshmem register " + std::to_string(offset) + ": " + errno_text());
  }
  return value;
}

Status VfioTransport::ring_host(uint32_t host_peer_id, uint32_t vector) {
  return write_bar0(kDoorbellRegister, (host_peer_id << 16) | (vector & 0xffff));
}

std::string VfioTransport::describe() const {
  return "ivshmem device " + address_ + " through VFIO (" + mode_name_ + "), peer id " + std::to_string(peer_id_) +
         ", " + std::to_string(bar2_size_ >> 20) + " MiB region";
}

}  // namespace vtas::proxy
