// GuestTransport: how the guest proxy reaches the VM region and the host's doorbells. Two
// implementations, one interface, so everything above (GuestProxy) is the same code:
//   VfioTransport    inside a VM: the ivshmem PCI device through VFIO (BAR0 doorbell
//                    register, BAR2 region, MSI-X vector 0 as an eventfd);
//   ClientTransport  on a machine without a VM: an ivshmem client of the host proxy's socket
//                    (the region memfd and the eventfds come straight from the host proxy).
// Guest proxy thread only.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/result.h"

namespace vtas::proxy {

class GuestTransport {
 public:
  virtual ~GuestTransport() = default;

  // This VM's ivshmem peer id.
  virtual uint32_t peer_id() const = 0;
  // The fd apps map their slice from, and where the VM region starts in it (0 for a memfd;
  // VFIO's BAR2 region offset for the device fd). Apps map region_offset() + slice offset.
  virtual int region_fd() const = 0;
  virtual uint64_t region_offset() const = 0;
  virtual uint64_t region_size() const = 0;
  // The mapped channel: the first kVmChannelBytes of the region.
  virtual void* channel() const = 0;
  // Readable when the host interrupted us; clear_interrupt() before looking at the channel.
  virtual int interrupt_fd() const = 0;
  virtual void clear_interrupt() = 0;
  // Rings the host peer's doorbell `vector`.
  virtual Status ring_host(uint32_t host_peer_id, uint32_t vector) = 0;
  // Readable when the host side is gone for good (client transport: the socket closed); -1
  // when the transport cannot tell (a VM dies with its host connection).
  virtual int hangup_fd() const { return -1; }
  // One line for logs: which device or socket, which mode.
  virtual std::string describe() const = 0;
};

}  // namespace vtas::proxy
