#include "components/arp/routing_table.h"

#include <algorithm>

namespace vtas::arp {
namespace {

std::string ip_text(uint32_t ip) {
  return format_ipv4_address(ip);
}

// The network's own address with the host bits cleared, so "10.1.2.3/16" and "10.1.0.0/16"
// name the same destination.
Ipv4Prefix normalised(Ipv4Prefix p) {
  p.address &= p.mask();
  return p;
}

}  // namespace

std::string to_string(const Ipv4Prefix& prefix) {
  return ip_text(prefix.address) + "/" + std::to_string(prefix.length);
}

Result<RoutingTable> RoutingTable::create(Ipv4Prefix local, std::vector<StaticRoute> routes) {
  if (local.length > 32) {
    return make_error("local prefix length " + std::to_string(local.length) + " is out of range");
  }
  if (auto why = why_not_unicast(local.address)) {
    return make_error("local address " + ip_text(local.address) + " is not usable: " + *why);
  }
  for (auto& r : routes) {
    if (r.destination.length > 32) {
      return make_error("route prefix length " + std::to_string(r.destination.length) +
                        " is out of range (0..32)");
    }
    r.destination = normalised(r.destination);
    if (auto why = why_not_unicast(r.next_hop)) {
      return make_error("route " + to_string(r.destination) + " via " + ip_text(r.next_hop) +
                        ": the next hop is not usable: " + *why);
    }
    if (r.next_hop == local.address) {
      return make_error("route " + to_string(r.destination) + " via " + ip_text(r.next_hop) +
                        ": the next hop is our own address");
    }
  }
  // Longest prefix first; equal lengths keep the manifest's order (then the duplicate check
  // below refuses the same destination twice, so the order never decides anything).
  std::stable_sort(routes.begin(), routes.end(), [](const StaticRoute& a, const StaticRoute& b) {
    return a.destination.length > b.destination.length;
  });
  for (size_t i = 1; i < routes.size(); ++i) {
    if (routes[i].destination.length == routes[i - 1].destination.length &&
        routes[i].destination.address == routes[i - 1].destination.address) {
      return make_error("route " + to_string(routes[i].destination) + " is given twice (via " +
                        ip_text(routes[i - 1].next_hop) + " and " + ip_text(routes[i].next_hop) +
                        "); keep one");
    }
  }
  return RoutingTable(local, std::move(routes));
}

const StaticRoute* RoutingTable::best_route(uint32_t ip, bool* found) const {
  // Routes are sorted by length, so the first match is the longest; the local subnet wins a
  // tie, so it only loses to strictly longer routes.
  for (const auto& r : routes_) {
    if (r.destination.length <= local_.length) break;
    if (r.destination.contains(ip)) {
      *found = true;
      return &r;
    }
  }
  if (local_.contains(ip)) {
    *found = true;
    return nullptr;
  }
  for (const auto& r : routes_) {
    if (r.destination.length > local_.length) continue;
    if (r.destination.contains(ip)) {
      *found = true;
      return &r;
    }
  }
  *found = false;
  return nullptr;
}

Result<uint32_t> RoutingTable::next_hop(uint32_t destination) const {
  if (destination == local_.address) {
    return make_error(ip_text(destination) + " is our own address");
  }
  if (auto why = why_not_unicast(destination)) {
    return make_error("cannot resolve " + ip_text(destination) + ": " + *why);
  }
  uint32_t target = destination;
  std::string path = ip_text(destination);
  for (int hop = 0; hop <= kMaxHops; ++hop) {
    bool found = false;
    const StaticRoute* route = best_route(target, &found);
    if (!found) {
      if (target == destination) return make_error("no route to " + ip_text(destination));
      return make_error("no route to " + ip_text(target) + ", the gateway for " +
                        ip_text(destination));
    }
    if (route == nullptr) {
      // On the local link. Its broadcast address is nobody's (a /31 or /32 has none).
      if (local_.length < 31 && (target | local_.mask()) == UINT32_MAX) {
        return make_error("cannot resolve " + ip_text(target) +
                          ": it is the broadcast address of the local subnet " +
                          to_string(normalised(local_)));
      }
      return target;
    }
    target = route->next_hop;
    path += " -> " + ip_text(target);
  }
  return make_error("routing loop resolving " + ip_text(destination) + ": " + path +
                    " (more than " + std::to_string(kMaxHops) + " gateways); fix network.route");
}

}  // namespace vtas::arp
