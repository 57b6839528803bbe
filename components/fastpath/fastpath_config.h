// FastPathConfig: everything the fast path takes from the manifest (network section and TAS
// parameters), resolved once at start, plus the DPDK EAL argument list derived from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "components/wire/address.h"
#include "proto/manifest.pb.h"
#include "runtime/result.h"

namespace vtas::fastpath {

struct FastPathConfig {
  std::string instance;
  std::string runtime_dir;
  wire::Ipv4Addr local_ip;
  uint8_t prefix_length = 24;
  std::string device;                 // DPDK device spec
  std::vector<std::string> eal_args;  // full argv for rte_eal_init
  uint32_t cores = 1;                 // fast-path cores (TAS --fp-cores-max)
  bool interrupts = true;             // !--fp-no-ints
  bool tx_checksum_offload = true;    // !--fp-no-xsumoffload
  bool hugepages = true;              // !--fp-no-hugepages (shared regions)
  bool vlan_strip = false;
  uint32_t poll_interval_us = 10000;  // --fp-poll-interval-tas
  uint32_t poll_interval_app_us = 10000;  // --fp-poll-interval-app (told to apps at attach)
  uint32_t max_flows = 131072;
  // Requests an app may have relayed to conn and not answered yet; beyond, -ENOBUFS at once.
  // Sized for a busy server closing or accepting tens of thousands of connections in a burst
  // (an entry is ~150 bytes: 64Ki cost a hostile app at most ~10 MB of the fast path's memory).
  uint32_t max_unanswered_per_app = 65536;
  uint32_t rx_buffer = 8192;          // --tcp-rxbuf-len
  uint32_t tx_buffer = 8192;          // --tcp-txbuf-len
  uint32_t report_ring = 16384;       // --nic-rx-len (core -> control)
  uint32_t command_ring = 16384;      // --nic-tx-len (control -> core)
  uint32_t kin_entries = 16384;       // --app-kout-len / 64
  uint32_t kout_entries = 16384;      // --app-kin-len / 64
  // One app's shared memory (its queues and connection buffers): --shm-len when given. TAS's
  // --shm-len (1 GiB) was one region for all apps; vtas gives every app its own region, so the
  // schema default is not used for it (docs/parameters.md).
  uint64_t app_region_size = 64ull << 20;
  // --kni-name: the Linux interface that gets what vtas does not handle (kernel_interface.h);
  // empty: none.
  std::string kni_name;
};

Result<FastPathConfig> fast_path_config(const manifest::Manifest& manifest);

}  // namespace vtas::fastpath
