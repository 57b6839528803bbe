#include "components/fastpath/fastpath_config.h"

#include <algorithm>

#include "runtime/directory.h"

namespace vtas::fastpath {
namespace {

// Frames in each net_af_packet queue's kernel ring (2 KiB each, so 16 MiB per queue).
constexpr uint32_t kAfPacketRingFrames = 8192;

uint32_t power_of_two_entries(uint64_t bytes_or_entries) {
  uint32_t n = 64;
  while (n < bytes_or_entries && n < (1u << 24)) n <<= 1;
  return n;
}

bool has_arg(const std::vector<std::string>& args, const std::string& prefix) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a.rfind(prefix, 0) == 0; });
}

}  // namespace

Result<FastPathConfig> fast_path_config(const manifest::Manifest& m) {
  FastPathConfig c;
  c.instance = m.instance();
  c.runtime_dir = runtime_dir_of(m);
  const auto& net = m.network();
  const auto& tas = m.tas();
  if (!net.has_ip_addr()) return make_error("the fast path needs network.ip_addr (TAS --ip-addr)");
  std::string addr = net.ip_addr();
  size_t slash = addr.find('/');
  auto ip = wire::parse_ipv4(addr.substr(0, slash));
  if (!ip) return make_error("network.ip_addr: " + ip.error().message);
  c.local_ip = *ip;
  if (slash != std::string::npos) c.prefix_length = static_cast<uint8_t>(std::stoi(addr.substr(slash + 1)));
  if (!net.has_device() || net.device().empty()) {
    return make_error("the fast path needs network.device (a DPDK vdev spec or PCI address, TAS: --dpdk-extra=--vdev=...)");
  }
  c.device = net.device();
  c.cores = std::max<uint32_t>(1, tas.fp_cores_max());
  // net_af_packet gives one queue per `qpairs` (the kernel spreads flows over them with
  // PACKET_FANOUT): one per fast-path core unless the device string says otherwise.
  const bool af_packet = c.device.rfind("net_af_packet", 0) == 0;
  if (af_packet && c.device.find("qpairs=") == std::string::npos && c.cores > 1) {
    c.device += ",qpairs=" + std::to_string(c.cores);
  }
  // net_af_packet's kernel ring holds 512 frames by default: a burst from the kernel (a
  // peer closing thousands of connections at once, or their synchronised retransmissions)
  // overflows it before a woken core drains it, and the kernel drops the rest
  // (port_rx_kernel_drops). A deeper ring absorbs such bursts (decision 43).
  if (af_packet && c.device.find("framecnt=") == std::string::npos) {
    c.device += ",framecnt=" + std::to_string(kAfPacketRingFrames);
  }
  c.interrupts = !tas.fp_no_ints();
  c.tx_checksum_offload = !tas.fp_no_xsumoffload();
  c.hugepages = !tas.fp_no_hugepages();
  c.vlan_strip = tas.fp_vlan_strip();
  c.poll_interval_us = tas.fp_no_ints() ? UINT32_MAX : tas.fp_poll_interval_tas();
  c.poll_interval_app_us = tas.fp_poll_interval_app();
  c.rx_buffer = static_cast<uint32_t>(tas.tcp_rxbuf_len());
  c.tx_buffer = static_cast<uint32_t>(tas.tcp_txbuf_len());
  c.report_ring = power_of_two_entries(tas.nic_rx_len());
  c.command_ring = power_of_two_entries(tas.nic_tx_len());
  c.kin_entries = power_of_two_entries(tas.app_kout_len() / 64);
  c.kout_entries = power_of_two_entries(tas.app_kin_len() / 64);
  if (tas.has_shm_len()) c.app_region_size = tas.shm_len();
  c.kni_name = tas.kni_name();

  // EAL: the device, our own memory prefix (no clash with other instances or DPDK programs),
  // one EAL lcore (the control thread; cores register themselves), then the user's extras.
  std::vector<std::string>& a = c.eal_args;
  a = {"vtas-fastpath"};
  bool is_vdev = c.device.rfind("net_", 0) == 0 || c.device.rfind("eth_", 0) == 0;
  const auto& extra = net.eal_arg();
  std::vector<std::string> extras(extra.begin(), extra.end());
  if (!has_arg(extras, "-l") && !has_arg(extras, "--lcores") && !has_arg(extras, "-c")) {
    a.push_back("-l");
    a.push_back("0");
  }
  if (is_vdev) {
    a.push_back("--no-pci");
    a.push_back("--vdev=" + c.device);
  } else {
    a.push_back("-a");
    a.push_back(c.device);
  }
  // Leave no files behind: --in-memory with hugepages; --no-huge --no-shconf without. The
  // user's own memory options win (e.g. --file-prefix for net_memif, which needs it).
  bool user_memory = has_arg(extras, "--file-prefix") || has_arg(extras, "--in-memory") ||
                     has_arg(extras, "--no-huge") || has_arg(extras, "--no-shconf");
  if (!user_memory) {
    // Our own prefix even in memory: the EAL's telemetry socket lives under it, and two
    // instances must not share one.
    a.push_back("--file-prefix=vtas-" + c.instance);
    if (c.hugepages) {
      a.push_back("--in-memory");
    } else {
      // TAS's --fp-no-hugepages covered only the shared regions; vtas also keeps DPDK off
      // hugepages then, so one flag runs it on a machine without any (docs/decisions.md).
      a.push_back("--no-huge");
      a.push_back("--no-shconf");
      if (!has_arg(extras, "-m")) {
        a.push_back("-m");
        a.push_back("256");
      }
    }
  }
  if (!has_arg(extras, "--log-level")) a.push_back("--log-level=lib.eal:warning");
  a.insert(a.end(), extras.begin(), extras.end());
  return c;
}

}  // namespace vtas::fastpath
