// ConnActor: active opens (AppRequestIn CONN_OPEN). Local port, ISN, next hop through `arp`
// (with a short cache), SYN with its handshake timer in `timer` (doubling, bounded retries),
// then the SYN-ACK -> InstallFlow with our ACK and the app's CONN_OPENED. Simultaneous open
// (a bare SYN answering our SYN) is not supported: it is ignored and counted, and the
// handshake completes or times out as usual.
#include <algorithm>
#include <cerrno>

#include "components/fastpath/abi/app_abi.h"
#include "components/slowpath/conn_actor.h"

namespace vtas::conn {

namespace {
bool usable_remote(uint32_t ip) {
  return ip != 0 && ip != 0xffffffffu && (ip >> 28) != 0xe && (ip >> 28) != 0xf &&
         (ip >> 24) != 127;
}
}  // namespace

void ConnActor::open_connection(const AppRequestIn& request) {
  ++counters_.opens;
  if (!usable_remote(request.remote_ip()) || request.remote_port() == 0 ||
      request.remote_port() > 0xffff) {
    answer(request, AppNotify::TYPE_CONN_OPENED, -EINVAL);
    return;
  }
  uint32_t local_ip = request.local_ip() != 0 ? request.local_ip() : config_.local_ip;
  if (local_ip == 0 || (config_.local_ip != 0 && local_ip != config_.local_ip)) {
    answer(request, AppNotify::TYPE_CONN_OPENED, -EADDRNOTAVAIL);
    return;
  }
  if (request.remote_ip() == local_ip) {
    // Our own address would loop through the NIC back to us: not supported.
    answer(request, AppNotify::TYPE_CONN_OPENED, -ENETUNREACH);
    return;
  }
  if (conns_.pending_opens(request.app_id()) >= config_.max_pending_opens_per_app) {
    answer(request, AppNotify::TYPE_CONN_OPENED, -ENOBUFS);
    return;
  }
  const auto remote_port = static_cast<uint16_t>(request.remote_port());
  auto port = pick_local_port(local_ip, request.remote_ip(), remote_port);
  if (!port) {
    if (log_app()) {
      log().warn("no free local port for {}:{} in {}-{}", ipv4_to_string(request.remote_ip()),
                 remote_port, config_.ephemeral_ports.first, config_.ephemeral_ports.last);
    }
    answer(request, AppNotify::TYPE_CONN_OPENED, -EADDRNOTAVAIL);
    return;
  }
  ConnRecord r{};
  r.state = static_cast<uint8_t>(ConnState::kResolving);
  r.role = static_cast<uint8_t>(ConnRole::kActive);
  r.local_ip = local_ip;
  r.remote_ip = request.remote_ip();
  r.local_port = *port;
  r.remote_port = remote_port;
  r.app_id = request.app_id();
  r.context_id = request.context_id();
  r.close_context_id = request.context_id();
  r.opaque = request.opaque();
  r.request_id = request.request_id();
  r.local_isn = isn_.isn(tuple_of(r), now());
  r.rto_us = config_.handshake_timeout_us;
  r.flags = kConnEphemeralPort;
  Connection* conn = create_connection(r);
  if (conn == nullptr) {
    answer(request, AppNotify::TYPE_CONN_OPENED, -ENOBUFS);
    return;
  }
  record_deferred(request);
  resolve_next_hop(*conn);
}

std::optional<uint16_t> ConnActor::pick_local_port(uint32_t local_ip, uint32_t remote_ip,
                                                   uint16_t remote_port) {
  return ports_.pick([&](uint16_t port) {
    const FourTuple t{local_ip, remote_ip, port, remote_port};
    return !listeners_.port_in_use(local_ip, port) && conns_.find(t) == nullptr &&
           time_wait_.find(t) == nullptr && !listeners_.syn_waiting(t);
  });
}

void ConnActor::resolve_next_hop(Connection& conn) {
  const uint32_t ip = conn.record.remote_ip;
  if (auto mac = next_hops_.lookup(ip, now())) {
    mac->copy_to(conn.record.remote_mac);
    send_syn(conn);
    return;
  }
  if (next_hops_.add_waiter(ip, conn.record.conn_id)) request_resolution(ip);
}

void ConnActor::request_resolution(uint32_t ip) {
  const uint64_t generation = next_resolution_generation_++;
  resolution_generation_[ip] = generation;
  arp::ResolveRequest req;
  req.set_ip(ip);
  request(
      config_.peers.arp, req,
      [this, ip, generation](const Envelope* response) { on_resolved(ip, generation, response); },
      config_.arp_request_timeout);
}

void ConnActor::on_resolved(uint32_t ip, uint64_t generation, const Envelope* response) {
  auto current = resolution_generation_.find(ip);
  if (current == resolution_generation_.end() || current->second != generation) return;
  resolution_generation_.erase(current);
  const bool ok = response != nullptr && response->has_resolve_response() &&
                  response->resolve_response().ok() &&
                  response->resolve_response().mac().size() == 6;
  std::string error = "no answer from '" + config_.peers.arp + "'";
  if (response != nullptr && response->has_resolve_response()) {
    error = response->resolve_response().error();
  }
  wire::MacAddr mac;
  if (ok) {
    mac = wire::MacAddr::from_bytes(
        reinterpret_cast<const uint8_t*>(response->resolve_response().mac().data()));
    next_hops_.store(ip, mac, now());
  } else {
    ++counters_.resolve_failures;
    if (log_peer()) log().warn("cannot reach {}: {}", ipv4_to_string(ip), error);
  }
  for (uint32_t id : next_hops_.take_waiters(ip)) {
    Connection* conn = conns_.find(id);
    if (conn == nullptr || conn->state() != ConnState::kResolving) continue;
    if (ok) {
      mac.copy_to(conn->record.remote_mac);
      send_syn(*conn);
    } else {
      fail_open(*conn, -EHOSTUNREACH);
    }
  }
}

void ConnActor::send_syn(Connection& conn) {
  if (conn.state() == ConnState::kSynSent) ++counters_.syn_retransmits;
  conns_.set_state(conn, ConnState::kSynSent);
  ++conn.record.attempts;
  const Nanos rto = std::chrono::microseconds(conn.record.rto_us);
  conn.record.deadline_ns = now_ns() + static_cast<uint64_t>(rto.count());
  save(conn);
  fastpath::PacketOut out;
  out.set_frame(build_syn(path_of(conn), conn.record.local_isn, local_options()));
  out.set_stamp_timestamp(true);
  out.set_flow_group(0);
  send(config_.peers.fastpath, out);
  arm_handshake_timer(conn, rto);
}

void ConnActor::arm_handshake_timer(const Connection& conn, Nanos delay) {
  timer::ArmTimer arm;
  arm.set_key(handshake_timer_key(conn.record.conn_id, conn.record.attempts));
  arm.set_delay_us(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(delay).count()));
  arm.set_kind(kTimerKindHandshake);
  send(config_.peers.timer, arm);
}

void ConnActor::cancel_handshake_timer(const Connection& conn) {
  timer::CancelTimer cancel;
  cancel.set_key(handshake_timer_key(conn.record.conn_id, conn.record.attempts));
  send(config_.peers.timer, cancel);
}

void ConnActor::handshake_timeout(Connection& conn) {
  if (conn.record.attempts > config_.handshake_retries) {
    ++counters_.handshake_timeouts;
    if (log_peer()) {
      log().info("{}: no SYN-ACK after {} SYN(s): connection timed out",
                 to_string(tuple_of(conn.record)), conn.record.attempts);
    }
    fail_open(conn, -ETIMEDOUT);
    return;
  }
  conn.record.rto_us = static_cast<uint32_t>(
      std::min<uint64_t>(uint64_t{conn.record.rto_us} * 2, config_.handshake_timeout_max_us));
  send_syn(conn);
}

void ConnActor::on_syn_sent_segment(Connection& conn, const Segment& seg,
                                    const fastpath::PacketIn& packet) {
  const uint32_t expected_ack = conn.record.local_isn + 1;
  const bool has_ack = seg.any(wire::kTcpAck);
  if (has_ack && seg.ack != expected_ack) {
    // RFC 9293 3.10.7.3: an unacceptable ACK in SYN-SENT gets <SEQ=SEG.ACK><CTL=RST>, unless
    // it is a RST itself.
    if (!seg.any(wire::kTcpRst)) send_reset_for(seg, packet.flow_group());
    return;
  }
  if (seg.any(wire::kTcpRst)) {
    if (!has_ack) return;  // a RST without an acceptable ACK is ignored in SYN-SENT
    ++counters_.connections_refused;
    fail_open(conn, -ECONNREFUSED);
    return;
  }
  if (!seg.any(wire::kTcpSyn)) return;
  if (!has_ack) {
    ++counters_.simultaneous_open_ignored;
    return;
  }
  const Negotiated n = negotiate_active(seg, local_options());
  cancel_handshake_timer(conn);
  conn.record.remote_isn = seg.seq;
  conn.record.remote_window = n.remote_window;
  conn.record.ts_recent = n.ts_recent;
  conn.record.send_mss = n.send_mss;
  conn.record.snd_wscale = n.snd_wscale;
  conn.record.rcv_wscale = n.rcv_wscale;
  conn.record.flow_group = packet.flow_group();
  conn.record.flags |= (n.timestamps ? kConnTimestamps : 0) | (n.ecn ? kConnEcn : 0) |
                       (n.window_scale ? kConnWindowScale : 0) | (seg.has_vlan ? kConnVlan : 0) |
                       (n.sack ? kConnSack : 0);
  conn.record.vlan_tci = seg.vlan_tci;
  conn.record.deadline_ns = 0;
  conns_.set_state(conn, ConnState::kInstalling);
  send_install(conn);
}

void ConnActor::fail_open(Connection& conn, int status) {
  ++counters_.open_failures;
  AppRequestIn as_request;
  as_request.set_app_id(conn.record.app_id);
  as_request.set_context_id(conn.record.context_id);
  as_request.set_request_id(conn.record.request_id);
  as_request.set_opaque(conn.record.opaque);
  as_request.set_type(AppRequestIn::TYPE_CONN_OPEN);
  AppNotify n;
  n.set_local_ip(conn.record.local_ip);
  n.set_local_port(conn.record.local_port);
  n.set_remote_ip(conn.record.remote_ip);
  n.set_remote_port(conn.record.remote_port);
  const uint32_t id = conn.record.conn_id;
  drop_connection(id);
  answer(as_request, AppNotify::TYPE_CONN_OPENED, status, &n);
}

}  // namespace vtas::conn
