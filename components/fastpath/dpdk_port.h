// DpdkPort: the Port on a DPDK ethdev (a NIC by PCI address, or a virtual device such as
// net_af_packet on a veth for the embedded default). The only file that includes DPDK headers
// besides dpdk_eal.cc; the rest of the fast path sees Port.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "components/fastpath/af_packet_sockets.h"
#include "components/fastpath/port.h"
#include "runtime/result.h"

struct rte_mempool;

namespace vtas::fastpath {

struct DpdkPortConfig {
  std::string device;              // "net_af_packet0,iface=vtas0" or "0000:03:00.0"
  uint16_t queues = 1;             // one RX/TX queue pair per fast-path core (if the device has them)
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  uint32_t mbufs_per_queue = 4096;
  bool tx_checksum_offload = true; // use it if the device has it (TAS --fp-no-xsumoffload)
  bool vlan_strip = false;         // TAS --fp-vlan-strip
  bool rx_interrupts = true;       // sleep/wake; TAS --fp-no-ints turns it off
};

// Initialises the DPDK EAL once per process with `args` (argv[0] included).
Status init_dpdk_eal(const std::vector<std::string>& args);
// Releases what the EAL holds (at fast path exit).
void cleanup_dpdk_eal();

// TAS --kni-name with what replaced KNI in DPDK: the exception-path device net_tap, as the
// Linux interface `name` carrying `mac` (the NIC's, so the kernel's frames look like ours).
// One RX/TX queue; its rx_wakeup_fd(0) turns readable when the kernel sent a frame. Call after
// init_dpdk_eal; needs /dev/net/tun and CAP_NET_ADMIN. The interface goes with the port.
class DpdkPort;
Result<std::unique_ptr<DpdkPort>> open_kernel_interface(const std::string& name, wire::MacAddr mac);

class DpdkPort final : public Port {
 public:
  static Result<std::unique_ptr<DpdkPort>> open(const DpdkPortConfig& config);
  ~DpdkPort() override;

  const std::string& name() const override { return name_; }
  wire::MacAddr mac() const override { return mac_; }
  const PortCapabilities& capabilities() const override { return caps_; }
  uint16_t rx_burst(uint16_t queue, Packet* out, uint16_t max) override;
  uint16_t tx_burst(uint16_t queue, Packet* packets, uint16_t n) override;
  uint16_t alloc_burst(uint16_t queue, Packet* out, uint16_t n) override;
  void free_burst(Packet* packets, uint16_t n) override;
  int rx_wakeup_fd(uint16_t queue) override;
  void enable_rx_wakeup(uint16_t queue, bool on) override;
  bool program_reta(const GroupCores& group_cores) override;
  PortStats stats() const override;
  void thread_init() override;

 private:
  DpdkPort() = default;
  uint16_t port_id_ = 0;
  std::string name_;
  wire::MacAddr mac_;
  PortCapabilities caps_;
  std::vector<rte_mempool*> pools_;   // one per queue (per core)
  std::vector<int> wakeup_fds_;       // per queue: interrupt fd, af_packet socket, or -1
  bool interrupt_wakeup_ = false;     // wakeup_fds_ are ethdev interrupt fds
  mutable KernelRingDrops kernel_drops_;  // net_af_packet: the kernel's ring drops (stats())
};

}  // namespace vtas::fastpath
