// ConnActor: frames from the fast path. Every PacketIn is parsed once into a Segment and then
// goes to exactly one place: the installed flow it names, a connection record (handshake in
// progress), a TIME_WAIT entry, a listener (a new SYN, or the third ACK of a handshake:
// conn_syn_received.cc), or the RST of RFC 9293 3.10.7.1.
#include <algorithm>
#include <cerrno>

#include "components/slowpath/conn_actor.h"
#include "components/wire/parse_result.h"
#include "components/wire/seq.h"

namespace vtas::conn {

void ConnActor::handle_packet_in(const fastpath::PacketIn& packet, const Incoming&) {
  ++counters_.packets_in;
  Segment seg;
  wire::ParseResult detail = wire::ParseResult::kOk;
  const SegmentCheck check = parse_segment(packet.frame(), &seg, &detail);
  switch (check) {
    case SegmentCheck::kOk:
      break;
    case SegmentCheck::kMalformed:
      ++counters_.frames_malformed;
      if (log_peer()) {
        log().info("dropped a malformed frame of {} bytes: {}", packet.frame().size(),
                   wire::parse_result_name(detail));
      }
      return;
    case SegmentCheck::kNotTcp:
      ++counters_.frames_not_tcp;
      return;
    case SegmentCheck::kBadAddress:
      ++counters_.frames_bad_address;
      return;
  }
  if (config_.local_ip != 0 && seg.tuple.local_ip != config_.local_ip) {
    ++counters_.frames_not_for_us;
    return;
  }
  if (seg.tuple.remote_ip == seg.tuple.local_ip ||
      (config_.local_ip != 0 && seg.tuple.remote_ip == config_.local_ip)) {
    // Land attack: a segment "from" ourselves. Answering would RST ourselves or, to a
    // listener, open a connection to ourselves.
    ++counters_.frames_land;
    if (log_peer()) {
      log().info("dropped a segment whose source is our own address {}",
                 to_string(seg.tuple));
    }
    return;
  }
  learn_local_mac(seg);
  if (packet.flow_id() != 0) {
    on_flow_segment(seg, packet);
    return;
  }
  on_segment(seg, packet);
}

void ConnActor::on_segment(const Segment& seg, const fastpath::PacketIn& packet) {
  if (Connection* conn = conns_.find(seg.tuple)) {
    on_connection_segment(*conn, seg, packet);
    return;
  }
  if (TimeWaitEntry* tw = time_wait_.find(seg.tuple)) {
    on_time_wait_segment(*tw, seg, packet);
    return;
  }
  if (seg.is_connection_request()) {
    on_connection_request(seg, packet);
    return;
  }
  if (seg.any(wire::kTcpRst)) {  // never answered
    on_syn_received_reset(seg);
    return;
  }
  // A segment of a completed handshake still waiting for an accept (the peer already sends
  // data): no RST; kept and handed to the fast path once the flow is installed.
  if (listeners_.syn_waiting(seg.tuple)) {
    hold_backlog_frame(seg.tuple, packet);
    return;
  }
  if (Listener* listener = listeners_.select(seg.tuple, tuple_hash(seg.tuple))) {
    on_listen_segment(*listener, seg, packet);
    return;
  }
  send_reset_for(seg, packet.flow_group());
}

// A segment the fast path matched to an installed flow and still handed to us: a
// retransmitted SYN (our SYN-ACK was lost) or SYN-ACK (our ACK was lost).
void ConnActor::on_flow_segment(const Segment& seg, const fastpath::PacketIn& packet) {
  Connection* conn = conns_.find_flow(packet.flow_id());
  if (conn == nullptr || tuple_of(conn->record) != seg.tuple) {
    // Not ours (the flow was removed meanwhile, or a fast-path mix-up): treat it as unknown,
    // but without a RST: the fast path believes the flow exists.
    return;
  }
  if (conn->state() == ConnState::kClosing && seg.is_connection_request()) {
    // Both FINs are through (the fast path hands over such SYNs only then: tcp/receive.cc)
    // and the flow's removal is under way: the peer reuses the tuple. Kept until the flow is
    // gone, then handed back as a new connection's SYN, so the peer need not wait for its
    // SYN retransmission (a second).
    hold_frame(*conn, packet);
    return;
  }
  if (conn->state() != ConnState::kEstablished) return;  // closing: nothing to repeat
  const bool passive = conn->record.role == static_cast<uint8_t>(ConnRole::kPassive);
  if (passive && seg.is_connection_request() && seg.seq == conn->record.remote_isn) {
    if (reply_allowed()) resend_syn_ack(*conn, packet.flow_group());
    return;
  }
  if (!passive && seg.has(wire::kTcpSyn | wire::kTcpAck) && !seg.any(wire::kTcpRst) &&
      seg.seq == conn->record.remote_isn && seg.ack == conn->record.local_isn + 1) {
    if (!reply_allowed()) return;
    const Negotiated n = negotiated_of(*conn);
    fastpath::PacketOut out;
    out.set_frame(build_ack(
        path_of(*conn), conn->record.local_isn + 1, conn->record.remote_isn + 1,
        static_cast<uint16_t>(std::min<uint32_t>(config_.rx_buffer >> n.rcv_wscale, 0xffff)),
        n.timestamps, seg.options.tsval));
    out.set_stamp_timestamp(n.timestamps);
    out.set_flow_group(packet.flow_group());
    send(config_.peers.fastpath, out);
    ++counters_.synack_retransmits;
    return;
  }
  // Anything else (a SYN with a new sequence number on a live flow, say) is the fast path's
  // business (RFC 5961 challenge ACK); conn has no current sequence numbers to answer with.
}

void ConnActor::on_connection_segment(Connection& conn, const Segment& seg,
                                      const fastpath::PacketIn& packet) {
  switch (conn.state()) {
    case ConnState::kSynSent:
      on_syn_sent_segment(conn, seg, packet);
      return;
    case ConnState::kResolving:
      // Nothing of ours is on the wire yet: a stray segment. Silently dropped (the tuple is
      // reserved; a RST could hit the previous owner of the tuple).
      return;
    case ConnState::kInstalling:
      // The peer's first data or FIN right after its third ACK: the fast path gets it back
      // once the flow is in, so the peer need not retransmit it.
      hold_frame(conn, packet);
      return;
    case ConnState::kEstablished:
      // Handed to us just before the install took effect: the fast path has the flow now.
      replay_frame(conn, packet);
      return;
    case ConnState::kClosing:
    case ConnState::kFree:
      // Installed flows are the fast path's; a segment racing the removal of one is dropped.
      return;
  }
}

void ConnActor::on_time_wait_segment(TimeWaitEntry& entry, const Segment& seg,
                                     const fastpath::PacketIn& packet) {
  const TimeWaitAnswer answer =
      time_wait_answer(entry.record, seg, config_.time_wait_accept_newer_syn);
  switch (answer.action) {
    case TimeWaitAction::kIgnore:
      return;
    case TimeWaitAction::kReopen: {
      ++counters_.time_wait_reopened;
      const TimeWaitEntry copy = entry;
      time_wait_.remove(seg.tuple);
      release_time_wait(copy);
      on_connection_request(seg, packet);
      return;
    }
    case TimeWaitAction::kAck:
    case TimeWaitAction::kAckAndRestart:
      break;
  }
  if (seg.options.has_timestamps && wire::seq_gt(seg.options.tsval, entry.record.ts_recent)) {
    entry.record.ts_recent = seg.options.tsval;
  }
  if (answer.action == TimeWaitAction::kAckAndRestart) {
    time_wait_.set_expiry(seg.tuple, now_ns() + static_cast<uint64_t>(config_.time_wait.count()));
    entry.record.expires_ns = now_ns() + static_cast<uint64_t>(config_.time_wait.count());
  }
  registry_->time_wait().update(entry.slot, entry.record);
  if (!reply_allowed()) return;
  const bool ts = (entry.record.flags & kTimeWaitTimestamps) != 0 && seg.options.has_timestamps;
  fastpath::PacketOut out;
  out.set_frame(build_ack(reply_path(seg), answer.seq, answer.ack,
                          static_cast<uint16_t>(std::min<uint32_t>(
                              config_.rx_buffer >> config_.receive_window_scale(), 0xffff)),
                          ts, seg.options.tsval));
  out.set_stamp_timestamp(ts);
  out.set_flow_group(packet.flow_group());
  send(config_.peers.fastpath, out);
  ++counters_.time_wait_acks;
}

void ConnActor::on_connection_request(const Segment& seg, const fastpath::PacketIn& packet) {
  ++counters_.syns_received;
  Listener* listener = listeners_.select(seg.tuple, tuple_hash(seg.tuple));
  if (listener == nullptr) {
    ++counters_.syns_to_closed_port;
    send_reset_for(seg, packet.flow_group());
    return;
  }
  BacklogSyn syn{seg, packet.flow_group(), packet.core(), now()};
  answer_syn(*listener, syn);
}

void ConnActor::passive_open(Listener& listener, const PostedAccept& accept,
                             const BacklogSyn& syn) {
  const Segment& s = syn.syn;
  if (conns_.find(s.tuple) != nullptr) {
    // The tuple got a connection since the SYN was queued: keep the accept for another.
    auto slot = registry_->accepts().insert(accept.record);
    if (slot) listeners_.return_accept(listener, PostedAccept{accept.record, *slot});
    return;
  }
  const LocalOptions local = local_options();
  const Negotiated n = negotiate_passive(s, local);
  ConnRecord r{};
  r.state = static_cast<uint8_t>(ConnState::kInstalling);
  r.role = static_cast<uint8_t>(ConnRole::kPassive);
  r.local_ip = s.tuple.local_ip;
  r.remote_ip = s.tuple.remote_ip;
  r.local_port = s.tuple.local_port;
  r.remote_port = s.tuple.remote_port;
  r.app_id = accept.record.app_id;
  r.context_id = accept.record.context_id;
  r.close_context_id = accept.record.context_id;
  r.opaque = accept.record.opaque;
  r.request_id = accept.record.request_id;
  r.listener_id = listener.record.listener_id;
  r.local_isn = syn.local_isn;
  r.remote_isn = s.seq;
  r.remote_window = n.remote_window;
  r.ts_recent = n.ts_recent;
  r.send_mss = n.send_mss;
  r.snd_wscale = n.snd_wscale;
  r.rcv_wscale = n.rcv_wscale;
  s.src_mac.copy_to(r.remote_mac);
  r.vlan_tci = s.vlan_tci;
  r.flow_group = syn.flow_group;
  r.flags = (n.timestamps ? kConnTimestamps : 0) | (n.ecn ? kConnEcn : 0) |
            (n.window_scale ? kConnWindowScale : 0) | (s.has_vlan ? kConnVlan : 0) |
            (n.sack ? kConnSack : 0);
  Connection* conn = create_connection(r);
  if (conn == nullptr) {
    // No room for the record: keep the accept for the next SYN; the peer retransmits.
    auto slot = registry_->accepts().insert(accept.record);
    if (slot) listeners_.return_accept(listener, PostedAccept{accept.record, *slot});
    return;
  }
  adopt_backlog_frames(*conn);
  send_install(*conn);
}

void ConnActor::resend_syn_ack(const Connection& conn, uint32_t flow_group) {
  const Negotiated n = negotiated_of(conn);
  fastpath::PacketOut out;
  out.set_frame(build_syn_ack(path_of(conn), conn.record.local_isn, conn.record.remote_isn, n,
                              local_options()));
  out.set_stamp_timestamp(n.timestamps);
  out.set_flow_group(flow_group);
  send(config_.peers.fastpath, out);
  ++counters_.synack_retransmits;
}

void ConnActor::send_reset_for(const Segment& seg, uint32_t flow_group) {
  if (!reply_allowed()) return;
  fastpath::PacketOut out;
  out.set_frame(build_reset_for(seg));
  out.set_flow_group(flow_group);
  send(config_.peers.fastpath, out);
  ++counters_.rsts_sent;
}

}  // namespace vtas::conn
