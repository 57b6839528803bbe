// ConnActor: what apps ask (AppRequestIn, relayed by the fast path from a context's kout
// ring), app attach and detach, and the request log that makes relayed-again requests
// harmless. Every request is answered: with its result, or with an error status naming what
// was wrong (-EINVAL for absurd values, -EBADF for ids that are not the app's, -ENOBUFS when
// a bound is reached, -EADDRINUSE / -EADDRNOTAVAIL for addresses).
#include <algorithm>
#include <cerrno>

#include "components/fastpath/abi/app_abi.h"
#include "components/slowpath/conn_actor.h"

namespace vtas::conn {

namespace {

// The event type that answers a request type (TYPE_UNSPECIFIED: none, the type is unknown).
fastpath::AppNotify::Type answer_type(fastpath::AppRequestIn::Type type) {
  using In = fastpath::AppRequestIn;
  using Out = fastpath::AppNotify;
  switch (type) {
    case In::TYPE_CONN_OPEN:
      return Out::TYPE_CONN_OPENED;
    case In::TYPE_CONN_CLOSE:
      return Out::TYPE_CONN_CLOSED;
    case In::TYPE_LISTEN_OPEN:
      return Out::TYPE_LISTEN_OPENED;
    case In::TYPE_LISTEN_CLOSE:
      return Out::TYPE_LISTEN_CLOSED;
    case In::TYPE_ACCEPT:
      return Out::TYPE_ACCEPTED;
    case In::TYPE_CONN_MOVE:
      return Out::TYPE_CONN_MOVED;
    case In::TYPE_REQUEST_SCALE:
      return Out::TYPE_SCALED;
    default:
      return Out::TYPE_UNSPECIFIED;
  }
}

constexpr size_t kMaxRememberedDetachedApps = 4096;

}  // namespace

void ConnActor::handle_app_request_in(const AppRequestIn& request, const Incoming& in) {
  ++counters_.app_requests;
  const bool wants_ack = in.header().kind() == MESSAGE_KIND_REQUEST;
  auto ack = [&](bool ok, const std::string& error) {
    if (!wants_ack) return;
    supervisor::Ack a;
    a.set_ok(ok);
    a.set_error(error);
    reply(in, a);
  };
  const auto type = answer_type(request.type());
  if (type == AppNotify::TYPE_UNSPECIFIED) {
    ++counters_.app_requests_garbage;
    if (log_app()) {
      log().warn("app {} context {}: request {} of unknown type {} ignored", request.app_id(),
                 request.context_id(), request.request_id(), static_cast<int>(request.type()));
    }
    ack(false, "unknown request type " + std::to_string(static_cast<int>(request.type())));
    return;
  }
  if (request.context_id() >= abi::kMaxAppContexts) {
    // No such context can exist; the answer goes nowhere useful, but the fast path sees it.
    answer(request, type, -EINVAL);
    ack(true, "");
    return;
  }
  if (detached_apps_.count(request.app_id()) != 0) {
    // A request that crossed the app's detach: nothing may be created for a gone app.
    ++counters_.app_requests_rejected;
    ack(false, "app " + std::to_string(request.app_id()) + " has detached");
    return;
  }
  if (!known_app(request.app_id())) {
    // The fast path vouches for the app (it relayed from the app's own ring); AppAttached was
    // lost or is still on its way.
    learn_app(request.app_id(), 0, UINT32_MAX);
  }
  if (duplicate_request(request)) {
    ack(true, "");
    return;
  }
  switch (request.type()) {
    case AppRequestIn::TYPE_LISTEN_OPEN:
      listen_open(request);
      break;
    case AppRequestIn::TYPE_LISTEN_CLOSE:
      listen_close(request);
      break;
    case AppRequestIn::TYPE_ACCEPT:
      post_accept(request);
      break;
    case AppRequestIn::TYPE_CONN_OPEN:
      open_connection(request);
      break;
    case AppRequestIn::TYPE_CONN_CLOSE:
      close_connection(request);
      break;
    case AppRequestIn::TYPE_CONN_MOVE:
      move_connection(request);
      break;
    case AppRequestIn::TYPE_REQUEST_SCALE:
      // Core scaling is the `scale` actor's; conn only answers so the app does not wait.
      answer(request, AppNotify::TYPE_SCALED, -EOPNOTSUPP);
      break;
    default:
      break;
  }
  ack(true, "");
}

// ---- listeners ------------------------------------------------------------------------------

void ConnActor::listen_open(const AppRequestIn& request) {
  auto fail = [&](int status) { answer(request, AppNotify::TYPE_LISTEN_OPENED, status); };
  if (request.local_port() == 0 || request.local_port() > 0xffff) return fail(-EINVAL);
  if (request.local_ip() != 0 && config_.local_ip != 0 && request.local_ip() != config_.local_ip) {
    return fail(-EADDRNOTAVAIL);
  }
  if (listeners_.listeners_of_app(request.app_id()).size() >= config_.max_listeners_per_app) {
    return fail(-ENOBUFS);
  }
  const auto port = static_cast<uint16_t>(request.local_port());
  const uint32_t uid = uid_of(request.app_id());
  const int conflict = listeners_.check_add(request.local_ip(), port, request.reuse_port(), uid);
  if (conflict != 0) return fail(conflict);
  ListenerRecord r{};
  r.app_id = request.app_id();
  r.context_id = request.context_id();
  r.local_ip = request.local_ip();
  r.local_port = port;
  r.reuse_port = request.reuse_port() ? 1 : 0;
  r.backlog = std::clamp<uint32_t>(request.backlog(), 1, config_.backlog_max);
  r.opaque = request.opaque();
  r.request_id = request.request_id();
  if (registry_->listeners().full()) {
    ++counters_.registry_full;
    return fail(-ENOBUFS);
  }
  r.listener_id = allocate_listener_id();
  r.order = next_order();
  auto slot = registry_->listeners().insert(r);
  if (!slot) return fail(-ENOBUFS);
  listeners_.add(r, *slot, uid);
  AppNotify n;
  n.set_listener_id(r.listener_id);
  n.set_local_ip(r.local_ip);
  n.set_local_port(r.local_port);
  answer(request, AppNotify::TYPE_LISTEN_OPENED, 0, &n);
}

void ConnActor::listen_close(const AppRequestIn& request) {
  Listener* l = listeners_.find(request.listener_id());
  if (l == nullptr || l->record.app_id != request.app_id()) {
    answer(request, AppNotify::TYPE_LISTEN_CLOSED, -EBADF);
    return;
  }
  AppNotify n;
  n.set_listener_id(l->record.listener_id);
  n.set_local_ip(l->record.local_ip);
  n.set_local_port(l->record.local_port);
  drop_listener(request.listener_id());
  answer(request, AppNotify::TYPE_LISTEN_CLOSED, 0, &n);
}

void ConnActor::drop_listener(uint32_t listener_id) {
  auto removed = listeners_.remove(listener_id);
  if (!removed) return;
  // Waiting SYNs and SYN-RECEIVED entries are dropped: the peers' retransmissions now find a
  // closed port (RST).
  for (const HalfOpen& h : half_open_.remove_listener(listener_id)) forget_handshake(h.syn.slot);
  for (const BacklogSyn& syn : removed->backlog) forget_handshake(syn.slot);
  for (const auto& a : removed->accepts) registry_->accepts().erase(a.slot);
  registry_->listeners().erase(removed->slot);
}

void ConnActor::post_accept(const AppRequestIn& request) {
  Listener* l = listeners_.find(request.listener_id());
  if (l == nullptr || l->record.app_id != request.app_id()) {
    answer(request, AppNotify::TYPE_ACCEPTED, -EBADF);
    return;
  }
  if (l->accepts.size() >= config_.max_accepts_per_listener) {
    answer(request, AppNotify::TYPE_ACCEPTED, -ENOBUFS);
    return;
  }
  for (const PostedAccept& posted : l->accepts) {
    if (posted.record.app_id == request.app_id() &&
        posted.record.context_id == request.context_id() &&
        posted.record.request_id == request.request_id() && request.request_id() != 0) {
      // The same accept, still waiting, asked again after its log entry aged out (an accept
      // can wait for minutes). Posting it twice would hand two connections to one
      // connection object of the app, and one of them would never be read.
      ++counters_.accepts_posted_twice;
      if (log_app()) {
        log().warn("app {} context {}: accept request {} is already posted: copy ignored",
                   request.app_id(), request.context_id(), request.request_id());
      }
      record_deferred(request);
      return;
    }
  }
  AcceptRecord a{};
  a.listener_id = l->record.listener_id;
  a.app_id = request.app_id();
  a.context_id = request.context_id();
  a.request_id = request.request_id();
  a.opaque = request.opaque();
  a.order = next_order();
  if (auto syn = listeners_.pop_syn(*l)) {
    // A SYN waits: answer it now (the accept is used at once and never stored). The
    // connection record is written before the log entry, as for every request.
    passive_open(*l, PostedAccept{a, kNoSlot}, *syn);
    forget_handshake(syn->slot);
    record_deferred(request);
    return;
  }
  auto slot = registry_->accepts().insert(a);
  if (!slot) {
    ++counters_.registry_full;
    answer(request, AppNotify::TYPE_ACCEPTED, -ENOBUFS);
    return;
  }
  listeners_.add_accept(*l, PostedAccept{a, *slot});
  record_deferred(request);
}

void ConnActor::move_connection(const AppRequestIn& request) {
  Connection* conn = conns_.find_flow(request.flow_id());
  // The cookie too: flow ids are reused (see close_connection).
  if (conn == nullptr || conn->record.app_id != request.app_id() ||
      conn->record.opaque != request.opaque()) {
    answer(request, AppNotify::TYPE_CONN_MOVED, -EBADF);
    return;
  }
  if (request.new_context() >= abi::kMaxAppContexts) {
    answer(request, AppNotify::TYPE_CONN_MOVED, -EINVAL);
    return;
  }
  // conn's own record follows the move (its close notifications go to the new context); the
  // flow's event context in the fast path is the fast path's to change.
  conn->record.context_id = request.new_context();
  if (!conn->has(kConnAppClosed)) conn->record.close_context_id = request.new_context();
  save(*conn);
  AppNotify n;
  n.set_flow_id(conn->record.flow_id);
  answer(request, AppNotify::TYPE_CONN_MOVED, 0, &n);
}

// ---- apps -----------------------------------------------------------------------------------

uint32_t ConnActor::uid_of(uint32_t app_id) const {
  auto found = apps_.find(app_id);
  return found == apps_.end() ? UINT32_MAX : found->second.uid;
}

void ConnActor::learn_app(uint32_t app_id, uint32_t pid, uint32_t uid) {
  AppRecord r{};
  r.app_id = app_id;
  r.pid = pid;
  r.uid = uid;
  apps_[app_id] = r;
  auto slot = app_slots_.find(app_id);
  if (slot != app_slots_.end()) {
    registry_->apps().update(slot->second, r);
    return;
  }
  auto inserted = registry_->apps().insert(r);
  if (inserted) {
    app_slots_[app_id] = *inserted;
  } else {
    ++counters_.registry_full;
  }
}

void ConnActor::handle_app_attached(const fastpath::AppAttached& attached, const Incoming&) {
  ++counters_.apps_attached;
  auto existing = apps_.find(attached.app_id());
  if (existing != apps_.end() && existing->second.pid != 0 &&
      existing->second.pid != attached.pid()) {
    // The id was reused and we missed the detach of its previous owner: clean up after it.
    log().warn("app {} attached as pid {} while pid {} still held it: dropping the old state",
               attached.app_id(), attached.pid(), existing->second.pid);
    detach_app(attached.app_id());
  }
  detached_apps_.erase(attached.app_id());
  learn_app(attached.app_id(), attached.pid(), attached.uid());
  log().debug("app {} attached (pid {}, uid {})", attached.app_id(), attached.pid(),
              attached.uid());
}

void ConnActor::handle_app_detached(const fastpath::AppDetached& detached, const Incoming&) {
  detach_app(detached.app_id());
}

void ConnActor::detach_app(uint32_t app_id) {
  ++counters_.apps_detached;
  size_t listeners = 0;
  size_t connections = 0;
  for (uint32_t id : listeners_.listeners_of_app(app_id)) {
    drop_listener(id);
    ++listeners;
  }
  for (uint32_t id : conns_.ids_of_app(app_id)) {
    if (Connection* conn = conns_.find(id)) {
      abort_for_detach(*conn);
      ++connections;
    }
  }
  for (const auto& e : request_log_.remove_app(app_id)) registry_->request_log().erase(e.slot);
  for (auto it = restored_requests_.begin(); it != restored_requests_.end();) {
    it = it->first.app_id == app_id ? restored_requests_.erase(it) : std::next(it);
  }
  auto slot = app_slots_.find(app_id);
  if (slot != app_slots_.end()) {
    registry_->apps().erase(slot->second);
    app_slots_.erase(slot);
  }
  apps_.erase(app_id);
  if (detached_apps_.size() >= kMaxRememberedDetachedApps) detached_apps_.clear();
  detached_apps_.insert(app_id);
  log().info("app {} detached: {} listener(s) and {} connection(s) dropped", app_id, listeners,
             connections);
}

// ---- the request log ------------------------------------------------------------------------

bool ConnActor::duplicate_request(const AppRequestIn& request) {
  if (request.request_id() == 0) return false;
  const RequestKey key{request.app_id(), request.context_id(), request.request_id()};
  if (RequestLogEntry* e = request_log_.find(key)) {
    ++counters_.app_requests_duplicate;
    const RequestLogRecord& r = e->record;
    if (r.answered != 0 && r.notify_type != 0) {
      AppNotify n;
      n.set_app_id(r.app_id);
      n.set_context_id(r.context_id);
      n.set_type(static_cast<AppNotify::Type>(r.notify_type));
      n.set_status(r.status);
      n.set_request_id(r.request_id);
      n.set_opaque(r.opaque);
      n.set_flow_id(r.flow_id);
      n.set_listener_id(r.listener_id);
      n.set_local_ip(r.local_ip);
      n.set_remote_ip(r.remote_ip);
      n.set_local_port(r.local_port);
      n.set_remote_port(r.remote_port);
      send_notify(n);
    }
    return true;
  }
  auto restored = restored_requests_.find(key);
  if (restored == restored_requests_.end()) return false;
  // The previous incarnation executed it (its listener, accept or connection is in the
  // registry) but its log entry is gone: it died before writing it, or the entry was evicted
  // while the request was still pending (an accept can wait for minutes). Log it now, so that
  // every further copy is recognised too: after a restart the fast path's resend and a copy
  // ZeroMQ held for the new incarnation can both arrive.
  ++counters_.app_requests_duplicate;
  const Listener* l = request.type() == AppRequestIn::TYPE_LISTEN_OPEN && restored->second != 0
                          ? listeners_.find(restored->second)
                          : nullptr;
  restored_requests_.erase(restored);
  if (l != nullptr) {
    AppNotify n;
    n.set_listener_id(l->record.listener_id);
    n.set_local_ip(l->record.local_ip);
    n.set_local_port(l->record.local_port);
    answer(request, AppNotify::TYPE_LISTEN_OPENED, 0, &n);  // logs the answer
  } else {
    record_deferred(request);
  }
  return true;
}

void ConnActor::store_request_log(const RequestLogRecord& record) {
  if (record.request_id == 0) return;
  const RequestKey key = key_of(record);
  if (RequestLogEntry* e = request_log_.find(key)) {
    e->record = record;
    registry_->request_log().update(e->slot, record);
    return;
  }
  if (request_log_.full()) {
    if (auto old = request_log_.evict_oldest()) registry_->request_log().erase(old->slot);
  }
  auto slot = registry_->request_log().insert(record);
  if (!slot) {
    ++counters_.registry_full;
    return;
  }
  request_log_.add(record, *slot);
}

void ConnActor::record_deferred(const AppRequestIn& request) {
  if (request.request_id() == 0) return;
  RequestLogRecord r{};
  r.order = next_order();
  r.app_id = request.app_id();
  r.context_id = request.context_id();
  r.request_id = request.request_id();
  r.request_type = static_cast<uint8_t>(request.type());
  r.answered = 0;
  r.opaque = request.opaque();
  store_request_log(r);
}

void ConnActor::record_answered_by_fastpath(uint32_t app_id, uint32_t context_id,
                                            uint32_t request_id) {
  if (request_id == 0) return;
  RequestLogEntry* e = request_log_.find({app_id, context_id, request_id});
  if (e == nullptr) return;
  e->record.answered = 1;
  e->record.notify_type = 0;  // the fast path wrote the answer; nothing for conn to resend
  registry_->request_log().update(e->slot, e->record);
}

void ConnActor::answer(const AppRequestIn& request, AppNotify::Type type, int status,
                       const AppNotify* filled) {
  AppNotify n;
  if (filled != nullptr) n = *filled;
  n.set_app_id(request.app_id());
  n.set_context_id(request.context_id());
  n.set_type(type);
  n.set_status(status);
  n.set_request_id(request.request_id());
  n.set_opaque(request.opaque());
  if (status < 0) {
    ++counters_.app_requests_rejected;
    if (log_app()) {
      log().info("app {} context {}: request {} (type {}) refused: {}", request.app_id(),
                 request.context_id(), request.request_id(), static_cast<int>(request.type()),
                 status);
    }
  }
  if (request.request_id() != 0 && request.context_id() < abi::kMaxAppContexts) {
    RequestLogRecord r{};
    const RequestLogEntry* existing =
        request_log_.find({request.app_id(), request.context_id(), request.request_id()});
    r.order = existing != nullptr ? existing->record.order : next_order();
    r.app_id = n.app_id();
    r.context_id = n.context_id();
    r.request_id = n.request_id();
    r.request_type = static_cast<uint8_t>(request.type());
    r.answered = 1;
    r.notify_type = static_cast<uint8_t>(type);
    r.status = status;
    r.flow_id = n.flow_id();
    r.opaque = n.opaque();
    r.listener_id = n.listener_id();
    r.local_ip = n.local_ip();
    r.remote_ip = n.remote_ip();
    r.local_port = static_cast<uint16_t>(n.local_port());
    r.remote_port = static_cast<uint16_t>(n.remote_port());
    store_request_log(r);
  }
  send_notify(n);
}

void ConnActor::send_notify(const AppNotify& notify) {
  send(config_.peers.fastpath, notify);
}

}  // namespace vtas::conn
