// ConnActor: the passive side of the handshake up to the third ACK. A SYN to a listener is
// answered with a SYN-ACK at once and remembered in the SYN-RECEIVED table (bounded per
// listener by its backlog), or, when that share is full, answered with a SYN cookie and not
// remembered at all. Only the peer's ACK of our SYN-ACK (an exception frame from the fast
// path: the flow does not exist yet) makes it a connection: installed at once when the app
// has an accept posted, else queued on the listener with LISTEN_NEW_CONN. So spoofed SYNs
// never reach the fast path or the app, and cost a bounded amount of conn memory.
// RFC 9293 3.10.7.2 (LISTEN) and 3.10.7.4 (SYN-RECEIVED); cookies as in Linux.
//
// Every stateful handshake is written through to the registry (HandshakeRecord) from its
// SYN-ACK until an accept turns it into a connection record, so a conn killed in between
// still recognises the third ACK (and the SYN-ACK timer resumes): no RST for a peer that did
// nothing wrong. The record is written before the frame it covers leaves.
#include <algorithm>

#include "components/slowpath/conn_actor.h"

namespace vtas::conn {
namespace {

// The SYN a cookie SYN-ACK answers, seen through what the cookie kept: MSS only.
Segment stateless_view(const Segment& syn, uint16_t mss) {
  Segment s = syn;
  s.flags = wire::kTcpSyn;
  s.options = wire::TcpOptions{};
  s.options.has_mss = true;
  s.options.mss = mss;
  s.payload_length = 0;
  return s;
}

}  // namespace

void ConnActor::answer_syn(Listener& listener, const BacklogSyn& syn) {
  const FourTuple& tuple = syn.syn.tuple;
  if (listeners_.syn_waiting(tuple)) {
    // Its handshake completed and it waits for an accept: a duplicate of the old SYN.
    ++counters_.syns_duplicate;
    return;
  }
  if (HalfOpen* h = half_open_.find(tuple)) {
    // The peer did not get our SYN-ACK (or is impatient): the same one again; another
    // sequence number is a stale or forged SYN, ignored (the entry expires on its own).
    if (syn.syn.seq == h->syn.syn.seq) {
      ++counters_.syns_duplicate;
      if (reply_allowed()) {
        send_half_open_syn_ack(h->syn, false);
        ++counters_.synack_retransmits;
      }
    }
    return;
  }
  // The accept queue (completed handshakes the app has not taken) is full: like Linux, do
  // not start another handshake; the peer retransmits its SYN.
  if (listener.backlog.size() >= listener.record.backlog) {
    ++counters_.syns_dropped_backlog_full;
    if (log_peer()) {
      log().warn("listener {} ({}:{}): backlog of {} full, SYN from {} dropped",
                 listener.record.listener_id, ipv4_to_string(listener.record.local_ip),
                 listener.record.local_port, listener.record.backlog,
                 ipv4_to_string(tuple.remote_ip));
    }
    return;
  }
  HalfOpen entry;
  entry.syn = syn;
  entry.syn.local_isn = isn_.isn(tuple, now());
  entry.listener_id = listener.record.listener_id;
  entry.rto = std::chrono::microseconds(config_.handshake_timeout_us);
  entry.generation = next_half_open_generation_++;
  entry.deadline = now() + entry.rto;
  const uint32_t share = std::max<uint32_t>(listener.record.backlog, 1);
  if (half_open_.add(entry, share) == SynReceivedTable::Add::kAdded) {
    ++counters_.syns_queued;
    HalfOpen& added = *half_open_.find(tuple);
    save_half_open(added);
    send_half_open_syn_ack(added.syn, false);
    ++counters_.synacks_sent;
    arm_syn_ack_timer(tuple, added.generation, added.rto);
    return;
  }
  // SYN-RECEIVED share full (a flood, or a burst beyond the backlog): a cookie, no state.
  // Not rate limited (one SYN-ACK per SYN amplifies nothing): a limit would let a flood
  // starve the real clients' SYNs of their answers.
  const uint16_t peer_mss = syn.syn.options.has_mss ? syn.syn.options.mss : kDefaultPeerMss;
  BacklogSyn cookie = syn;
  cookie.local_isn = SynCookies(isn_.key()).make(tuple, syn.syn.seq, peer_mss, now());
  send_half_open_syn_ack(cookie, true);
  ++counters_.syn_cookies_sent;
}

void ConnActor::send_half_open_syn_ack(const BacklogSyn& syn, bool cookie) {
  const LocalOptions local = local_options();
  const Segment view =
      cookie ? stateless_view(syn.syn, syn.syn.options.has_mss ? syn.syn.options.mss
                                                               : kDefaultPeerMss)
             : syn.syn;
  const Negotiated n = negotiate_passive(view, local);
  FramePath path = reply_path(syn.syn);
  if (!local_mac_.is_zero()) path.local_mac = local_mac_;
  fastpath::PacketOut out;
  out.set_frame(build_syn_ack(path, syn.local_isn, syn.syn.seq, n, local));
  out.set_stamp_timestamp(n.timestamps);
  out.set_flow_group(syn.flow_group);
  send(config_.peers.fastpath, out);
}

void ConnActor::save_half_open(HalfOpen& entry) {
  HandshakeRecord r =
      handshake_record_of(entry.syn, entry.listener_id, HandshakeStage::kSynReceived);
  r.retransmits = static_cast<uint8_t>(std::min<uint32_t>(entry.retransmits, UINT8_MAX));
  r.rto_us = static_cast<uint32_t>(
      std::max<int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(entry.rto).count(), 1));
  r.deadline_ns = to_ns(entry.deadline);
  save_handshake(&entry.syn.slot, r);
}

void ConnActor::save_handshake(SlotId* slot, const HandshakeRecord& record) {
  if (*slot != kNoSlot) {
    registry_->handshakes().update(*slot, record);
    return;
  }
  auto inserted = registry_->handshakes().insert(record);
  if (!inserted) {
    ++counters_.registry_full;  // the handshake goes on in memory only
    return;
  }
  *slot = *inserted;
}

void ConnActor::forget_handshake(SlotId slot) {
  registry_->handshakes().erase(slot);
}

void ConnActor::arm_syn_ack_timer(const FourTuple& tuple, uint64_t generation, Nanos delay) {
  // A local timer, not `timer`'s: the entry is restored from the registry after a restart
  // and its timer re-armed there (resume_in_flight_work).
  after(delay, [this, tuple, generation] { syn_ack_timeout(tuple, generation); });
}

void ConnActor::syn_ack_timeout(const FourTuple& tuple, uint64_t generation) {
  HalfOpen* h = half_open_.find(tuple);
  if (h == nullptr || h->generation != generation) return;  // completed, reset or replaced
  if (h->retransmits >= config_.handshake_retries) {
    ++counters_.half_open_expired;
    forget_handshake(h->syn.slot);
    half_open_.remove(tuple);
    return;
  }
  ++h->retransmits;
  h->rto = std::min<Nanos>(h->rto * 2, std::chrono::microseconds(config_.handshake_timeout_max_us));
  h->deadline = now() + h->rto;
  save_half_open(*h);
  send_half_open_syn_ack(h->syn, false);
  ++counters_.synack_timeouts;
  arm_syn_ack_timer(tuple, generation, h->rto);
}

void ConnActor::on_syn_received_reset(const Segment& seg) {
  // RFC 9293 3.10.7.4 with RFC 5961's stricter check: only a RST at exactly RCV.NXT ends a
  // SYN-RECEIVED entry; anything else is dropped (never answered: it is a RST).
  HalfOpen* h = half_open_.find(seg.tuple);
  if (h == nullptr || seg.seq != h->syn.syn.seq + 1) return;
  forget_handshake(h->syn.slot);
  half_open_.remove(seg.tuple);
  ++counters_.half_open_reset;
}

void ConnActor::on_listen_segment(Listener& listener, const Segment& seg,
                                  const fastpath::PacketIn& packet) {
  if (!seg.any(wire::kTcpAck)) {
    if (!seg.any(wire::kTcpSyn)) {
      // RFC 9293 3.10.7.2: neither SYN, ACK nor RST (bare data, a FIN): dropped silently.
      ++counters_.segments_dropped_in_listen;
      return;
    }
    send_reset_for(seg, packet.flow_group());  // SYN with FIN: not a connection request
    return;
  }
  if (seg.any(wire::kTcpSyn)) {  // a SYN-ACK to a listener: RST <SEQ=SEG.ACK>
    send_reset_for(seg, packet.flow_group());
    return;
  }
  if (HalfOpen* h = half_open_.find(seg.tuple)) {
    if (seg.ack != h->syn.local_isn + 1) {
      send_reset_for(seg, packet.flow_group());  // 3.10.7.4: unacceptable ACK
      return;
    }
    if (seg.seq != h->syn.syn.seq + 1) return;  // not at RCV.NXT: the peer resends
    BacklogSyn syn = h->syn;
    if (syn.syn.options.has_timestamps && seg.options.has_timestamps) {
      syn.syn.options.tsval = seg.options.tsval;  // TS.Recent moves on with the third ACK
    }
    if (listener.backlog.size() >= listener.record.backlog && listener.accepts.empty()) {
      // Nowhere to put it: keep the entry, the SYN-ACK retransmission brings the ACK again.
      ++counters_.acks_dropped_accept_queue_full;
      return;
    }
    half_open_.remove(seg.tuple);
    ++counters_.handshakes_completed;
    handshake_completed(listener, syn);
    return;
  }
  const auto mss = SynCookies(isn_.key()).check(seg.tuple, seg.seq - 1, seg.ack - 1, now());
  if (!mss) {
    // No handshake of ours: an old duplicate, a SYN-RECEIVED entry lost in a restart, or a
    // probe. RFC 9293 3.10.7.2: RST <SEQ=SEG.ACK>.
    send_reset_for(seg, packet.flow_group());
    return;
  }
  if (listener.backlog.size() >= listener.record.backlog && listener.accepts.empty()) {
    ++counters_.acks_dropped_accept_queue_full;
    return;
  }
  ++counters_.syn_cookies_accepted;
  BacklogSyn syn{seg, packet.flow_group(), packet.core(), now()};
  syn.syn = stateless_view(seg, *mss);
  syn.syn.seq = seg.seq - 1;
  syn.local_isn = seg.ack - 1;
  handshake_completed(listener, syn);
}

void ConnActor::handshake_completed(Listener& listener, BacklogSyn syn) {
  if (auto accept = listeners_.pop_accept(listener)) {
    registry_->accepts().erase(accept->slot);
    passive_open(listener, *accept, syn);  // writes the connection record first
    forget_handshake(syn.slot);
    return;
  }
  queue_for_accept(listener, std::move(syn));
}

void ConnActor::queue_for_accept(Listener& listener, BacklogSyn syn) {
  const FourTuple tuple = syn.syn.tuple;
  // Recorded as waiting before the app hears of it (a cookie's handshake gets its record now).
  save_handshake(&syn.slot, handshake_record_of(syn, listener.record.listener_id,
                                                HandshakeStage::kAwaitingAccept));
  const SlotId slot = syn.slot;
  const auto queued = listeners_.enqueue_syn(listener, std::move(syn));
  if (queued != ListenerTable::Enqueue::kQueued) forget_handshake(slot);
  switch (queued) {
    case ListenerTable::Enqueue::kQueued: {
      AppNotify n;
      n.set_app_id(listener.record.app_id);
      n.set_context_id(listener.record.context_id);
      n.set_type(AppNotify::TYPE_LISTEN_NEW_CONN);
      n.set_opaque(listener.record.opaque);
      n.set_listener_id(listener.record.listener_id);
      n.set_local_ip(tuple.local_ip);
      n.set_local_port(tuple.local_port);
      n.set_remote_ip(tuple.remote_ip);
      n.set_remote_port(tuple.remote_port);
      send_notify(n);
      return;
    }
    case ListenerTable::Enqueue::kDuplicate:
      return;
    case ListenerTable::Enqueue::kBacklogFull:
    case ListenerTable::Enqueue::kSynQueueFull:
      // Checked by the caller for this listener; the global queue may still be full. The
      // peer believes it is connected: it learns otherwise from the RST its next segment
      // gets (no state matches it any more).
      ++counters_.acks_dropped_accept_queue_full;
      if (log_peer()) {
        log().warn("completed handshake from {} dropped: {} connection(s) wait for accepts",
                   to_string(tuple), listeners_.queued_syns());
      }
      return;
  }
}

}  // namespace vtas::conn
