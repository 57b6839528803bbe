// The packet sockets behind DPDK's net_af_packet, which the driver does not expose: found in
// /proc/self/fd by their interface.
//
// - A sleeping core waits on them: the driver has no RX interrupts, but each queue's socket
//   (its PACKET_MMAP ring) is pollable.
// - KernelRingDrops: when the fast path is late, the kernel drops what does not fit a ring and
//   counts it in the socket's PACKET_STATISTICS, which this DPDK version never reads (its
//   imissed stays 0). Such losses looked like the peer retransmitting out of nowhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vtas::fastpath {

// The interface of an af_packet device string ("net_af_packet0,iface=vtas0,qpairs=1" ->
// "vtas0"); empty for other devices.
std::string af_packet_interface(const std::string& device);

// This process's packet sockets bound to `interface` (by index), in fd order; none for an
// unknown interface. The driver owns them; they stay valid while its port is open.
std::vector<int> af_packet_sockets(const std::string& interface);

// Frames the kernel dropped on those sockets. It resets its counters on every read, so the
// total is kept here. Control thread only.
class KernelRingDrops {
 public:
  KernelRingDrops() = default;
  explicit KernelRingDrops(std::vector<int> sockets) : fds_(std::move(sockets)) {}

  size_t sockets() const { return fds_.size(); }
  // Drops so far, over all the sockets.
  uint64_t total();

 private:
  std::vector<int> fds_;
  uint64_t total_ = 0;
};

}  // namespace vtas::fastpath
