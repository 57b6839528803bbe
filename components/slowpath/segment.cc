#include "components/slowpath/segment.h"

namespace vtas::conn {

const char* segment_check_name(SegmentCheck check) {
  switch (check) {
    case SegmentCheck::kOk:
      return "ok";
    case SegmentCheck::kMalformed:
      return "malformed";
    case SegmentCheck::kNotTcp:
      return "not-tcp";
    case SegmentCheck::kBadAddress:
      return "bad-address";
  }
  return "unknown";
}

SegmentCheck parse_segment(std::string_view frame, Segment* out, wire::ParseResult* detail) {
  *out = Segment{};
  wire::Frame f;
  const auto r = wire::parse_frame(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), &f,
                                   wire::RxChecksum::kVerify);
  if (detail != nullptr) *detail = r;
  if (r == wire::ParseResult::kIpFragment || r == wire::ParseResult::kUnsupportedIpProtocol ||
      r == wire::ParseResult::kUnsupportedEtherType) {
    return SegmentCheck::kNotTcp;
  }
  if (r != wire::ParseResult::kOk) return SegmentCheck::kMalformed;
  if (f.kind != wire::FrameKind::kTcp) return SegmentCheck::kNotTcp;
  if (f.eth.src.is_multicast() || f.ip.src.is_zero() || f.ip.src.is_broadcast() ||
      f.ip.src.is_multicast() || f.ip.dst.is_broadcast() || f.ip.dst.is_multicast() ||
      f.ip.dst.is_zero() || f.tcp.src_port == 0 || f.tcp.dst_port == 0) {
    return SegmentCheck::kBadAddress;
  }
  out->tuple.local_ip = f.ip.dst.value;
  out->tuple.remote_ip = f.ip.src.value;
  out->tuple.local_port = f.tcp.dst_port;
  out->tuple.remote_port = f.tcp.src_port;
  out->src_mac = f.eth.src;
  out->dst_mac = f.eth.dst;
  out->has_vlan = f.eth.has_vlan;
  out->vlan_tci = f.eth.vlan_tci;
  out->seq = f.tcp.seq;
  out->ack = f.tcp.ack;
  out->flags = f.tcp.flags;
  out->window = f.tcp.window;
  out->payload_length = f.tcp.payload_length;
  out->options = f.tcp.options;
  out->ecn = f.ip.ecn;
  return SegmentCheck::kOk;
}

}  // namespace vtas::conn
