// ArpConfig: what the arp actor takes from the manifest (local address and prefix, routes,
// TAS --arp-timeout / --arp-timeout-max) and its own limits, resolved once at start; and the
// ARP retry schedule those two TAS parameters define.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "components/arp/arp_cache.h"
#include "components/arp/routing_table.h"
#include "components/wire/address.h"
#include "proto/manifest.pb.h"
#include "runtime/clock.h"
#include "runtime/result.h"

namespace vtas::arp {

struct ArpConfig {
  // Where ARP frames go out (PacketOut).
  std::string fastpath = "fastpath";
  Ipv4Prefix local;                            // network.ip_addr
  std::vector<StaticRoute> routes;             // network.route
  uint64_t request_timeout_us = 500;           // tas.arp_timeout: the first request's wait
  uint64_t request_timeout_max_us = 10000000;  // tas.arp_timeout_max: the longest wait
  // Our MAC when known up front (tests, embedding); in an instance the fast path sends
  // SetLocalMac once its port is open.
  std::optional<wire::MacAddr> local_mac;
  ArpCacheLimits cache;
  // Resolutions running at once (incomplete entries), and requests waiting on one of them;
  // beyond these a ResolveRequest is answered at once with an error (try again later).
  size_t max_resolutions = 256;
  size_t max_waiters = 1024;
  Nanos expire_period = std::chrono::seconds(1);
  // RFC 5227 DEFEND_INTERVAL: at most one announcement per this much when another host
  // claims our address.
  Nanos defend_interval = std::chrono::seconds(10);
};

// From the manifest: network.ip_addr (required), network.route, tas.arp_timeout(_max). The
// error names the field and the value.
Result<ArpConfig> config_from_manifest(const manifest::Manifest& manifest);
Status validate(const ArpConfig& config);

// The waits after each ARP request of one resolution, as TAS does it: the first is
// `timeout_us`, each next one doubles, and the series stops before a wait would exceed
// `timeout_max_us` (if timeout_us is above the max, one request with timeout_us). TAS defaults
// (500 us, 10 s): 15 requests, 500 us ... 8.192 s.
std::vector<uint64_t> retry_schedule_us(uint64_t timeout_us, uint64_t timeout_max_us);
// How long a failing resolution takes until arp answers ok = false: the sum of the schedule
// (TAS defaults: 16.38 s, i.e. nearly twice --arp-timeout-max). A caller's own timeout for a
// ResolveRequest must be longer than this.
uint64_t resolution_budget_us(uint64_t timeout_us, uint64_t timeout_max_us);

}  // namespace vtas::arp
