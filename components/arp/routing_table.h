// RoutingTable: which neighbour to send to for an IPv4 destination. Built from the local
// address with its prefix (manifest network.ip_addr, TAS --ip-addr) and the static routes
// (network.route, TAS --ip-route=DEST[/PREFIX],NEXTHOP). Used by the arp actor before it
// resolves the neighbour's MAC address.
//
// Lookup is longest prefix match (TAS took the first matching entry: a /8 listed before a /24
// hid the /24). The local subnet is a directly connected route and wins a tie with a static
// route of the same length. A route's next hop is itself looked up again (a gateway reached
// through another gateway), at most kMaxHops times, so a routing loop is an error, not a hang.
// A local prefix of 0 (TAS's default when --ip-addr has no /LEN) puts every destination on the
// local link unless a route is more specific.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/manifest/ipv4.h"
#include "runtime/result.h"

namespace vtas::arp {

struct StaticRoute {
  Ipv4Prefix destination;
  uint32_t next_hop = 0;  // host order
};

class RoutingTable {
 public:
  static constexpr int kMaxHops = 8;

  // Checks the routes (unicast next hops that are not our own address, no destination given
  // twice) and orders them for lookup.
  static Result<RoutingTable> create(Ipv4Prefix local, std::vector<StaticRoute> routes);

  // The neighbour to resolve for `destination`: the destination itself when it is on the local
  // link, otherwise the (last) gateway towards it. Errors: "no route to 10.1.2.3", our own
  // address, a non-unicast address, the local subnet's broadcast address, a routing loop.
  Result<uint32_t> next_hop(uint32_t destination) const;

  uint32_t local_address() const { return local_.address; }
  const Ipv4Prefix& local_subnet() const { return local_; }
  // Routes in lookup order (longest prefix first).
  const std::vector<StaticRoute>& routes() const { return routes_; }

 private:
  RoutingTable(Ipv4Prefix local, std::vector<StaticRoute> routes)
      : local_(local), routes_(std::move(routes)) {}
  // The best route for `ip`: nullptr for the local link, or the route; `found` false if none.
  const StaticRoute* best_route(uint32_t ip, bool* found) const;

  Ipv4Prefix local_;
  std::vector<StaticRoute> routes_;
};

// "10.1.0.0/16"
std::string to_string(const Ipv4Prefix& prefix);

}  // namespace vtas::arp
