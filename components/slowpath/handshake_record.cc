#include "components/slowpath/handshake_record.h"

namespace vtas::conn {

HandshakeRecord handshake_record_of(const BacklogSyn& syn, uint32_t listener_id,
                                    HandshakeStage stage) {
  const Segment& s = syn.syn;
  const wire::TcpOptions& o = s.options;
  HandshakeRecord r{};
  r.local_ip = s.tuple.local_ip;
  r.remote_ip = s.tuple.remote_ip;
  r.local_port = s.tuple.local_port;
  r.remote_port = s.tuple.remote_port;
  r.listener_id = listener_id;
  r.peer_isn = s.seq;
  r.local_isn = syn.local_isn;
  r.ts_recent = o.tsval;
  r.flow_group = syn.flow_group;
  r.core = syn.core;
  r.peer_mss = o.mss;
  r.peer_window = s.window;
  r.peer_wscale = o.wscale;
  r.tcp_flags = s.flags;
  r.options = static_cast<uint8_t>((o.has_mss ? kSynHasMss : 0) |
                                   (o.has_wscale ? kSynHasWscale : 0) |
                                   (o.sack_permitted ? kSynSackPermitted : 0) |
                                   (o.has_timestamps ? kSynTimestamps : 0) |
                                   (s.has_vlan ? kSynVlan : 0));
  r.stage = static_cast<uint8_t>(stage);
  s.src_mac.copy_to(r.src_mac);
  s.dst_mac.copy_to(r.dst_mac);
  r.vlan_tci = s.vlan_tci;
  r.received_ns = to_ns(syn.received);
  return r;
}

BacklogSyn backlog_syn_of(const HandshakeRecord& r) {
  BacklogSyn syn;
  Segment& s = syn.syn;
  s.tuple = tuple_of(r);
  s.src_mac = wire::MacAddr::from_bytes(r.src_mac);
  s.dst_mac = wire::MacAddr::from_bytes(r.dst_mac);
  s.has_vlan = (r.options & kSynVlan) != 0;
  s.vlan_tci = r.vlan_tci;
  s.seq = r.peer_isn;
  s.flags = r.tcp_flags;
  s.window = r.peer_window;
  wire::TcpOptions& o = s.options;
  o.has_mss = (r.options & kSynHasMss) != 0;
  o.mss = r.peer_mss;
  o.has_wscale = (r.options & kSynHasWscale) != 0;
  o.wscale = r.peer_wscale;
  o.sack_permitted = (r.options & kSynSackPermitted) != 0;
  o.has_timestamps = (r.options & kSynTimestamps) != 0;
  o.tsval = r.ts_recent;
  syn.flow_group = r.flow_group;
  syn.core = r.core;
  syn.received = TimePoint(Nanos(r.received_ns));
  syn.local_isn = r.local_isn;
  return syn;
}

FourTuple tuple_of(const HandshakeRecord& r) {
  return FourTuple{r.local_ip, r.remote_ip, r.local_port, r.remote_port};
}

}  // namespace vtas::conn
