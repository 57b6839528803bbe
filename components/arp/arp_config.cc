#include "components/arp/arp_config.h"

#include "runtime/manifest/ipv4.h"

namespace vtas::arp {

std::vector<uint64_t> retry_schedule_us(uint64_t timeout_us, uint64_t timeout_max_us) {
  std::vector<uint64_t> waits;
  uint64_t t = timeout_us;
  waits.push_back(t);
  while (t <= timeout_max_us / 2) {
    t *= 2;
    waits.push_back(t);
  }
  return waits;
}

uint64_t resolution_budget_us(uint64_t timeout_us, uint64_t timeout_max_us) {
  uint64_t total = 0;
  for (uint64_t w : retry_schedule_us(timeout_us, timeout_max_us)) total += w;
  return total;
}

Status validate(const ArpConfig& c) {
  if (c.request_timeout_us == 0 || c.request_timeout_max_us == 0) {
    return make_error("arp: tas.arp_timeout (" + std::to_string(c.request_timeout_us) +
                      " us) and tas.arp_timeout_max (" + std::to_string(c.request_timeout_max_us) +
                      " us) must be at least 1 us");
  }
  if (c.cache.capacity == 0 || c.max_resolutions == 0 || c.max_waiters == 0 ||
      c.max_resolutions >= c.cache.capacity) {
    return make_error("arp: cache capacity (" + std::to_string(c.cache.capacity) +
                      ") must exceed max_resolutions (" + std::to_string(c.max_resolutions) +
                      "), both > 0");
  }
  if (c.cache.reachable_time <= Nanos(0) || c.cache.stale_time <= Nanos(0) ||
      c.expire_period <= Nanos(0)) {
    return make_error("arp: cache times must be > 0");
  }
  if (c.local_mac && (c.local_mac->is_zero() || c.local_mac->is_multicast())) {
    return make_error("arp: local MAC " + wire::to_string(*c.local_mac) + " is not unicast");
  }
  if (c.fastpath.empty()) return make_error("arp: the fast path's actor name is empty");
  return Status();
}

Result<ArpConfig> config_from_manifest(const manifest::Manifest& manifest) {
  ArpConfig c;
  const auto& net = manifest.network();
  if (!net.has_ip_addr() || net.ip_addr().empty()) {
    return make_error("arp: network.ip_addr (TAS --ip-addr) is not set: arp needs our address");
  }
  auto local = parse_local_address(net.ip_addr());
  if (!local) return make_error("arp: network.ip_addr: " + local.error().message);
  c.local = *local;
  for (int i = 0; i < net.route_size(); ++i) {
    const auto& r = net.route(i);
    const std::string where = "arp: network.route[" + std::to_string(i) + "]";
    auto destination = parse_route_destination(r.destination());
    if (!destination) return make_error(where + ".destination: " + destination.error().message);
    auto next_hop = parse_ipv4_address(r.next_hop());
    if (!next_hop) {
      return make_error(where + ".next_hop: \"" + r.next_hop() +
                        "\" is not a dotted-quad IPv4 address");
    }
    c.routes.push_back(StaticRoute{*destination, *next_hop});
  }
  c.request_timeout_us = manifest.tas().arp_timeout();
  c.request_timeout_max_us = manifest.tas().arp_timeout_max();
  for (const auto& a : manifest.actor()) {
    if (a.kind() == "fastpath") {
      c.fastpath = a.name();
      break;
    }
  }
  if (Status s = validate(c); !s) return s.error();
  return c;
}

}  // namespace vtas::arp
