#include "components/arp/arp_actor.h"

#include <chrono>

#include "components/wire/frame.h"

namespace vtas::arp {
namespace {

void add_counter(supervisor::StatsReport* report, const char* name, uint64_t value) {
  auto* c = report->add_counters();
  c->set_name(name);
  c->set_value(value);
}

std::string ip_text(uint32_t ip) {
  return format_ipv4_address(ip);
}

std::string duration_text(Nanos d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  if (us >= 10000) return std::to_string(us / 1000) + " ms";
  return std::to_string(us) + " us";
}

bool unicast_mac(const wire::MacAddr& mac) {
  return !mac.is_zero() && !mac.is_multicast();
}

}  // namespace

ArpActor::ArpActor(std::string name, ArpConfig config)
    : Actor(std::move(name)), config_(std::move(config)), cache_(config_.cache) {
  on(&ArpActor::handle_resolve_request);
  on(&ArpActor::handle_packet_in);
  on(&ArpActor::handle_set_local_mac);
}

ArpActor::ArpActor(std::string name, Result<ArpConfig> config)
    : ArpActor(std::move(name), config ? *config : ArpConfig{}) {
  if (!config) init_error_ = config.error().message;
}

Status ArpActor::on_start() {
  if (!init_error_.empty()) return make_error(init_error_);
  if (Status s = validate(config_); !s) return s;
  auto routes = RoutingTable::create(config_.local, config_.routes);
  if (!routes) return make_error("arp: " + routes.error().message + "; fix network.route");
  routes_.emplace(std::move(*routes));
  ip_ = wire::Ipv4Addr{config_.local.address};
  every(config_.expire_period, [this] { cache_.expire(now()); });
  log().info("serving {}/{} with {} route(s); requests wait {} us doubling up to {} us ({} tries)",
             ip_text(ip_.value), config_.local.length, routes_->routes().size(),
             config_.request_timeout_us, config_.request_timeout_max_us,
             retry_schedule_us(config_.request_timeout_us, config_.request_timeout_max_us).size());
  if (config_.local_mac) {
    mac_ = config_.local_mac;
    announce();
  } else {
    log().info("waiting for the fast path's SetLocalMac before sending ARP");
  }
  return Status();
}

// ---- resolution ---------------------------------------------------------------------------------

void ArpActor::handle_resolve_request(const ResolveRequest& m, const Incoming& in) {
  ++counters_.resolve_requests;
  Waiter w;
  *w.request.mutable_header() = in.header();
  w.route = in.route;
  w.ip = m.ip();
  auto hop = routes_->next_hop(m.ip());
  if (!hop) {
    ++counters_.no_route;
    answer(w, 0, nullptr, hop.error().message);
    return;
  }
  if (auto hit = cache_.lookup(*hop, now())) {
    ++counters_.answered_from_cache;
    answer(w, *hop, &hit->mac, "");
    if (hit->needs_refresh && send_request(*hop, hit->mac)) {
      // Linux-style re-confirmation: unicast to the MAC we have; a reply makes it reachable,
      // silence lets it expire.
      cache_.refresh_sent(*hop);
      ++counters_.refreshes_sent;
    }
    return;
  }
  auto running = resolutions_.find(*hop);
  if (running != resolutions_.end()) {
    if (running->second.waiters.size() >= config_.max_waiters) {
      ++counters_.refused_busy;
      answer(w, *hop, nullptr,
             std::to_string(config_.max_waiters) + " requests already wait for " + ip_text(*hop) +
                 "; try again later");
      return;
    }
    running->second.waiters.push_back(std::move(w));
    return;
  }
  start_resolution(*hop, std::move(w));
}

void ArpActor::answer(const Waiter& w, uint32_t next_hop, const wire::MacAddr* mac,
                      const std::string& error) {
  // One-way ResolveRequests (events) only warm the cache: there is nobody to answer.
  if (w.request.header().kind() != MESSAGE_KIND_REQUEST) return;
  ResolveResponse r;
  r.set_ip(w.ip);
  r.set_next_hop(next_hop);
  r.set_ok(mac != nullptr);
  if (mac != nullptr) {
    r.set_mac(std::string(reinterpret_cast<const char*>(mac->bytes.data()), mac->bytes.size()));
  } else {
    r.set_error(error);
  }
  if (!reply(Incoming{w.request, w.route}, r)) ++counters_.send_failures;
}

void ArpActor::start_resolution(uint32_t next_hop, Waiter waiter) {
  if (resolutions_.size() >= config_.max_resolutions || !cache_.mark_incomplete(next_hop, now())) {
    ++counters_.refused_busy;
    answer(waiter, next_hop, nullptr,
           std::to_string(resolutions_.size()) + " ARP resolutions are running, the limit; try " +
               ip_text(next_hop) + " again later");
    return;
  }
  ++counters_.resolutions_started;
  Resolution& r = resolutions_[next_hop];
  r.waits_us = retry_schedule_us(config_.request_timeout_us, config_.request_timeout_max_us);
  r.started = now();
  r.waiters.push_back(std::move(waiter));
  if (send_request(next_hop, wire::MacAddr::broadcast())) ++r.requests_sent;
  r.timer =
      after(std::chrono::microseconds(r.waits_us[0]), [this, next_hop] { on_wait_over(next_hop); });
}

void ArpActor::on_wait_over(uint32_t next_hop) {
  auto it = resolutions_.find(next_hop);
  if (it == resolutions_.end()) return;
  Resolution& r = it->second;
  r.timer = 0;
  if (++r.step >= r.waits_us.size()) {
    const std::string took = duration_text(now() - r.started);
    if (r.requests_sent == 0) {
      fail(next_hop, "cannot resolve " + ip_text(next_hop) +
                         ": our MAC address is still unknown (the fast path has not sent "
                         "SetLocalMac) after " +
                         took);
    } else {
      fail(next_hop, "no ARP reply from " + ip_text(next_hop) + " after " +
                         std::to_string(r.requests_sent) + " requests over " + took);
    }
    return;
  }
  if (send_request(next_hop, wire::MacAddr::broadcast())) ++r.requests_sent;
  r.timer = after(std::chrono::microseconds(r.waits_us[r.step]),
                  [this, next_hop] { on_wait_over(next_hop); });
}

void ArpActor::complete(uint32_t next_hop, const wire::MacAddr& mac) {
  auto it = resolutions_.find(next_hop);
  if (it == resolutions_.end()) return;
  Resolution r = std::move(it->second);
  resolutions_.erase(it);
  if (r.timer != 0) cancel_timer(r.timer);
  ++counters_.resolutions_ok;
  log().debug("{} is at {} ({} waiter(s), {})", ip_text(next_hop), wire::to_string(mac),
              r.waiters.size(), duration_text(now() - r.started));
  for (const Waiter& w : r.waiters) answer(w, next_hop, &mac, "");
}

void ArpActor::fail(uint32_t next_hop, const std::string& error) {
  auto it = resolutions_.find(next_hop);
  if (it == resolutions_.end()) return;
  Resolution r = std::move(it->second);
  resolutions_.erase(it);
  if (r.timer != 0) cancel_timer(r.timer);
  cache_.erase(next_hop);
  ++counters_.resolutions_failed;
  if (frame_log_.allow(to_ns(now()))) log().warn("{} ({} waiter(s))", error, r.waiters.size());
  for (const Waiter& w : r.waiters) answer(w, next_hop, nullptr, error);
}

// ---- frames in ----------------------------------------------------------------------------------

void ArpActor::handle_packet_in(const fastpath::PacketIn& m, const Incoming&) {
  ++counters_.frames_in;
  wire::Frame f;
  const auto* data = reinterpret_cast<const uint8_t*>(m.frame().data());
  const wire::ParseResult r = wire::parse_frame(data, m.frame().size(), &f);
  if (r == wire::ParseResult::kOk && f.kind != wire::FrameKind::kArp) {
    ++counters_.frames_not_arp;
    if (frame_log_.allow(to_ns(now()))) {
      log().warn("a non-ARP frame ({} bytes, ethertype {:#06x}) reached arp: dropped",
                 m.frame().size(), f.eth.ethertype);
    }
    return;
  }
  if (r != wire::ParseResult::kOk) {
    ++counters_.frames_malformed;
    if (frame_log_.allow(to_ns(now()))) {
      log().warn("malformed frame dropped ({}, {} bytes; {} malformed so far)",
                 wire::parse_result_name(r), m.frame().size(), counters_.frames_malformed);
    }
    return;
  }
  handle_arp(f.arp, f.eth.dst);
}

void ArpActor::handle_arp(const wire::ArpPacket& arp, const wire::MacAddr& eth_dst) {
  // Another host's unicast traffic is none of our business (the port may be promiscuous).
  if (!eth_dst.is_broadcast() && mac_ && eth_dst != *mac_) {
    ++counters_.frames_not_for_us;
    return;
  }
  if (arp.sender_ip == ip_) {
    // Our own announcement looped back is fine; anyone else is using our address.
    if (!mac_ || arp.sender_mac != *mac_) on_conflict(arp);
    return;
  }
  const bool for_us = arp.target_ip == ip_;
  const bool learnable = unicast_mac(arp.sender_mac) && !arp.sender_ip.is_zero() &&
                         !why_not_unicast(arp.sender_ip.value);
  if (learnable) {
    const auto evidence = for_us && arp.op == wire::ArpOp::kReply ? ArpCache::Evidence::kReplyToUs
                                                                  : ArpCache::Evidence::kOther;
    // RFC 826: update the sender wherever the packet was going; add it only if it was for us,
    // and (as Linux without arp_accept) only from a request: a reply we did not ask for
    // creates nothing (ours always have an entry, incomplete or stale, to land in).
    const bool create = for_us && arp.op == wire::ArpOp::kRequest;
    const ArpCache::Learned learned =
        cache_.learn(arp.sender_ip.value, arp.sender_mac, evidence, create, now());
    if (learned.mac_changed && frame_log_.allow(to_ns(now()))) {
      log().info("{} moved to {}", ip_text(arp.sender_ip.value), wire::to_string(arp.sender_mac));
    }
    if (learned.stored) complete(arp.sender_ip.value, arp.sender_mac);
  }
  if (!for_us) {
    ++counters_.frames_not_for_us;
    return;
  }
  if (arp.op != wire::ArpOp::kRequest || !unicast_mac(arp.sender_mac)) return;
  // Answer requests for our address, RFC 5227 probes (sender 0.0.0.0) included: that is how a
  // host checking whether our address is free learns it is not.
  if (!mac_) {
    ++counters_.replies_unsent_no_mac;
    return;
  }
  uint8_t frame[wire::kArpFrameLength];
  const size_t n = wire::build_arp_reply(frame, sizeof(frame), *mac_, arp);
  if (send_frame(frame, n)) ++counters_.requests_answered;
}

void ArpActor::on_conflict(const wire::ArpPacket& arp) {
  ++counters_.address_conflicts;
  const TimePoint t = now();
  if (frame_log_.allow(to_ns(t))) {
    log().warn("address conflict: {} claims our address {}", wire::to_string(arp.sender_mac),
               ip_text(ip_.value));
  }
  if (!last_defence_ || t - *last_defence_ >= config_.defend_interval) {
    last_defence_ = t;
    announce();
  }
}

void ArpActor::handle_set_local_mac(const SetLocalMac& m, const Incoming& in) {
  if (m.mac().size() != 6) {
    log().warn("SetLocalMac from '{}' ignored: {} bytes, want 6", in.sender(), m.mac().size());
    return;
  }
  const auto mac = wire::MacAddr::from_bytes(reinterpret_cast<const uint8_t*>(m.mac().data()));
  if (!unicast_mac(mac)) {
    log().warn("SetLocalMac from '{}' ignored: {} is not a unicast address", in.sender(),
               wire::to_string(mac));
    return;
  }
  if (mac_ == mac) return;
  log().info("our MAC is {}{}", wire::to_string(mac),
             mac_ ? " (was " + wire::to_string(*mac_) + ")" : std::string());
  mac_ = mac;
  announce();
  // Resolutions that could not send yet (or sent with the old address) ask now; their retry
  // schedule goes on as it was.
  for (auto& [hop, r] : resolutions_) {
    if (send_request(hop, wire::MacAddr::broadcast())) ++r.requests_sent;
  }
}

// ---- frames out ---------------------------------------------------------------------------------

bool ArpActor::send_frame(const uint8_t* frame, size_t length) {
  if (length == 0) return false;
  fastpath::PacketOut out;
  out.set_frame(std::string(reinterpret_cast<const char*>(frame), length));
  if (send(config_.fastpath, out)) return true;
  ++counters_.send_failures;
  return false;
}

bool ArpActor::send_request(uint32_t target, const wire::MacAddr& eth_dst) {
  if (!mac_) {
    ++counters_.requests_unsent_no_mac;
    return false;
  }
  uint8_t frame[wire::kArpFrameLength];
  size_t n;
  if (eth_dst.is_broadcast()) {
    n = wire::build_arp_request(frame, sizeof(frame), *mac_, ip_, wire::Ipv4Addr{target});
  } else {
    const wire::ArpPacket request{wire::ArpOp::kRequest, *mac_, ip_, wire::MacAddr{},
                                  wire::Ipv4Addr{target}};
    n = wire::build_arp(frame, sizeof(frame), *mac_, eth_dst, request);
  }
  if (!send_frame(frame, n)) return false;
  ++counters_.requests_sent;
  return true;
}

bool ArpActor::announce() {
  if (!mac_) return false;
  uint8_t frame[wire::kArpFrameLength];
  const size_t n = wire::build_gratuitous_arp(frame, sizeof(frame), *mac_, ip_);
  if (!send_frame(frame, n)) return false;
  ++counters_.announcements_sent;
  return true;
}

// ---- stats --------------------------------------------------------------------------------------

void ArpActor::fill_stats(supervisor::StatsReport* report) {
  const TimePoint t = now();
  const ArpCounters& c = counters_;
  add_counter(report, "cache_entries", cache_.size());
  add_counter(report, "cache_reachable", cache_.count(ArpState::kReachable, t));
  add_counter(report, "cache_stale", cache_.count(ArpState::kStale, t));
  add_counter(report, "cache_incomplete", cache_.count(ArpState::kIncomplete, t));
  add_counter(report, "cache_evictions", cache_.evictions());
  add_counter(report, "cache_expirations", cache_.expirations());
  add_counter(report, "resolve_requests", c.resolve_requests);
  add_counter(report, "answered_from_cache", c.answered_from_cache);
  add_counter(report, "resolutions", c.resolutions_started);
  add_counter(report, "resolutions_in_progress", resolutions_.size());
  add_counter(report, "resolutions_ok", c.resolutions_ok);
  add_counter(report, "resolution_failures", c.resolutions_failed);
  add_counter(report, "no_route", c.no_route);
  add_counter(report, "refused_busy", c.refused_busy);
  add_counter(report, "arp_requests_sent", c.requests_sent);
  add_counter(report, "arp_requests_unsent_no_mac", c.requests_unsent_no_mac);
  add_counter(report, "stale_refreshes_sent", c.refreshes_sent);
  add_counter(report, "requests_answered", c.requests_answered);
  add_counter(report, "replies_unsent_no_mac", c.replies_unsent_no_mac);
  add_counter(report, "announcements_sent", c.announcements_sent);
  add_counter(report, "frames_in", c.frames_in);
  add_counter(report, "frames_malformed", c.frames_malformed);
  add_counter(report, "frames_not_arp", c.frames_not_arp);
  add_counter(report, "frames_not_for_us", c.frames_not_for_us);
  add_counter(report, "address_conflicts", c.address_conflicts);
  add_counter(report, "send_failures", c.send_failures);
  add_counter(report, "local_mac_known", mac_ ? 1 : 0);

  // The cache, by address. Bounded so a full cache cannot make a huge report.
  constexpr size_t kMaxRows = 256;
  auto* table = report->add_tables();
  table->set_name("arp_cache");
  for (const char* col : {"ip", "mac", "state", "expires_in_ms"}) table->add_columns(col);
  for (const auto& row : cache_.rows(t, kMaxRows)) {
    auto* r = table->add_rows();
    r->add_cells(ip_text(row.ip));
    r->add_cells(row.state == ArpState::kIncomplete ? "-" : wire::to_string(row.mac));
    r->add_cells(state_name(row.state));
    r->add_cells(std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(row.expires_in).count()));
  }

  auto* routes = report->add_tables();
  routes->set_name("routes");
  routes->add_columns("destination");
  routes->add_columns("via");
  if (routes_) {
    auto* local = routes->add_rows();
    Ipv4Prefix subnet = routes_->local_subnet();
    subnet.address &= subnet.mask();
    local->add_cells(to_string(subnet));
    local->add_cells("direct");
    for (const auto& r : routes_->routes()) {
      auto* row = routes->add_rows();
      row->add_cells(to_string(r.destination));
      row->add_cells(ip_text(r.next_hop));
    }
  }
}

// ---- registration -------------------------------------------------------------------------------

void register_actors(ActorRegistry& registry) {
  registry.add("arp", [](const ActorSpec& spec) -> std::unique_ptr<Actor> {
    return std::make_unique<ArpActor>(spec.actor.name(), config_from_manifest(spec.manifest));
  });
}

}  // namespace vtas::arp
