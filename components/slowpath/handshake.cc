#include "components/slowpath/handshake.h"

#include <algorithm>

#include "components/wire/tcp_segment.h"

namespace vtas::conn {
namespace {

uint16_t clamp_mss(const Segment& s, const LocalOptions& local) {
  const uint16_t peer = s.options.has_mss ? s.options.mss : kDefaultPeerMss;
  return std::clamp<uint16_t>(peer, local.min_send_mss, local.mss);
}

void finish(Negotiated* n) {
  const uint16_t overhead = n->timestamps ? kTimestampOptionBytes : 0;
  n->payload_mss =
      n->send_mss > overhead + 1 ? static_cast<uint16_t>(n->send_mss - overhead) : n->send_mss;
}

wire::TcpSegmentSpec spec_for(const FramePath& path) {
  wire::TcpSegmentSpec s;
  s.src_mac = path.local_mac;
  s.dst_mac = path.remote_mac;
  s.has_vlan = path.has_vlan;
  s.vlan_tci = path.vlan_tci;
  s.src_ip = wire::Ipv4Addr{path.tuple.local_ip};
  s.dst_ip = wire::Ipv4Addr{path.tuple.remote_ip};
  s.src_port = path.tuple.local_port;
  s.dst_port = path.tuple.remote_port;
  s.ecn = wire::Ecn::kNotEct;
  s.dont_fragment = true;
  return s;
}

std::string build(const wire::TcpSegmentSpec& s) {
  uint8_t buf[wire::kEthernetHeaderLength + wire::kVlanTagLength + wire::kIpv4MaxHeaderLength +
              wire::kTcpMaxHeaderLength];
  const size_t len = wire::build_tcp_segment(buf, sizeof buf, s);
  return std::string(reinterpret_cast<const char*>(buf), len);
}

}  // namespace

Negotiated negotiate_passive(const Segment& syn, const LocalOptions& local) {
  Negotiated n;
  n.send_mss = clamp_mss(syn, local);
  n.window_scale = syn.options.has_wscale;
  n.snd_wscale = n.window_scale ? syn.options.wscale : 0;
  n.rcv_wscale = n.window_scale ? local.rcv_wscale : 0;
  n.timestamps = syn.options.has_timestamps;
  n.ts_recent = n.timestamps ? syn.options.tsval : 0;
  n.ecn = syn.has(wire::kTcpEce | wire::kTcpCwr);
  n.sack = syn.options.sack_permitted;
  n.remote_window = syn.window;
  finish(&n);
  return n;
}

Negotiated negotiate_active(const Segment& syn_ack, const LocalOptions& local) {
  Negotiated n;
  n.send_mss = clamp_mss(syn_ack, local);
  n.window_scale = syn_ack.options.has_wscale;
  n.snd_wscale = n.window_scale ? syn_ack.options.wscale : 0;
  n.rcv_wscale = n.window_scale ? local.rcv_wscale : 0;
  n.timestamps = syn_ack.options.has_timestamps;
  n.ts_recent = n.timestamps ? syn_ack.options.tsval : 0;
  n.ecn = syn_ack.any(wire::kTcpEce) && !syn_ack.any(wire::kTcpCwr);
  n.sack = syn_ack.options.sack_permitted;
  n.remote_window = syn_ack.window;
  finish(&n);
  return n;
}

FramePath reply_path(const Segment& received) {
  FramePath p;
  p.local_mac = received.dst_mac;
  p.remote_mac = received.src_mac;
  p.has_vlan = received.has_vlan;
  p.vlan_tci = received.vlan_tci;
  p.tuple = received.tuple;
  return p;
}

std::string build_syn(const FramePath& path, uint32_t isn, const LocalOptions& local) {
  wire::TcpSegmentSpec s = spec_for(path);
  s.seq = isn;
  s.ack = 0;
  s.flags = wire::kTcpSyn | wire::kTcpEce | wire::kTcpCwr;
  s.window = local.syn_window;
  s.options.has_mss = true;
  s.options.mss = local.mss;
  s.options.has_timestamps = true;
  s.options.sack_permitted = true;
  s.options.has_wscale = true;
  s.options.wscale = local.rcv_wscale;
  return build(s);
}

std::string build_syn_ack(const FramePath& path, uint32_t isn, uint32_t peer_isn,
                          const Negotiated& n, const LocalOptions& local) {
  wire::TcpSegmentSpec s = spec_for(path);
  s.seq = isn;
  s.ack = peer_isn + 1;
  s.flags = wire::kTcpSyn | wire::kTcpAck | (n.ecn ? wire::kTcpEce : 0);
  s.window = local.syn_window;
  s.options.has_mss = true;
  s.options.mss = local.mss;
  s.options.has_timestamps = n.timestamps;
  s.options.tsecr = n.ts_recent;
  s.options.sack_permitted = n.sack;
  s.options.has_wscale = n.window_scale;
  s.options.wscale = n.rcv_wscale;
  return build(s);
}

std::string build_ack(const FramePath& path, uint32_t seq, uint32_t ack, uint16_t window,
                      bool timestamps, uint32_t tsecr) {
  wire::TcpSegmentSpec s = spec_for(path);
  s.seq = seq;
  s.ack = ack;
  s.flags = wire::kTcpAck;
  s.window = window;
  s.options.has_timestamps = timestamps;
  s.options.tsecr = tsecr;
  return build(s);
}

std::string build_rst(const FramePath& path, uint32_t seq, uint32_t ack, bool with_ack) {
  wire::TcpSegmentSpec s = spec_for(path);
  s.seq = seq;
  s.ack = with_ack ? ack : 0;
  s.flags = wire::kTcpRst | (with_ack ? wire::kTcpAck : 0);
  s.window = 0;
  return build(s);
}

std::string build_reset_for(const Segment& offending) {
  const FramePath path = reply_path(offending);
  if (offending.any(wire::kTcpAck)) return build_rst(path, offending.ack, 0, false);
  return build_rst(path, 0, offending.seq + offending.sequence_length(), true);
}

}  // namespace vtas::conn
