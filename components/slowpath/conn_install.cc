// ConnActor: handing finished handshakes to the fast path. One InstallFlow per connection
// carries everything: the flow's TCP parameters, the frame to send once it is installed (our
// ACK for an active one; nothing for a passive one, whose handshake conn completed before
// installing) and the app's notification
// (ACCEPTED / CONN_OPENED). Unanswered installs are retried; a failed one gives the accept
// back (passive) or fails the open (active).
#include <algorithm>
#include <cerrno>

#include "components/slowpath/conn_actor.h"

namespace vtas::conn {

LocalOptions ConnActor::local_options() const {
  LocalOptions o;
  o.mss = config_.mss;
  o.min_send_mss = config_.min_send_mss;
  o.rcv_wscale = config_.receive_window_scale();
  o.syn_window = config_.syn_window();
  return o;
}

FramePath ConnActor::path_of(const Connection& conn) const {
  FramePath p;
  p.local_mac = local_mac_;
  p.remote_mac = wire::MacAddr::from_bytes(conn.record.remote_mac);
  p.has_vlan = conn.has(kConnVlan);
  p.vlan_tci = conn.record.vlan_tci;
  p.tuple = tuple_of(conn.record);
  return p;
}

Negotiated ConnActor::negotiated_of(const Connection& conn) const {
  Negotiated n;
  n.send_mss = conn.record.send_mss;
  n.window_scale = conn.has(kConnWindowScale);
  n.snd_wscale = conn.record.snd_wscale;
  n.rcv_wscale = conn.record.rcv_wscale;
  n.timestamps = conn.has(kConnTimestamps);
  n.ts_recent = conn.record.ts_recent;
  n.ecn = conn.has(kConnEcn);
  n.sack = conn.has(kConnSack);
  n.remote_window = conn.record.remote_window;
  const uint16_t overhead = n.timestamps ? kTimestampOptionBytes : 0;
  n.payload_mss =
      n.send_mss > overhead + 1 ? static_cast<uint16_t>(n.send_mss - overhead) : n.send_mss;
  return n;
}

std::string ConnActor::handshake_frame(const Connection& conn) const {
  const Negotiated n = negotiated_of(conn);
  // A passive open is installed once the peer acknowledged our SYN-ACK (conn_syn_received.cc):
  // nothing is left to send.
  if (conn.record.role == static_cast<uint8_t>(ConnRole::kPassive)) return {};
  const auto window =
      static_cast<uint16_t>(std::min<uint32_t>(config_.rx_buffer >> n.rcv_wscale, 0xffff));
  return build_ack(path_of(conn), conn.record.local_isn + 1, conn.record.remote_isn + 1, window,
                   n.timestamps, n.ts_recent);
}

void ConnActor::send_install(Connection& conn) {
  const ConnRecord& r = conn.record;
  const Negotiated n = negotiated_of(conn);
  const bool passive = r.role == static_cast<uint8_t>(ConnRole::kPassive);
  fastpath::InstallFlow install;
  install.set_app_id(r.app_id);
  install.set_context_id(r.context_id);
  install.set_opaque(r.opaque);
  install.set_local_ip(r.local_ip);
  install.set_remote_ip(r.remote_ip);
  install.set_local_port(r.local_port);
  install.set_remote_port(r.remote_port);
  install.set_remote_mac(std::string(reinterpret_cast<const char*>(r.remote_mac), 6));
  install.set_rx_next_seq(r.remote_isn + 1);
  install.set_tx_next_seq(r.local_isn + 1);
  install.set_remote_window(r.remote_window);
  install.set_mss(n.payload_mss);
  install.set_snd_wscale(n.snd_wscale);
  install.set_rcv_wscale(n.rcv_wscale);
  install.set_timestamps(n.timestamps);
  install.set_ts_recent(n.ts_recent);
  install.set_ecn(n.ecn);
  install.set_sack(n.sack);
  install.set_flow_group(r.flow_group);
  install.set_rx_len(config_.rx_buffer);
  install.set_tx_len(config_.tx_buffer);
  auto* packet = install.mutable_packet();
  packet->set_frame(handshake_frame(conn));
  packet->set_stamp_timestamp(n.timestamps);
  packet->set_flow_group(r.flow_group);
  auto* notify = install.mutable_notify();
  notify->set_app_id(r.app_id);
  notify->set_context_id(r.context_id);
  notify->set_type(passive ? AppNotify::TYPE_ACCEPTED : AppNotify::TYPE_CONN_OPENED);
  notify->set_status(0);
  notify->set_request_id(r.request_id);
  notify->set_opaque(r.opaque);
  notify->set_listener_id(r.listener_id);
  notify->set_local_ip(r.local_ip);
  notify->set_remote_ip(r.remote_ip);
  notify->set_local_port(r.local_port);
  notify->set_remote_port(r.remote_port);

  ++conn.record.install_attempts;
  save(conn);
  ++counters_.installs_sent;
  const uint32_t conn_id = r.conn_id;
  const uint8_t attempt = conn.record.install_attempts;
  fastpath::FlowTuple tuple;
  expect_connection(r, &tuple);
  request(
      config_.peers.fastpath, install,
      [this, conn_id, attempt, tuple](const Envelope* response) {
        on_flow_installed(conn_id, attempt, tuple, response);
      },
      config_.install_timeout);
}

void ConnActor::flow_installed(Connection& conn, uint32_t flow_id) {
  if (Connection* other = conns_.find_flow(flow_id); other != nullptr && other != &conn) {
    // The fast path reuses a flow id we still hold: our record of it is stale.
    log().warn("flow {} installed for {} was still recorded for {}: stale record dropped",
               flow_id, to_string(tuple_of(conn.record)), to_string(tuple_of(other->record)));
    drop_stale_connection(*other);
  }
  conns_.set_flow(conn, flow_id);
  conns_.set_state(conn, ConnState::kEstablished);
  conn.record.deadline_ns = 0;
  save(conn);
  release_held_frames(conn.record.conn_id, true);
  const bool passive = conn.record.role == static_cast<uint8_t>(ConnRole::kPassive);
  ++(passive ? counters_.accepted : counters_.opened);
  record_answered_by_fastpath(conn.record.app_id, conn.record.context_id, conn.record.request_id);
}

void ConnActor::on_flow_installed(uint32_t conn_id, uint8_t attempt,
                                  const fastpath::FlowTuple& tuple, const Envelope* response) {
  Connection* conn = conns_.find(conn_id);
  const bool ok = response != nullptr && response->has_flow_installed() &&
                  response->flow_installed().ok() && response->flow_installed().flow_id() != 0;
  if (conn == nullptr || conn->state() != ConnState::kInstalling ||
      conn->record.install_attempts != attempt) {
    // Nobody wants this flow any more (its app detached meanwhile): take it out again, if
    // the id still names that connection.
    if (ok && conns_.find_flow(response->flow_installed().flow_id()) == nullptr) {
      fastpath::RemoveFlow remove;
      remove.set_flow_id(response->flow_installed().flow_id());
      remove.set_send_reset(true);
      *remove.mutable_expect() = tuple;
      send(config_.peers.fastpath, remove);
      ++counters_.flows_removed;
    }
    return;
  }
  if (ok) {
    flow_installed(*conn, response->flow_installed().flow_id());
    return;
  }
  if (response == nullptr && attempt < config_.install_attempts) {
    ++counters_.install_retries;
    send_install(*conn);
    return;
  }
  int status = -EIO;
  std::string error = "no answer";
  if (response != nullptr && response->has_flow_installed()) {
    status = response->flow_installed().errno_value() < 0 ? response->flow_installed().errno_value()
                                                          : -ENOMEM;
    error = response->flow_installed().error();
  } else if (response != nullptr && response->has_ack()) {
    error = response->ack().error();
  }
  if (log_peer()) {
    log().warn("install of {} failed: {} ({})", to_string(tuple_of(conn->record)), error, status);
  }
  install_failed(*conn, status);
}

void ConnActor::install_failed(Connection& conn, int status) {
  ++counters_.install_failures;
  release_held_frames(conn.record.conn_id, false);
  if (conn.record.role == static_cast<uint8_t>(ConnRole::kPassive)) {
    // The peer completed the handshake and believes it is connected: tell it otherwise
    // (RST at its RCV.NXT) rather than leave it hanging, and give the accept back for the
    // next connection.
    if (reply_allowed()) {
      fastpath::PacketOut out;
      out.set_frame(build_rst(path_of(conn), conn.record.local_isn + 1, 0, false));
      out.set_flow_group(conn.record.flow_group);
      send(config_.peers.fastpath, out);
      ++counters_.rsts_sent;
    }
    AcceptRecord a{};
    a.listener_id = conn.record.listener_id;
    a.app_id = conn.record.app_id;
    a.context_id = conn.record.context_id;
    a.request_id = conn.record.request_id;
    a.opaque = conn.record.opaque;
    Listener* l = listeners_.find(conn.record.listener_id);
    if (l != nullptr && l->record.app_id == a.app_id) {
      a.order = l->accepts.empty() ? next_order() : l->accepts.front().record.order;
      auto slot = registry_->accepts().insert(a);
      if (slot) listeners_.return_accept(*l, PostedAccept{a, *slot});
    }
    drop_connection(conn.record.conn_id);
    return;
  }
  // The peer sent its SYN-ACK and waits for our ACK: tell it the connection is off.
  if (reply_allowed()) {
    fastpath::PacketOut out;
    out.set_frame(build_rst(path_of(conn), conn.record.local_isn + 1, 0, false));
    out.set_flow_group(conn.record.flow_group);
    send(config_.peers.fastpath, out);
    ++counters_.rsts_sent;
  }
  fail_open(conn, status);
}

}  // namespace vtas::conn
