// VfioTransport: the guest proxy inside a VM, on the ivshmem PCI device through VFIO. It binds
// the device to vfio-pci, opens its group (type1 first: /dev/vfio/<group> with an emulated
// IOMMU; then no-IOMMU: /dev/vfio/noiommu-<group>), sets Bus Master (without it MSI-X never
// fires), maps BAR0 (the doorbell register: (peer << 16) | vector at offset 12, our id at 8)
// and the channel at the start of BAR2, and routes MSI-X vector 0 to an eventfd. Apps map
// their slices from the VFIO device fd at BAR2's region offset. Guest proxy thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "components/proxy/guest/pci_sysfs.h"
#include "components/proxy/guest/transport.h"
#include "runtime/shm/doorbell.h"

namespace vtas::proxy {

enum class VfioMode { kAuto, kType1, kNoIommu };

struct VfioOptions {
  std::string pci_address;  // "" = find the ivshmem device
  VfioMode mode = VfioMode::kAuto;
  std::string sysfs_root = "/sys";
  std::string dev_vfio = "/dev/vfio";
};

class VfioTransport final : public GuestTransport {
 public:
  static Result<std::unique_ptr<VfioTransport>> open(const VfioOptions& options);
  ~VfioTransport() override;

  uint32_t peer_id() const override { return peer_id_; }
  int region_fd() const override { return device_; }
  uint64_t region_offset() const override { return bar2_offset_; }
  uint64_t region_size() const override { return bar2_size_; }
  void* channel() const override { return channel_; }
  int interrupt_fd() const override { return interrupt_.fd(); }
  void clear_interrupt() override { interrupt_.drain(); }
  Status ring_host(uint32_t host_peer_id, uint32_t vector) override;
  std::string describe() const override;

 private:
  VfioTransport() = default;
  Status write_bar0(uint64_t offset, uint32_t value);
  Result<uint32_t> read_bar0(uint64_t offset);

  std::string address_;
  std::string mode_name_;
  int container_ = -1;
  int group_ = -1;
  int device_ = -1;
  uint64_t bar0_offset_ = 0;
  volatile uint32_t* bar0_ = nullptr;  // mapped registers, or nullptr: pread/pwrite instead
  size_t bar0_map_len_ = 0;
  uint64_t bar2_offset_ = 0;
  uint64_t bar2_size_ = 0;
  void* channel_ = nullptr;
  uint32_t peer_id_ = 0;
  shm::Doorbell interrupt_ = shm::Doorbell::adopt(-1);
};

}  // namespace vtas::proxy
