// Port: the seam between the fast path and the NIC. The data loop only ever sees this small
// interface, so DPDK stays behind one implementation (DpdkPort, linked privately) and unit
// tests and benchmarks drive the same loop with an in-memory MemoryPort.
//
// Packets are described by `Packet` handles filled per burst. A port owns the buffers; the
// loop gets them from rx_burst/alloc_burst and gives every one back through tx_burst (sent,
// or still owned by the caller when not accepted) or free_burst.
#pragma once

#include <cstdint>
#include <string>

#include "components/fastpath/group_steering.h"
#include "components/wire/address.h"

namespace vtas::fastpath {

// Packet::flags bits.
enum PacketFlags : uint32_t {
  kPacketRssValid = 1u << 0,        // rss_hash holds the NIC's RSS hash
  kPacketIpChecksumGood = 1u << 1,  // the NIC verified the IPv4 header checksum
  kPacketL4ChecksumGood = 1u << 2,  // the NIC verified the TCP checksum
  kPacketChecksumBad = 1u << 3,     // the NIC found a bad checksum
  kPacketTxChecksumOffload = 1u << 8,  // TX: NIC computes IPv4 + TCP checksums (pseudo-header
                                       // sum already in the TCP checksum field)
};

struct Packet {
  uint8_t* data = nullptr;  // first byte of the Ethernet frame
  uint16_t length = 0;      // frame length
  uint16_t capacity = 0;    // bytes writable from data (for building frames in place)
  uint32_t flags = 0;
  uint32_t rss_hash = 0;
  void* native = nullptr;   // the port's own buffer (rte_mbuf*), opaque to the loop
};

struct PortCapabilities {
  bool tx_checksum_offload = false;
  bool rx_checksum_offload = false;
  bool rss = false;
  uint16_t reta_size = 0;      // RSS redirection table entries (0: none; see group_steering.h)
  uint16_t queues = 1;         // RX/TX queue pairs configured (one per fast-path core)
};

// What the device itself counted (DPDK ethdev stats): frames it dropped before we saw them
// are the first thing to look at when TCP retransmits on a clean link.
struct PortStats {
  uint64_t rx_packets = 0, tx_packets = 0;
  uint64_t rx_missed = 0;    // dropped by the device: no room in the RX ring (we polled too late)
  uint64_t rx_errors = 0, tx_errors = 0;
  uint64_t rx_no_buffer = 0; // no mbuf to receive into
  uint64_t rx_kernel_drops = 0;  // net_af_packet: dropped by the kernel, its ring was full
};

class Port {
 public:
  virtual ~Port() = default;
  virtual const std::string& name() const = 0;
  virtual wire::MacAddr mac() const = 0;
  virtual const PortCapabilities& capabilities() const = 0;

  virtual uint16_t rx_burst(uint16_t queue, Packet* out, uint16_t max) = 0;
  // Sends the first n packets as far as the NIC accepts them and returns how many it took;
  // the rest stay with the caller (retry later or free).
  virtual uint16_t tx_burst(uint16_t queue, Packet* packets, uint16_t n) = 0;
  // Fresh buffers for frames the loop builds (data segments, slow-path frames).
  virtual uint16_t alloc_burst(uint16_t queue, Packet* out, uint16_t n) = 0;
  virtual void free_burst(Packet* packets, uint16_t n) = 0;

  // An fd that becomes readable when `queue` has packets, after enable_rx_wakeup(queue, true);
  // -1 when the device cannot wake a sleeping core (the core then naps briefly instead).
  virtual int rx_wakeup_fd(uint16_t queue) = 0;
  virtual void enable_rx_wakeup(uint16_t queue, bool on) = 0;

  // Points the whole RSS redirection table at the cores of `group_cores` (the steering table,
  // from spread_groups) in one device call, at start and on every scale event. False when the
  // device has no usable table or refused it: frames then reach their owner by software
  // steering (decision 15), so nothing is lost either way.
  virtual bool program_reta(const GroupCores& group_cores) = 0;
  virtual PortStats stats() const { return PortStats{}; }
  // Called once on each fast-path core's thread before it polls (DPDK: registers the thread as
  // an lcore so mempool caches work).
  virtual void thread_init() {}
};

}  // namespace vtas::fastpath
