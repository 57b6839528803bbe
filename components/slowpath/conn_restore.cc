// ConnActor start-up: opening the registry, rebuilding the tables from it (each record
// checked, bad ones dropped and logged), resuming what was in flight when the previous
// incarnation died, and the periodic housekeeping.
#include <algorithm>
#include <cerrno>
#include <set>
#include <tuple>

#include "components/slowpath/conn_actor.h"
#include "components/slowpath/registry_validation.h"

namespace vtas::conn {

Status ConnActor::open_registry() {
  // Incarnation 1 is the first start of this instance: a file left by an earlier run of the
  // instance (after a crash of the whole host service) describes apps and flows that no
  // longer exist. Later incarnations are restarts of conn alone: resume.
  const auto mode = incarnation() > 1 ? ConnRegistry::Mode::kResume : ConnRegistry::Mode::kFresh;
  auto registry = ConnRegistry::open(config_.registry_path, config_.registry_capacity, mode);
  if (!registry) return registry.error();
  registry_.emplace(std::move(*registry));
  if (!registry_->fresh_reason().empty()) log().error("{}", registry_->fresh_reason());
  if (registry_->resumed() && registry_->capacity().conns != config_.registry_capacity.conns) {
    log().info("registry keeps its capacities ({} connections) until the instance restarts",
               registry_->capacity().conns);
  }
  time_wait_ = TimeWaitTable(registry_->capacity().time_wait);
  request_log_ = RequestLog(registry_->capacity().request_log);
  return Status();
}

namespace {

template <class Record>
bool by_order(const std::pair<SlotId, Record>& a, const std::pair<SlotId, Record>& b) {
  return a.second.order < b.second.order;
}

}  // namespace

void ConnActor::restore(RegistryContents contents) {
  for (const auto& [table, stats] : contents.stats) {
    if (stats.dropped_corrupt > 0 || stats.recovered_older > 0) {
      log().warn(
          "registry table '{}': {} entr(y/ies) dropped (checksum), {} recovered from the "
          "previous copy (torn write)",
          table, stats.dropped_corrupt, stats.recovered_older);
    }
  }
  counters_.registry_dropped += contents.dropped_corrupt();
  // One line per dropped record, up to a point (a registry full of garbage must not flood).
  constexpr uint64_t kDropLines = 20;
  uint64_t dropped_here = 0;
  auto drop = [this, &dropped_here](const char* what, const std::string& why) {
    ++counters_.registry_dropped;
    if (++dropped_here <= kDropLines) log().warn("registry: dropped a {} record: {}", what, why);
  };

  // Meta: ids and the ISN key continue where the previous incarnation left them.
  if (contents.has_meta) {
    meta_ = contents.meta;
  } else {
    const SipKey key = config_.isn_key.value_or(random_sip_key());
    meta_ = MetaRecord{};
    meta_.isn_key0 = key.k0;
    meta_.isn_key1 = key.k1;
    meta_.next_conn_id = 1;
    meta_.next_listener_id = 1;
    meta_.next_order = 1;
  }
  isn_ = IsnGenerator(SipKey{meta_.isn_key0, meta_.isn_key1});

  for (const auto& [slot, r] : contents.apps) {
    std::string why = check_record(r);
    if (why.empty() && apps_.count(r.app_id) != 0)
      why = "duplicate app " + std::to_string(r.app_id);
    if (!why.empty()) {
      drop("app", why);
      registry_->apps().erase(slot);
      continue;
    }
    apps_[r.app_id] = r;
    app_slots_[r.app_id] = slot;
  }

  std::sort(contents.listeners.begin(), contents.listeners.end(), by_order<ListenerRecord>);
  for (auto& [slot, r] : contents.listeners) {
    std::string why = check_record(r);
    if (why.empty() && listeners_.find(r.listener_id) != nullptr) why = "duplicate listener id";
    if (why.empty() && config_.local_ip != 0 && r.local_ip != 0 && r.local_ip != config_.local_ip) {
      why = "address " + ipv4_to_string(r.local_ip) + " is not ours";
    }
    const uint32_t uid = uid_of(r.app_id);
    if (why.empty() &&
        listeners_.check_add(r.local_ip, r.local_port, r.reuse_port != 0, uid) != 0) {
      why = "conflicts with another listener on port " + std::to_string(r.local_port);
    }
    if (!why.empty()) {
      drop("listener", why);
      registry_->listeners().erase(slot);
      continue;
    }
    r.backlog = std::min(r.backlog, config_.backlog_max);
    listeners_.add(r, slot, uid);
    if (r.request_id != 0) {
      restored_requests_[{r.app_id, r.context_id, r.request_id}] = r.listener_id;
    }
  }

  // An accept a connection record names was used already: a kill between writing that
  // record and erasing the accept must not post it again (two connections would be handed
  // to one connection object of the app, and one of them never read).
  std::set<std::tuple<uint32_t, uint32_t, uint32_t>> used_accepts;
  for (const auto& [slot, r] : contents.conns) {
    if (r.request_id != 0 && r.role == static_cast<uint8_t>(ConnRole::kPassive)) {
      used_accepts.insert({r.app_id, r.context_id, r.request_id});
    }
  }
  std::sort(contents.accepts.begin(), contents.accepts.end(), by_order<AcceptRecord>);
  std::set<std::tuple<uint32_t, uint32_t, uint32_t>> posted_accepts;
  for (const auto& [slot, r] : contents.accepts) {
    std::string why = check_record(r);
    if (why.empty() && r.request_id != 0 &&
        used_accepts.count({r.app_id, r.context_id, r.request_id}) != 0) {
      why = "a connection already used it";
    }
    if (why.empty() && r.request_id != 0 &&
        !posted_accepts.insert({r.app_id, r.context_id, r.request_id}).second) {
      why = "the same accept request is posted already";
    }
    Listener* l = listeners_.find(r.listener_id);
    if (why.empty() && (l == nullptr || l->record.app_id != r.app_id)) {
      why = "its listener " + std::to_string(r.listener_id) + " is gone";
    }
    if (!why.empty()) {
      drop("accept", why);
      registry_->accepts().erase(slot);
      continue;
    }
    listeners_.add_accept(*l, PostedAccept{r, slot});
    if (r.request_id != 0) restored_requests_[{r.app_id, r.context_id, r.request_id}] = 0;
  }

  for (const auto& [slot, r] : contents.conns) {
    std::string why = check_record(r);
    if (why.empty() && conns_.find(r.conn_id) != nullptr) why = "duplicate conn id";
    if (why.empty() && conns_.find(tuple_of(r)) != nullptr) why = "duplicate 4-tuple";
    if (why.empty() && r.flow_id != 0) {
      if (Connection* other = conns_.find_flow(r.flow_id)) {
        // The fast path reuses a flow id only once it removed the flow: of two records
        // naming one id, the one whose removal was under way is stale (the previous
        // incarnation died before the fast path's answer). The other is a live connection
        // the app will close: dropping it instead would leave its flow behind for ever.
        const bool other_stale = other->has(kConnRemoveSent);
        if (other_stale && (r.flags & kConnRemoveSent) == 0) {
          drop("connection", "flow id " + std::to_string(r.flow_id) + " reused by " +
                                 to_string(tuple_of(r)) + " after its removal");
          registry_->conns().erase(other->slot);
          conns_.remove(other->record.conn_id);
        } else {
          why = "duplicate flow id";
        }
      }
    }
    if (!why.empty()) {
      drop("connection", why);
      registry_->conns().erase(slot);
      continue;
    }
    conns_.add(r, slot);
    if (r.request_id != 0) restored_requests_[{r.app_id, r.context_id, r.request_id}] = 0;
    if (r.close_request_id != 0 && (r.flags & kConnAppClosed) != 0) {
      restored_requests_[{r.app_id, r.close_context_id, r.close_request_id}] = 0;
    }
  }

  // Passive handshakes, after the listeners and connections they are checked against. One
  // whose tuple has a connection record is the leftover of a kill between writing that
  // record and erasing this one.
  for (const auto& [slot, r] : contents.handshakes) {
    std::string why = check_record(r);
    Listener* l = why.empty() ? listeners_.find(r.listener_id) : nullptr;
    if (why.empty() && l == nullptr) why = "its listener " + std::to_string(r.listener_id) + " is gone";
    const FourTuple tuple = tuple_of(r);
    if (why.empty() && conns_.find(tuple) != nullptr) why = "tuple has a connection";
    if (why.empty() && (half_open_.find(tuple) != nullptr || listeners_.syn_waiting(tuple))) {
      why = "duplicate 4-tuple";
    }
    if (why.empty()) why = restore_handshake(*l, r, slot);
    if (!why.empty()) {
      drop("handshake", why);
      registry_->handshakes().erase(slot);
    }
  }

  const uint64_t t = now_ns();
  for (const auto& [slot, r] : contents.time_wait) {
    std::string why = check_record(r, t, config_.time_wait);
    // Beside a connection whose removal is under way (written just before it): both stay.
    const Connection* holder = conns_.find(tuple_of(r));
    if (why.empty() && holder != nullptr && !holder->has(kConnRemoveSent)) {
      why = "tuple has a connection";
    }
    if (why.empty() && !time_wait_.add(r, slot)) why = "TIME_WAIT table full";
    if (!why.empty()) {
      drop("TIME_WAIT", why);
      registry_->time_wait().erase(slot);
    }
  }

  std::sort(contents.request_log.begin(), contents.request_log.end(), by_order<RequestLogRecord>);
  for (const auto& [slot, r] : contents.request_log) {
    std::string why = check_record(r);
    if (why.empty() && request_log_.find(key_of(r)) != nullptr) why = "duplicate request";
    if (!why.empty()) {
      drop("request log", why);
      registry_->request_log().erase(slot);
      continue;
    }
    if (request_log_.full()) {
      if (auto old = request_log_.evict_oldest()) registry_->request_log().erase(old->slot);
    }
    request_log_.add(r, slot);
    restored_requests_.erase(key_of(r));
  }

  if (dropped_here > kDropLines) {
    log().warn("registry: {} more invalid record(s) dropped", dropped_here - kDropLines);
  }

  // Ids never go back, whatever the meta record says.
  for (uint32_t id : conns_.ids()) meta_.next_conn_id = std::max(meta_.next_conn_id, id + 1);
  listeners_.for_each([this](const Listener& l) {
    meta_.next_listener_id = std::max(meta_.next_listener_id, l.record.listener_id + 1);
    meta_.next_order = std::max(meta_.next_order, l.record.order + 1);
    for (const auto& a : l.accepts)
      meta_.next_order = std::max(meta_.next_order, a.record.order + 1);
  });
  store_meta();
  counters_.registry_restored += apps_.size() + listeners_.size() + listeners_.accepts_posted() +
                                 conns_.size() + time_wait_.size() + request_log_.size() +
                                 half_open_.size() + listeners_.queued_syns();
}

std::string ConnActor::restore_handshake(Listener& listener, const HandshakeRecord& r,
                                         SlotId slot) {
  BacklogSyn syn = backlog_syn_of(r);
  syn.slot = slot;
  if (r.stage == static_cast<uint8_t>(HandshakeStage::kAwaitingAccept)) {
    return listeners_.enqueue_syn(listener, syn) == ListenerTable::Enqueue::kQueued
               ? ""
               : "the listener's backlog is full";
  }
  HalfOpen entry;
  entry.syn = syn;
  entry.listener_id = r.listener_id;
  entry.retransmits = r.retransmits;
  entry.rto = std::chrono::microseconds(r.rto_us);
  entry.generation = next_half_open_generation_++;
  entry.deadline = TimePoint(Nanos(r.deadline_ns));
  const uint32_t share = std::max<uint32_t>(listener.record.backlog, 1);
  return half_open_.add(entry, share) == SynReceivedTable::Add::kAdded
             ? ""
             : "the SYN-RECEIVED table is full";
}

namespace {
// A graceful close normally ends within a few RTTs; one still waiting for the flow after this
// long is asked about (reconcile_flow), at most this many per housekeeping round
// (and at a restart).
constexpr Nanos kReconcileAfter = std::chrono::seconds(2);
constexpr uint32_t kReconcilesPerRound = 1024;
}  // namespace

void ConnActor::resume_in_flight_work() {
  const TimePoint t = now();
  uint32_t reconciles = 0;
  // SYN-ACK retransmissions go on where they were (at once if their time passed meanwhile).
  half_open_.for_each([this, t](const HalfOpen& h) {
    arm_syn_ack_timer(h.syn.syn.tuple, h.generation, h.deadline > t ? h.deadline - t : Nanos(0));
  });
  for (uint32_t id : conns_.ids()) {
    Connection* conn = conns_.find(id);
    if (conn == nullptr) continue;
    switch (conn->state()) {
      case ConnState::kResolving:
        resolve_next_hop(*conn);
        break;
      case ConnState::kSynSent: {
        const TimePoint deadline{Nanos(conn->record.deadline_ns)};
        arm_handshake_timer(*conn, deadline > t ? deadline - t : Nanos(0));
        break;
      }
      case ConnState::kInstalling:
        // The answer went to the previous incarnation. InstallFlow is idempotent per 4-tuple
        // on the fast path's side (an installed tuple is answered with its flow).
        conn->record.install_attempts = 0;
        send_install(*conn);
        break;
      case ConnState::kClosing: {
        if (conn->has(kConnRemoveSent)) {
          // Its RemoveFlow may have died queued in the previous incarnation: send it again.
          ++counters_.removal_retries;
          send_removal(*conn, /*resend=*/true);
          break;
        }
        // A FlowQuery in flight died with the previous incarnation: ask again.
        conn->record.flags &= ~uint32_t{kConnQuerySent};
        const uint32_t conn_id = conn->record.conn_id;
        maybe_finish(*conn);
        // FlowEvents the fast path sent while we were down are lost: ask about the flow now
        // rather than after housekeeping's 2 s. Meanwhile the peer may already reuse the
        // port (Linux reuses its TIME_WAIT ports after 1 s) and meet the old flow.
        conn = conns_.find(conn_id);
        if (conn != nullptr && conn->state() == ConnState::kClosing && conn->record.flow_id != 0 &&
            !conn->has(kConnFlowClosed) && !conn->has(kConnFlowReset) &&
            reconciles < kReconcilesPerRound) {
          ++reconciles;
          reconcile_flow(*conn);
        }
        break;
      }
      case ConnState::kEstablished:
      case ConnState::kFree:
        break;
    }
  }
}

void ConnActor::housekeeping() {
  const TimePoint t = now();
  const uint64_t t_ns = to_ns(t);
  for (const TimeWaitEntry& e : time_wait_.expire(t_ns)) release_time_wait(e);
  for (const BacklogSyn& syn : listeners_.expire_syns(t - config_.backlog_syn_lifetime)) {
    forget_handshake(syn.slot);
    ++counters_.syns_expired;
  }

  uint32_t reconciles = 0;
  for (uint32_t id : conns_.ids()) {
    Connection* conn = conns_.find(id);
    if (conn == nullptr) continue;
    const uint64_t deadline = conn->record.deadline_ns;
    if (conn->state() == ConnState::kSynSent &&
        deadline + static_cast<uint64_t>(config_.timer_grace.count()) <= t_ns) {
      // `timer` did not deliver this expiry (it may be restarting): run it ourselves.
      ++counters_.timer_fallbacks;
      handshake_timeout(*conn);
      continue;
    }
    // A graceful close the app asked for, still waiting for the flow to finish.
    const bool close_waits = conn->state() == ConnState::kClosing && conn->has(kConnAppClosed) &&
                             !conn->has(kConnFlowClosed) && !conn->has(kConnFlowReset) &&
                             !conn->has(kConnRemoveSent) && deadline != 0;
    if (!close_waits) continue;
    if (deadline <= t_ns) {
      ++counters_.close_timeouts;
      if (log_peer()) {
        log().info("{}: peer did not finish closing within {} s: reset",
                   to_string(tuple_of(conn->record)),
                   std::chrono::duration_cast<std::chrono::seconds>(config_.close_timeout).count());
      }
      remove_flow(*conn, /*send_reset=*/true);
    } else if (deadline - static_cast<uint64_t>(config_.close_timeout.count()) +
                       static_cast<uint64_t>(kReconcileAfter.count()) <= t_ns &&
               reconciles < kReconcilesPerRound) {
      // Closing longer than a close normally takes: ask the fast path whether a FlowEvent got
      // lost (sent while this actor was restarting) before close_timeout resets the peer.
      ++reconciles;
      reconcile_flow(*conn);
    }
  }
}

}  // namespace vtas::conn
