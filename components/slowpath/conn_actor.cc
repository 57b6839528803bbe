// ConnActor: construction, start and stop, statistics, record bookkeeping, and the handlers
// that do not belong to one concern (timer and actor events). See conn_actor.h.
#include "components/slowpath/conn_actor.h"

#include <cerrno>
#include <cstdio>

namespace vtas::conn {

ConnActor::ConnActor(std::string name, ConnConfig config, std::string config_error)
    : Actor(std::move(name)),
      config_(std::move(config)),
      config_error_(std::move(config_error)),
      isn_(config_.isn_key.value_or(SipKey{})),
      ports_(config_.ephemeral_ports, config_.random_seed),
      listeners_(config_.syn_queue_limit, config_.max_reuseport_group),
      time_wait_(config_.registry_capacity.time_wait),
      half_open_(config_.syn_queue_limit),
      request_log_(config_.registry_capacity.request_log),
      next_hops_(config_.arp_cache_ttl, 4096),
      local_mac_(config_.local_mac),
      reply_limit_(config_.rst_burst, static_cast<uint64_t>(config_.rst_period.count())) {
  on(&ConnActor::handle_packet_in);
  on(&ConnActor::handle_app_request_in);
  on(&ConnActor::handle_app_attached);
  on(&ConnActor::handle_app_detached);
  on(&ConnActor::handle_flow_event);
  on(&ConnActor::handle_timer_fired);
  on(&ConnActor::handle_actor_event);
}

ConnActor::~ConnActor() = default;

uint64_t ConnActor::handshake_timer_key(uint32_t conn_id, uint8_t attempt) {
  return (uint64_t{kTimerKindHandshake} << 56) | (uint64_t{attempt} << 32) | conn_id;
}

Status ConnActor::on_start() {
  if (!config_error_.empty()) return make_error(config_error_);
  Status valid = validate(config_);
  if (!valid) return valid;
  Status opened = open_registry();
  if (!opened) return opened;
  restore(registry_->take_contents());
  resume_in_flight_work();
  housekeeping_timer_ = every(config_.housekeeping_interval, [this] { housekeeping(); });
  log().info(
      "conn ready: {} listener(s), {} connection(s), {} in TIME_WAIT restored from {} "
      "(incarnation {})",
      listeners_.size(), conns_.size(), time_wait_.size(), registry_->path(), incarnation());
  return Status();
}

void ConnActor::on_stop() {
  log().info("conn stopping: {} listener(s), {} connection(s), {} in TIME_WAIT kept in {}",
             listeners_.size(), conns_.size(), time_wait_.size(),
             registry_ ? registry_->path() : std::string("(no registry)"));
}

void ConnActor::fill_stats(supervisor::StatsReport* report) {
  counters_.fill(report);
  auto add = [report](const char* name, uint64_t value) {
    auto* c = report->add_counters();
    c->set_name(name);
    c->set_value(value);
  };
  add("listeners", listeners_.size());
  add("listener_groups", listeners_.groups());
  add("accepts_posted", listeners_.accepts_posted());
  add("syns_waiting", listeners_.queued_syns());
  add("syn_received", half_open_.size());
  add("connections", conns_.size());
  add("time_wait", time_wait_.size());
  add("apps", apps_.size());

  auto* states = report->add_tables();
  states->set_name("connections_by_state");
  states->add_columns("state");
  states->add_columns("count");
  for (auto state : {ConnState::kResolving, ConnState::kSynSent, ConnState::kInstalling,
                     ConnState::kEstablished, ConnState::kClosing}) {
    auto* row = states->add_rows();
    row->add_cells(conn_state_name(state));
    row->add_cells(std::to_string(conns_.count(state)));
  }
  auto* row = states->add_rows();
  row->add_cells("time-wait");
  row->add_cells(std::to_string(time_wait_.size()));

  // A few records in full: what a stuck connection is waiting for (its flags) shows here.
  auto* conns = report->add_tables();
  conns->set_name("connections (first 16)");
  for (const char* column : {"conn", "tuple", "state", "flags", "flow", "app", "cookie",
                             "request", "close_request"}) {
    conns->add_columns(column);
  }
  int shown = 0;
  conns_.for_each([&](const Connection& c) {
    if (++shown > 16) return;
    auto* r = conns->add_rows();
    char flags[16];
    std::snprintf(flags, sizeof(flags), "%#x", c.record.flags);
    for (const std::string& cell :
         {std::to_string(c.record.conn_id), to_string(tuple_of(c.record)),
          std::string(conn_state_name(c.state())), std::string(flags),
          std::to_string(c.record.flow_id), std::to_string(c.record.app_id),
          std::to_string(c.record.opaque), std::to_string(c.record.request_id),
          std::to_string(c.record.close_request_id)}) {
      r->add_cells(cell);
    }
  });

  auto* table = report->add_tables();
  table->set_name("listeners");
  for (const char* column : {"id", "app", "context", "address", "reuseport", "backlog",
                             "syns_waiting", "accepts_posted"}) {
    table->add_columns(column);
  }
  listeners_.for_each([table](const Listener& l) {
    auto* r = table->add_rows();
    r->add_cells(std::to_string(l.record.listener_id));
    r->add_cells(std::to_string(l.record.app_id));
    r->add_cells(std::to_string(l.record.context_id));
    r->add_cells(ipv4_to_string(l.record.local_ip) + ":" + std::to_string(l.record.local_port));
    r->add_cells(l.record.reuse_port ? "yes" : "no");
    r->add_cells(std::to_string(l.record.backlog));
    r->add_cells(std::to_string(l.backlog.size()));
    r->add_cells(std::to_string(l.accepts.size()));
  });
}

// ---- records -------------------------------------------------------------------------------

Connection* ConnActor::create_connection(ConnRecord record) {
  record.conn_id = allocate_conn_id();
  auto slot = registry_->conns().insert(record);
  if (!slot) {
    ++counters_.registry_full;
    if (log_app()) log().warn("connection table full: {}", slot.error().message);
    return nullptr;
  }
  return &conns_.add(record, *slot);
}

void ConnActor::save(Connection& conn) {
  registry_->conns().update(conn.slot, conn.record);
}

void ConnActor::drop_connection(uint32_t conn_id) {
  Connection* conn = conns_.find(conn_id);
  if (conn == nullptr) return;
  if (conn->state() == ConnState::kSynSent) cancel_handshake_timer(*conn);
  release_held_frames(conn_id, false);
  registry_->conns().erase(conn->slot);
  conns_.remove(conn_id);
}

uint32_t ConnActor::allocate_conn_id() {
  // Ids wrap after 4 billion connections; skip 0 and any still in use.
  uint32_t id = meta_.next_conn_id;
  while (id == 0 || conns_.find(id) != nullptr) ++id;
  meta_.next_conn_id = id + 1;
  store_meta();
  return id;
}

uint32_t ConnActor::allocate_listener_id() {
  uint32_t id = meta_.next_listener_id;
  while (id == 0 || listeners_.find(id) != nullptr) ++id;
  meta_.next_listener_id = id + 1;
  store_meta();
  return id;
}

uint64_t ConnActor::next_order() {
  const uint64_t order = meta_.next_order++;
  store_meta();
  return order;
}

void ConnActor::store_meta() {
  registry_->store_meta(meta_);
}

void ConnActor::learn_local_mac(const Segment& seg) {
  if (!config_.local_mac.is_zero() || seg.dst_mac.is_multicast() || seg.dst_mac.is_zero()) return;
  if (local_mac_ != seg.dst_mac) {
    local_mac_ = seg.dst_mac;
    log().info("local MAC learned from received frames: {}", wire::to_string(local_mac_));
  }
}

uint64_t ConnActor::tuple_hash(const FourTuple& tuple) const {
  // Salted so the REUSEPORT pick is not correlated with the ISN.
  return hash_tuple(isn_.key(), tuple, 0x5245555345504f52ull);
}

bool ConnActor::log_peer() {
  return peer_log_limit_.allow(now_ns());
}
bool ConnActor::log_app() {
  return app_log_limit_.allow(now_ns());
}

bool ConnActor::reply_allowed() {
  if (reply_limit_.allow(now_ns())) return true;
  ++counters_.rsts_rate_limited;
  return false;
}

// ---- timer and actor events ----------------------------------------------------------------

void ConnActor::handle_timer_fired(const timer::TimerFired& fired, const Incoming&) {
  if (fired.kind() != kTimerKindHandshake) {
    if (log_peer()) log().warn("TimerFired of unknown kind {} ignored", fired.kind());
    return;
  }
  const auto conn_id = static_cast<uint32_t>(fired.key());
  const auto attempt = static_cast<uint8_t>(fired.key() >> 32);
  Connection* conn = conns_.find(conn_id);
  // A stale expiry (the handshake moved on, or a re-armed timer fired twice) is ignored.
  if (conn == nullptr || conn->state() != ConnState::kSynSent || conn->record.attempts != attempt ||
      fired.key() != handshake_timer_key(conn_id, attempt)) {
    return;
  }
  handshake_timeout(*conn);
}

void ConnActor::handle_actor_event(const supervisor::ActorEvent& event, const Incoming&) {
  if (event.kind() != supervisor::ActorEvent::KIND_STARTED) return;
  if (event.actor() == config_.peers.timer) {
    // The timer actor lost our timers: arm them again with what is left of each.
    size_t rearmed = 0;
    const TimePoint t = now();
    for (uint32_t id : conns_.ids()) {
      Connection* conn = conns_.find(id);
      if (conn == nullptr || conn->state() != ConnState::kSynSent) continue;
      const TimePoint deadline{Nanos(conn->record.deadline_ns)};
      arm_handshake_timer(*conn, deadline > t ? deadline - t : Nanos(0));
      ++rearmed;
    }
    log().info("'{}' restarted (incarnation {}): {} handshake timer(s) re-armed", event.actor(),
               event.incarnation(), rearmed);
  } else if (event.actor() == config_.peers.arp) {
    // Resolutions in flight died with it: ask the new incarnation.
    std::unordered_set<uint32_t> ips;
    for (uint32_t id : conns_.ids()) {
      Connection* conn = conns_.find(id);
      if (conn != nullptr && conn->state() == ConnState::kResolving)
        ips.insert(conn->record.remote_ip);
    }
    for (uint32_t ip : ips) request_resolution(ip);
    if (!ips.empty())
      log().info("'{}' restarted: {} resolution(s) asked again", event.actor(), ips.size());
  }
}

// ---- registration -----------------------------------------------------------------------------

void register_actors(ActorRegistry& registry) {
  registry.add("conn", [](const ActorSpec& spec) -> std::unique_ptr<Actor> {
    auto config = config_from_manifest(spec.manifest, spec.actor.name());
    if (!config) {
      // The factory cannot fail; on_start() refuses with the reason instead.
      return std::make_unique<ConnActor>(spec.actor.name(), ConnConfig{}, config.error().message);
    }
    return std::make_unique<ConnActor>(spec.actor.name(), *config);
  });
}

}  // namespace vtas::conn
