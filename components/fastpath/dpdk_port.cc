#include "components/fastpath/dpdk_port.h"

#include <net/if.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vtas::fastpath {
namespace {

constexpr uint16_t kMbufCache = 256;

Error errno_status(const std::string& what, int rc) {
  return make_error(what + ": " + ::rte_strerror(-rc));
}

}  // namespace

Status init_dpdk_eal(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::vector<std::string> copy = args;  // rte_eal_init may permute argv
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = ::rte_eal_init(static_cast<int>(argv.size() - 1), argv.data());
  if (rc < 0) {
    std::string joined;
    for (const auto& a : args) joined += " " + a;
    return make_error("DPDK EAL initialisation failed (" + std::string(::rte_strerror(rte_errno)) +
                      ") with arguments:" + joined);
  }
  return Status();
}

void cleanup_dpdk_eal() { ::rte_eal_cleanup(); }

Result<std::unique_ptr<DpdkPort>> DpdkPort::open(const DpdkPortConfig& config) {
  std::unique_ptr<DpdkPort> port(new DpdkPort());
  std::string dev_name = config.device.substr(0, config.device.find(','));
  uint16_t port_id = 0;
  if (::rte_eth_dev_get_port_by_name(dev_name.c_str(), &port_id) != 0) {
    if (::rte_eth_dev_count_avail() == 0) {
      return make_error("no DPDK port '" + dev_name +
                        "' (the EAL found no device; check --device / the EAL arguments)");
    }
    uint16_t id = 0;
    RTE_ETH_FOREACH_DEV(id) {
      port_id = id;
      break;
    }
  }
  port->port_id_ = port_id;
  port->name_ = dev_name;
  rte_eth_dev_info info{};
  if (int rc = ::rte_eth_dev_info_get(port_id, &info); rc != 0) return errno_status("rte_eth_dev_info_get", rc);

  uint16_t queues = std::min({config.queues, static_cast<uint16_t>(info.max_rx_queues),
                              static_cast<uint16_t>(info.max_tx_queues)});
  if (queues == 0) queues = 1;
  PortCapabilities& caps = port->caps_;
  caps.queues = queues;
  const uint64_t cksum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  caps.tx_checksum_offload = config.tx_checksum_offload && (info.tx_offload_capa & cksum) == cksum;
  const uint64_t rx_cksum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
  caps.rx_checksum_offload = (info.rx_offload_capa & rx_cksum) == rx_cksum;
  caps.rss = queues > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP);
  caps.reta_size = caps.rss ? info.reta_size : 0;

  rte_eth_conf conf{};
  if (caps.rss) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP;
  }
  if (caps.tx_checksum_offload) conf.txmode.offloads |= cksum;
  if (caps.rx_checksum_offload) conf.rxmode.offloads |= rx_cksum;
  if (config.vlan_strip && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP)) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
  }
  conf.intr_conf.rxq = config.rx_interrupts ? 1 : 0;
  int rc = ::rte_eth_dev_configure(port_id, queues, queues, &conf);
  if (rc != 0 && conf.intr_conf.rxq) {
    conf.intr_conf.rxq = 0;  // the device cannot interrupt: we find another way to sleep
    rc = ::rte_eth_dev_configure(port_id, queues, queues, &conf);
  }
  if (rc != 0) return errno_status("rte_eth_dev_configure " + dev_name, rc);

  uint16_t rxd = config.rx_descriptors, txd = config.tx_descriptors;
  ::rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
  for (uint16_t q = 0; q < queues; ++q) {
    std::string pool_name = "vtas_rx" + std::to_string(port_id) + "_" + std::to_string(q);
    rte_mempool* pool = ::rte_pktmbuf_pool_create(pool_name.c_str(), config.mbufs_per_queue, kMbufCache,
                                                  0, RTE_MBUF_DEFAULT_BUF_SIZE, ::rte_socket_id());
    if (!pool) {
      return make_error("cannot create mbuf pool " + pool_name + " (" +
                        std::string(::rte_strerror(rte_errno)) +
                        "): too little DPDK memory? raise -m or hugepages");
    }
    port->pools_.push_back(pool);
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    if ((rc = ::rte_eth_rx_queue_setup(port_id, q, rxd, ::rte_eth_dev_socket_id(port_id), &rxconf, pool)) != 0) {
      return errno_status("rte_eth_rx_queue_setup", rc);
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    if ((rc = ::rte_eth_tx_queue_setup(port_id, q, txd, ::rte_eth_dev_socket_id(port_id), &txconf)) != 0) {
      return errno_status("rte_eth_tx_queue_setup", rc);
    }
  }
  if ((rc = ::rte_eth_dev_start(port_id)) != 0) return errno_status("rte_eth_dev_start " + dev_name, rc);

  rte_ether_addr addr{};
  ::rte_eth_macaddr_get(port_id, &addr);
  port->mac_ = wire::MacAddr::from_bytes(addr.addr_bytes);

  // net_af_packet's sockets (none for other devices): where its cores can sleep without RX
  // interrupts, and where the kernel counts the frames it dropped.
  const std::vector<int> packet_sockets = af_packet_sockets(af_packet_interface(config.device));
  port->kernel_drops_ = KernelRingDrops(packet_sockets);
  port->wakeup_fds_.assign(queues, -1);
  if (config.rx_interrupts) {
    bool interrupts = true;
    for (uint16_t q = 0; q < queues; ++q) {
      if (::rte_eth_dev_rx_intr_enable(port_id, q) != 0) {
        interrupts = false;
        break;
      }
      ::rte_eth_dev_rx_intr_disable(port_id, q);
      port->wakeup_fds_[q] = ::rte_eth_dev_rx_intr_ctl_q_get_fd(port_id, q);
    }
    port->interrupt_wakeup_ = interrupts;
    if (!interrupts) {
      port->wakeup_fds_.assign(queues, -1);
      if (packet_sockets.size() == queues) port->wakeup_fds_ = packet_sockets;
    }
  }
  return port;
}

Result<std::unique_ptr<DpdkPort>> open_kernel_interface(const std::string& name, wire::MacAddr mac) {
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
    return make_error("--kni-name=" + name + ": /dev/net/tun is not usable (" + std::strerror(errno) +
                      "); the kernel interface needs the tun driver and CAP_NET_ADMIN");
  }
  if (::if_nametoindex(name.c_str()) != 0) {
    return make_error("--kni-name=" + name + ": an interface with that name exists already; pick another name");
  }
  // net_tap's devargs: the kernel side's name and MAC. The vdev's own name only has to be
  // unique in this process (one fast path per process).
  const std::string devargs = "net_tap_kni,iface=" + name + ",mac=" + wire::to_string(mac);
  if (int rc = ::rte_dev_probe(devargs.c_str()); rc != 0) {
    return make_error("--kni-name=" + name + ": cannot create DPDK's tap device (" + devargs +
                      "): " + ::rte_strerror(-rc));
  }
  DpdkPortConfig config;
  config.device = devargs;
  config.queues = 1;
  config.rx_descriptors = 512;
  config.tx_descriptors = 512;
  config.mbufs_per_queue = 2048;
  config.tx_checksum_offload = false;  // the kernel gets complete frames
  config.rx_interrupts = true;         // the tap's queue fd wakes the control thread
  auto port = DpdkPort::open(config);
  if (!port) {
    ::rte_eal_hotplug_remove("vdev", "net_tap_kni");
    return make_error("--kni-name=" + name + ": " + port.error().message);
  }
  return port;
}

DpdkPort::~DpdkPort() {
  ::rte_eth_dev_stop(port_id_);
  ::rte_eth_dev_close(port_id_);
  for (rte_mempool* pool : pools_) ::rte_mempool_free(pool);
}

uint16_t DpdkPort::rx_burst(uint16_t queue, Packet* out, uint16_t max) {
  rte_mbuf* mbufs[64];
  if (max > 64) max = 64;
  uint16_t n = ::rte_eth_rx_burst(port_id_, queue, mbufs, max);
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = mbufs[i];
    Packet& p = out[i];
    p.native = m;
    p.data = rte_pktmbuf_mtod(m, uint8_t*);
    p.length = rte_pktmbuf_data_len(m);
    p.capacity = static_cast<uint16_t>(m->buf_len - m->data_off);
    p.flags = 0;
    if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) {
      p.flags |= kPacketRssValid;
      p.rss_hash = m->hash.rss;
    }
    uint64_t ip = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    if (ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD) p.flags |= kPacketIpChecksumGood;
    if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD) p.flags |= kPacketL4ChecksumGood;
    if (ip == RTE_MBUF_F_RX_IP_CKSUM_BAD || l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD) p.flags |= kPacketChecksumBad;
  }
  return n;
}

uint16_t DpdkPort::tx_burst(uint16_t queue, Packet* packets, uint16_t n) {
  rte_mbuf* mbufs[64];
  if (n > 64) n = 64;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = static_cast<rte_mbuf*>(packets[i].native);
    m->data_len = packets[i].length;
    m->pkt_len = packets[i].length;
    m->nb_segs = 1;
    m->next = nullptr;
    m->ol_flags = 0;
    if (packets[i].flags & kPacketTxChecksumOffload) {
      m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
      m->l2_len = 14;
      m->l3_len = 20;
    }
    mbufs[i] = m;
  }
  return ::rte_eth_tx_burst(port_id_, queue, mbufs, n);
}

uint16_t DpdkPort::alloc_burst(uint16_t queue, Packet* out, uint16_t n) {
  rte_mbuf* mbufs[64];
  if (n > 64) n = 64;
  rte_mempool* pool = pools_[queue < pools_.size() ? queue : 0];
  if (::rte_pktmbuf_alloc_bulk(pool, mbufs, n) != 0) return 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = mbufs[i];
    out[i].native = m;
    out[i].data = rte_pktmbuf_mtod(m, uint8_t*);
    out[i].length = 0;
    out[i].capacity = static_cast<uint16_t>(m->buf_len - m->data_off);
    out[i].flags = 0;
  }
  return n;
}

void DpdkPort::free_burst(Packet* packets, uint16_t n) {
  for (uint16_t i = 0; i < n; ++i) ::rte_pktmbuf_free(static_cast<rte_mbuf*>(packets[i].native));
}

int DpdkPort::rx_wakeup_fd(uint16_t queue) {
  return queue < wakeup_fds_.size() ? wakeup_fds_[queue] : -1;
}

void DpdkPort::enable_rx_wakeup(uint16_t queue, bool on) {
  if (!interrupt_wakeup_) return;
  if (on) {
    ::rte_eth_dev_rx_intr_enable(port_id_, queue);
  } else {
    ::rte_eth_dev_rx_intr_disable(port_id_, queue);
  }
}

void DpdkPort::thread_init() { ::rte_thread_register(); }

PortStats DpdkPort::stats() const {
  rte_eth_stats s{};
  PortStats out;
  if (::rte_eth_stats_get(port_id_, &s) != 0) return out;
  out.rx_packets = s.ipackets;
  out.tx_packets = s.opackets;
  out.rx_missed = s.imissed;
  out.rx_errors = s.ierrors;
  out.tx_errors = s.oerrors;
  out.rx_no_buffer = s.rx_nombuf;
  out.rx_kernel_drops = kernel_drops_.total();
  return out;
}

bool DpdkPort::program_reta(const GroupCores& group_cores) {
  if (!reta_follows_groups(caps_.reta_size)) return false;
  // One update with every mask bit set: the table never mixes two steering tables for longer
  // than the driver takes, and a scale event costs one driver call, not one per group.
  std::vector<uint16_t> entries = reta_entries(group_cores, caps_.reta_size, caps_.queues);
  std::vector<rte_eth_rss_reta_entry64> reta((entries.size() + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                             RTE_ETH_RETA_GROUP_SIZE);
  for (size_t e = 0; e < entries.size(); ++e) {
    rte_eth_rss_reta_entry64& block = reta[e / RTE_ETH_RETA_GROUP_SIZE];
    block.mask |= 1ull << (e % RTE_ETH_RETA_GROUP_SIZE);
    block.reta[e % RTE_ETH_RETA_GROUP_SIZE] = entries[e];
  }
  return ::rte_eth_dev_rss_reta_update(port_id_, reta.data(), caps_.reta_size) == 0;
}

}  // namespace vtas::fastpath
