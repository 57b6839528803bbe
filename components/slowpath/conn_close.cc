// ConnActor: the end of a connection. The fast path reports the flow's FINs, its close and
// resets (FlowEvent); the app says when it is done with the connection (CONN_CLOSE, graceful
// or abortive). A flow leaves the fast path (RemoveFlow, with the app's CONN_CLOSED) once
//   - it was reset (by the peer, or the app asked for an abortive close), or
//   - both directions are closed AND the app closed it (its unread data stays readable until
//     then), or
//   - the app closed it gracefully and the peer did not finish within close_timeout (RST).
// If our FIN was acknowledged before the peer's FIN arrived we closed first: the 4-tuple then
// stays in TIME_WAIT for 2*MSL (its sequence numbers asked from the fast path first).
// Ordering assumption: the fast path reports TX_FIN_ACKED before RX_FIN when one segment
// carries both (RFC 9293 processes the ACK before the FIN).
#include <cerrno>

#include "components/fastpath/abi/flow_state.h"
#include "components/slowpath/conn_actor.h"

namespace vtas::conn {

void expect_connection(const ConnRecord& r, fastpath::FlowTuple* expect) {
  expect->set_local_ip(r.local_ip);
  expect->set_remote_ip(r.remote_ip);
  expect->set_local_port(r.local_port);
  expect->set_remote_port(r.remote_port);
}

fastpath::FlowQuery flow_query_for(const ConnRecord& r) {
  fastpath::FlowQuery query;
  query.set_flow_id(r.flow_id);
  expect_connection(r, query.mutable_expect());
  return query;
}

void ConnActor::handle_flow_event(const fastpath::FlowEvent& event, const Incoming&) {
  ++counters_.flow_events;
  Connection* conn = connection_of_event(event);
  if (conn == nullptr) {
    ++counters_.flow_events_unknown;
    if (event.flow_id() != 0 && (event.kind() == fastpath::FlowEvent::KIND_CLOSED ||
                                 event.kind() == fastpath::FlowEvent::KIND_RESET)) {
      // A flow conn has no record of (its install answer was lost): do not leak it. Only
      // if the id still names that connection: the event may be late, its id reused.
      fastpath::RemoveFlow remove;
      remove.set_flow_id(event.flow_id());
      remove.set_send_reset(false);
      *remove.mutable_expect() = event.tuple();
      send(config_.peers.fastpath, remove);
      ++counters_.flows_removed;
    }
    return;
  }
  if (!apply_flow_event(*conn, event.kind())) {
    ++counters_.flow_events_unknown;
    if (log_peer())
      log().warn("FlowEvent of unknown kind {} for flow {}", event.kind(), event.flow_id());
  }
}

Connection* ConnActor::connection_of_event(const fastpath::FlowEvent& event) {
  Connection* by_id = conns_.find_flow(event.flow_id());
  const fastpath::FlowTuple& t = event.tuple();
  if (t.remote_port() == 0) return by_id;  // no tuple (a test's event): the id alone
  const FourTuple tuple{t.local_ip(), t.remote_ip(), static_cast<uint16_t>(t.local_port()),
                        static_cast<uint16_t>(t.remote_port())};
  if (by_id != nullptr && tuple_of(by_id->record) == tuple) return by_id;
  // Not the connection that holds the id here. The fast path sends events and answers
  // requests over different sockets, so an event can overtake the answer to the install
  // of its own flow: the connection still installing learns its flow from the event (the
  // answer, when it comes, finds it established). Removing the "unknown" flow instead, as
  // this once did, took the connection's flow away behind its app's back.
  Connection* by_tuple = conns_.find(tuple);
  if (by_tuple != nullptr && by_tuple->state() == ConnState::kInstalling) {
    ++counters_.installs_learned_from_events;
    flow_installed(*by_tuple, event.flow_id());
    return by_tuple;
  }
  // Else a late event of a flow that is gone (its id reused since): about nobody here.
  return nullptr;
}

void ConnActor::drop_stale_connection(Connection& conn) {
  ++counters_.stale_records_dropped;
  send_notify(closed_notify_of(conn));
  drop_connection(conn.record.conn_id);
}

bool ConnActor::apply_flow_event(Connection& conn, fastpath::FlowEvent::Kind kind) {
  switch (kind) {
    case fastpath::FlowEvent::KIND_RX_FIN:
      conn.set(kConnRxFin);
      save(conn);
      return true;
    case fastpath::FlowEvent::KIND_TX_FIN_ACKED:
      if (!conn.has(kConnRxFin)) conn.set(kConnClosedFirst);
      conn.set(kConnTxFinAcked);
      save(conn);
      return true;
    case fastpath::FlowEvent::KIND_CLOSED:
      // Without the FIN events we cannot tell who closed first: keep TIME_WAIT to be safe.
      if (!conn.has(kConnRxFin) && !conn.has(kConnTxFinAcked)) conn.set(kConnClosedFirst);
      conn.set(kConnFlowClosed);
      conns_.set_state(conn, ConnState::kClosing);
      maybe_finish(conn);
      return true;
    case fastpath::FlowEvent::KIND_RESET:
      ++counters_.resets_by_peer;
      conn.set(kConnFlowReset);
      conns_.set_state(conn, ConnState::kClosing);
      maybe_finish(conn);
      return true;
    default:
      return false;
  }
}

void ConnActor::reconcile_flow(Connection& conn) {
  const uint32_t conn_id = conn.record.conn_id;
  const uint32_t flow_id = conn.record.flow_id;
  if (!reconciling_.insert(conn_id).second) return;
  ++counters_.flow_reconciles;
  request(
      config_.peers.fastpath, flow_query_for(conn.record),
      [this, conn_id, flow_id](const Envelope* response) {
        on_reconcile_answer(conn_id, flow_id, response);
      },
      config_.flow_query_timeout);
}

void ConnActor::on_reconcile_answer(uint32_t conn_id, uint32_t flow_id, const Envelope* response) {
  reconciling_.erase(conn_id);
  Connection* conn = conns_.find(conn_id);
  if (conn == nullptr || conn->record.flow_id != flow_id || conn->state() != ConnState::kClosing ||
      conn->has(kConnFlowClosed) || conn->has(kConnFlowReset) || conn->has(kConnRemoveSent)) {
    return;  // settled meanwhile
  }
  if (response == nullptr || !response->has_flow_info()) return;  // asked again next round
  const auto& info = response->flow_info();
  if (!info.ok() || info.flow_id() != flow_id) {
    // The fast path has no such flow (it restarted without it): nothing can finish the close.
    apply_flow_event(*conn, fastpath::FlowEvent::KIND_RESET);
    return;
  }
  const uint32_t flags = info.flags();
  if (flags & abi::kFlowReset) {
    apply_flow_event(*conn, fastpath::FlowEvent::KIND_RESET);
  } else if ((flags & abi::kFlowRxFin) && (flags & abi::kFlowTxFinAcked)) {
    ++counters_.flow_events_recovered;
    // CLOSED alone: who closed first is unknown unless a FIN event got through, and then
    // TIME_WAIT is kept (the safe side).
    apply_flow_event(*conn, fastpath::FlowEvent::KIND_CLOSED);
  } else {
    if ((flags & abi::kFlowRxFin) && !conn->has(kConnRxFin)) {
      ++counters_.flow_events_recovered;
      apply_flow_event(*conn, fastpath::FlowEvent::KIND_RX_FIN);
    }
    if ((flags & abi::kFlowTxFinAcked) && !conn->has(kConnTxFinAcked)) {
      ++counters_.flow_events_recovered;
      apply_flow_event(*conn, fastpath::FlowEvent::KIND_TX_FIN_ACKED);
    }
  }
}

void ConnActor::close_connection(const AppRequestIn& request) {
  ++counters_.closes;
  if (request.flow_id() == 0) {
    // Closing a connection still opening: the app knows it by its cookie only.
    for (uint32_t id : conns_.ids_of_app(request.app_id())) {
      Connection* conn = conns_.find(id);
      if (conn == nullptr || conn->record.opaque != request.opaque() ||
          conn->record.role != static_cast<uint8_t>(ConnRole::kActive) ||
          (conn->state() != ConnState::kResolving && conn->state() != ConnState::kSynSent)) {
        continue;
      }
      if (conn->state() == ConnState::kSynSent && reply_allowed()) {
        // Our SYN may be answered: tell the peer we gave up (<SEQ=ISN+1><CTL=RST>).
        fastpath::PacketOut out;
        out.set_frame(build_rst(path_of(*conn), conn->record.local_isn + 1, 0, false));
        send(config_.peers.fastpath, out);
        ++counters_.rsts_sent;
      }
      fail_open(*conn, -ECONNABORTED);
      answer(request, AppNotify::TYPE_CONN_CLOSED, 0);
      return;
    }
    answer(request, AppNotify::TYPE_CONN_CLOSED, -EBADF);
    return;
  }
  Connection* conn = conns_.find_flow(request.flow_id());
  if (conn == nullptr || conn->record.opaque != request.opaque()) {
    // Not known under this flow id as the connection the app means (its cookie says which).
    // Flow ids are reused: a close relayed again after a restart can be seconds old, and a
    // record whose removal was under way can still hold an id the fast path reused. And
    // after a restart conn may not know a flow the app already has: the app heard ACCEPTED
    // from the fast path, but the install's answer went to the previous incarnation.
    Connection* own = find_app_connection(request.app_id(), request.opaque());
    if (own != nullptr && own->state() == ConnState::kInstalling) {
      // Refused for now (not EBADF: the app would drop the connection and leave the flow
      // behind); libvtas asks again.
      answer(request, AppNotify::TYPE_CONN_CLOSED, -ENOBUFS);
      ++counters_.closes_deferred;
      return;
    }
    if (own == nullptr) {
      if (conn != nullptr) ++counters_.stale_closes;
      answer(request, AppNotify::TYPE_CONN_CLOSED, -EBADF);
      return;
    }
    conn = own;
  }
  if (conn->record.app_id != request.app_id()) {
    answer(request, AppNotify::TYPE_CONN_CLOSED, -EBADF);
    return;
  }
  if (conn->has(kConnAppClosed)) {
    answer(request, AppNotify::TYPE_CONN_CLOSED, -EALREADY);
    return;
  }
  conn->set(kConnAppClosed);
  conn->record.close_request_id = request.request_id();
  conn->record.close_context_id = request.context_id();
  conns_.set_state(*conn, ConnState::kClosing);
  if (conn->has(kConnRemoveSent)) {
    // The flow's removal is under way already (the peer reset it, say) and its message
    // answers no close: answer this one now, or it stays unanswered in the fast path, which
    // relays it again after every conn restart.
    save(*conn);
    answer(request, AppNotify::TYPE_CONN_CLOSED, 0);
    return;
  }
  if (request.reset()) {
    ++counters_.aborts;
    conn->set(kConnAbort);
    save(*conn);
    record_deferred(request);
    remove_flow(*conn, /*send_reset=*/true);
    return;
  }
  conn->record.deadline_ns = now_ns() + static_cast<uint64_t>(config_.close_timeout.count());
  save(*conn);
  record_deferred(request);
  maybe_finish(*conn);
}

Connection* ConnActor::find_app_connection(uint32_t app_id, uint64_t cookie) {
  for (uint32_t id : conns_.ids_of_app(app_id)) {
    Connection* conn = conns_.find(id);
    if (conn != nullptr && conn->record.opaque == cookie) return conn;
  }
  return nullptr;
}

void ConnActor::maybe_finish(Connection& conn) {
  if (conn.has(kConnRemoveSent)) return;  // finished already, the removal is under way
  if (conn.has(kConnFlowReset)) {
    remove_flow(conn, /*send_reset=*/false);
    return;
  }
  if (!conn.has(kConnFlowClosed) || !conn.has(kConnAppClosed)) {
    save(conn);  // wait for the other half
    return;
  }
  if (conn.has(kConnClosedFirst)) {
    if (!conn.has(kConnQuerySent)) query_for_time_wait(conn);
    return;
  }
  // Passive close: no TIME_WAIT (the peer keeps it), but a short linger. Segments the peer
  // sends after the flow is gone (its TIME_WAIT ACKing a FIN our timer resent before the
  // peer's ACK of it reached us) would otherwise meet "no connection" and get a RST, which
  // also cuts the peer's TIME_WAIT short.
  enter_time_wait(conn, /*linger=*/true);
  remove_flow(conn, /*send_reset=*/false);
}

void ConnActor::query_for_time_wait(Connection& conn) {
  conn.set(kConnQuerySent);
  save(conn);
  const uint32_t conn_id = conn.record.conn_id;
  request(
      config_.peers.fastpath, flow_query_for(conn.record),
      [this, conn_id](const Envelope* response) { on_flow_info(conn_id, response); },
      config_.flow_query_timeout);
}

void ConnActor::on_flow_info(uint32_t conn_id, const Envelope* response) {
  Connection* conn = conns_.find(conn_id);
  if (conn == nullptr || !conn->has(kConnQuerySent) || conn->has(kConnRemoveSent)) return;
  if (response != nullptr && response->has_flow_info() && response->flow_info().ok() &&
      response->flow_info().flow_id() == conn->record.flow_id) {
    conn->record.snd_nxt = response->flow_info().tx_next_seq();
    conn->record.rcv_nxt = response->flow_info().rx_next_seq();
    conn->set(kConnSeqsKnown);
  }
  // Without an answer the TIME_WAIT entry derives its answers from the peer's segments.
  enter_time_wait(*conn);
  remove_flow(*conn, /*send_reset=*/false);
}

void ConnActor::enter_time_wait(const Connection& conn, bool linger) {
  TimeWaitRecord tw{};
  tw.local_ip = conn.record.local_ip;
  tw.remote_ip = conn.record.remote_ip;
  tw.local_port = conn.record.local_port;
  tw.remote_port = conn.record.remote_port;
  tw.snd_nxt = conn.record.snd_nxt;
  tw.rcv_nxt = conn.record.rcv_nxt;
  tw.ts_recent = conn.record.ts_recent;
  const Nanos hold = linger ? std::min<Nanos>(config_.time_wait, kPassiveCloseLinger)
                            : Nanos(config_.time_wait);
  tw.expires_ns = now_ns() + static_cast<uint64_t>(hold.count());
  tw.flags = static_cast<uint8_t>((conn.has(kConnTimestamps) ? kTimeWaitTimestamps : 0) |
                                  (conn.has(kConnSeqsKnown) ? kTimeWaitSeqsKnown : 0) |
                                  (conn.has(kConnEphemeralPort) ? kTimeWaitEphemeral : 0) |
                                  (linger ? kTimeWaitLinger : 0));
  if (linger && time_wait_.full()) return;  // a nicety only: never at a TIME_WAIT's expense
  if (time_wait_.full()) {
    ++counters_.time_wait_overflow;
    if (log_peer())
      log().warn("TIME_WAIT table full ({}): {} released at once", time_wait_.size(),
                 to_string(tuple_of(conn.record)));
    return;
  }
  auto slot = registry_->time_wait().insert(tw);
  if (!slot) {
    ++counters_.registry_full;
    ++counters_.time_wait_overflow;
    return;
  }
  time_wait_.add(tw, *slot);
  ++(linger ? counters_.close_lingers : counters_.time_wait_entered);
}

void ConnActor::release_time_wait(const TimeWaitEntry& entry) {
  // The port needs no bookkeeping: it is free once no tuple holds it (port_allocator.h).
  registry_->time_wait().erase(entry.slot);
}

void ConnActor::remove_flow(Connection& conn, bool send_reset) {
  if (conn.has(kConnRemoveSent)) return;  // under way
  if (conn.has(kConnAppClosed) && conn.record.close_request_id != 0) {
    RequestLogEntry* e = request_log_.find(
        {conn.record.app_id, conn.record.close_context_id, conn.record.close_request_id});
    if (e != nullptr) {
      e->record.answered = 1;
      e->record.notify_type = static_cast<uint8_t>(AppNotify::TYPE_CONN_CLOSED);
      e->record.status = 0;
      e->record.flow_id = conn.record.flow_id;
      e->record.opaque = conn.record.opaque;
      registry_->request_log().update(e->slot, e->record);
    }
  }
  // The record stays until the fast path confirms (on_flow_removed): a RemoveFlow queued in
  // ZeroMQ when conn is killed is lost, and without the record nothing would ever send it
  // again (the flow would stay, and meet the peer's next connection on that port).
  conn.set(kConnRemoveSent);
  if (send_reset) conn.set(kConnRemoveReset);
  conns_.set_state(conn, ConnState::kClosing);
  save(conn);
  send_removal(conn, /*resend=*/false);
  ++counters_.flows_removed;
}

void ConnActor::send_removal(Connection& conn, bool resend) {
  fastpath::RemoveFlow remove;
  remove.set_flow_id(conn.record.flow_id);
  remove.set_send_reset(conn.has(kConnRemoveReset));
  remove.set_resend(resend);
  expect_connection(conn.record, remove.mutable_expect());
  *remove.mutable_notify() = closed_notify_of(conn);
  const uint32_t conn_id = conn.record.conn_id;
  request(
      config_.peers.fastpath, remove,
      [this, conn_id](const Envelope* response) { on_flow_removed(conn_id, response); },
      config_.flow_query_timeout);
}

fastpath::AppNotify ConnActor::closed_notify_of(const Connection& conn) const {
  fastpath::AppNotify n;
  n.set_app_id(conn.record.app_id);
  n.set_type(AppNotify::TYPE_CONN_CLOSED);
  n.set_opaque(conn.record.opaque);
  n.set_flow_id(conn.record.flow_id);
  n.set_local_ip(conn.record.local_ip);
  n.set_remote_ip(conn.record.remote_ip);
  n.set_local_port(conn.record.local_port);
  n.set_remote_port(conn.record.remote_port);
  if (conn.has(kConnAppClosed)) {
    // The answer to the app's CONN_CLOSE.
    n.set_context_id(conn.record.close_context_id);
    n.set_request_id(conn.record.close_request_id);
    n.set_status(0);
  } else {
    n.set_context_id(conn.record.context_id);
    n.set_status(conn.has(kConnFlowReset) ? -ECONNRESET : 0);
  }
  return n;
}

void ConnActor::on_flow_removed(uint32_t conn_id, const Envelope* response) {
  Connection* conn = conns_.find(conn_id);
  if (conn == nullptr || !conn->has(kConnRemoveSent)) return;
  if (response == nullptr) {
    // No answer (the fast path is busy or restarting): ask again; the fast path tells a
    // repeated removal from the first (the app hears of the close once).
    ++counters_.removal_retries;
    send_removal(*conn, /*resend=*/true);
    return;
  }
  // A SYN that reused the tuple while the removal was under way goes back to the fast path,
  // which has no flow for it now: it comes back to us as a connection request.
  release_held_frames(conn_id, /*replay=*/true);
  drop_connection(conn_id);
}

void ConnActor::abort_for_detach(Connection& conn) {
  switch (conn.state()) {
    case ConnState::kResolving:
    case ConnState::kSynSent:
    case ConnState::kInstalling:
      // An install answered later finds no record and removes its flow (conn_install.cc).
      drop_connection(conn.record.conn_id);
      return;
    case ConnState::kEstablished:
    case ConnState::kClosing:
    case ConnState::kFree:
      break;
  }
  // The fast path removes a detached app's flows itself; this RemoveFlow makes sure, and is
  // a no-op for a flow already gone. A flow closed cleanly keeps its TIME_WAIT.
  const bool clean = conn.has(kConnFlowClosed) && !conn.has(kConnFlowReset);
  if (clean && conn.has(kConnClosedFirst)) enter_time_wait(conn);
  fastpath::RemoveFlow remove;
  remove.set_flow_id(conn.record.flow_id);
  remove.set_send_reset(!clean);
  expect_connection(conn.record, remove.mutable_expect());
  ++counters_.aborts;
  drop_connection(conn.record.conn_id);
  send(config_.peers.fastpath, remove);
  ++counters_.flows_removed;
}

}  // namespace vtas::conn
