// Building TCP/IPv4/Ethernet frames into caller-provided buffers: the fast path's data
// segments and ACKs, and the conn actor's SYN, SYN-ACK, FIN and RST. Also the in-place
// timestamp rewrite the fast path applies to control segments the slow path hands it (TAS's
// inject_tcp_ts). Inline, allocation-free; a buffer that is too small yields 0, never an
// overrun.
//
// Typical fast-path use (TX checksum offload on):
//   TcpSegmentSpec s = flow's addresses and ports; s.seq = ...; s.ack = ...;
//   s.flags = kTcpAck | kTcpPsh; s.window = rx_avail >> rx_wscale; s.ecn = Ecn::kEct0;
//   s.options.has_timestamps = true; s.options.tsval = now_us; s.options.tsecr = ts_recent;
//   s.payload = ...; s.payload_length = n; s.checksum = TxChecksum::kOffload;
//   size_t len = build_tcp_segment(mbuf_data, mbuf_room, s);   // 0: does not fit
//   mbuf->l2_len = tcp_l2_length(s); mbuf->l3_len = kIpv4MinHeaderLength; ol_flags = ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "components/wire/address.h"
#include "components/wire/byte_order.h"
#include "components/wire/checksum.h"
#include "components/wire/frame.h"
#include "components/wire/headers.h"
#include "components/wire/tcp_options.h"

namespace vtas::wire {

// What goes into the checksum fields of a built segment.
enum class TxChecksum : uint8_t {
  kSoftware,  // both checksums computed here
  kOffload,   // IPv4 checksum 0 and the TCP field holds tcp_pseudo_header_sum(): for a NIC
              // with RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM
};

struct TcpSegmentSpec {
  MacAddr src_mac;
  MacAddr dst_mac;
  bool has_vlan = false;  // insert an 802.1Q tag with vlan_tci
  uint16_t vlan_tci = 0;
  Ipv4Addr src_ip;
  Ipv4Addr dst_ip;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;    // kTcp* bits
  uint16_t window = 0;  // the 16-bit field as sent: already shifted by our window scale
  Ecn ecn = Ecn::kNotEct;
  uint8_t ttl = 64;
  uint16_t ip_id = 0;
  bool dont_fragment = true;
  TcpOptions options;  // emitted as laid out in tcp_options.h (the parse-only fields ignored)
  // Payload bytes, copied after the headers. To avoid the copy (a payload that wraps around a
  // ring, say), write it at buf + tcp_header_length(spec) first and pass that pointer here.
  const uint8_t* payload = nullptr;
  size_t payload_length = 0;
  TxChecksum checksum = TxChecksum::kSoftware;
};

// Ethernet header length of the segment (14, or 18 with a VLAN tag): DPDK's l2_len.
constexpr size_t tcp_l2_length(const TcpSegmentSpec& s) {
  return kEthernetHeaderLength + (s.has_vlan ? kVlanTagLength : 0);
}

// Bytes before the payload: Ethernet (+ tag), IPv4 (no options), TCP with options.
constexpr size_t tcp_header_length(const TcpSegmentSpec& s) {
  return tcp_l2_length(s) + kIpv4MinHeaderLength + kTcpMinHeaderLength +
         tcp_options_length(s.options);
}

// Writes the frame described by `s` into `buf` and returns its length: tcp_header_length(s) +
// s.payload_length. Returns 0, writing nothing, when that exceeds `cap`, the IPv4 total length
// would exceed 65535, or a payload length comes without a payload pointer.
inline size_t build_tcp_segment(uint8_t* buf, size_t cap, const TcpSegmentSpec& s) {
  const size_t l2 = tcp_l2_length(s);
  const size_t options_length = tcp_options_length(s.options);
  const size_t tcp_hdr = kTcpMinHeaderLength + options_length;
  const size_t headers = l2 + kIpv4MinHeaderLength + tcp_hdr;
  if (buf == nullptr || (s.payload == nullptr && s.payload_length != 0)) return 0;
  if (s.payload_length > 0xffff - kIpv4MinHeaderLength - tcp_hdr) return 0;
  if (cap < headers || cap - headers < s.payload_length) return 0;

  // Ethernet (+ 802.1Q).
  EthernetHeader eth;
  s.dst_mac.copy_to(eth.dst);
  s.src_mac.copy_to(eth.src);
  eth.ethertype = hton16(s.has_vlan ? kEtherTypeVlan : kEtherTypeIpv4);
  std::memcpy(buf, &eth, sizeof eth);
  if (s.has_vlan) {
    const VlanTag tag{hton16(s.vlan_tci), hton16(kEtherTypeIpv4)};
    std::memcpy(buf + kEthernetHeaderLength, &tag, sizeof tag);
  }

  // IPv4.
  const uint16_t tcp_length = static_cast<uint16_t>(tcp_hdr + s.payload_length);
  uint8_t* ip = buf + l2;
  Ipv4Header iph;
  iph.version_ihl = 0x45;
  iph.tos = static_cast<uint8_t>(s.ecn);
  iph.total_length = hton16(static_cast<uint16_t>(kIpv4MinHeaderLength + tcp_length));
  iph.id = hton16(s.ip_id);
  iph.fragment_offset_flags = hton16(s.dont_fragment ? kIpFlagDontFragment : 0);
  iph.ttl = s.ttl;
  iph.protocol = kIpProtoTcp;
  iph.checksum = 0;
  iph.src = hton32(s.src_ip.value);
  iph.dst = hton32(s.dst_ip.value);
  std::memcpy(ip, &iph, sizeof iph);
  if (s.checksum == TxChecksum::kSoftware) {
    store_be16(ip + offsetof(Ipv4Header, checksum), ipv4_header_checksum(ip, kIpv4MinHeaderLength));
  }

  // TCP, options, payload.
  uint8_t* tcp = ip + kIpv4MinHeaderLength;
  TcpHeader th;
  th.src_port = hton16(s.src_port);
  th.dst_port = hton16(s.dst_port);
  th.seq = hton32(s.seq);
  th.ack = hton32(s.ack);
  th.data_offset = static_cast<uint8_t>((tcp_hdr / 4) << 4);
  th.flags = s.flags;
  th.window = hton16(s.window);
  th.checksum = 0;
  th.urgent = 0;
  std::memcpy(tcp, &th, sizeof th);
  write_tcp_options(tcp + kTcpMinHeaderLength, s.options);
  uint8_t* payload = buf + headers;
  if (s.payload_length > 0 && s.payload != payload) {
    std::memmove(payload, s.payload, s.payload_length);
  }
  const uint16_t tcp_checksum_field = s.checksum == TxChecksum::kSoftware
                                          ? tcp_checksum(s.src_ip, s.dst_ip, tcp, tcp_length)
                                          : tcp_pseudo_header_sum(s.src_ip, s.dst_ip, tcp_length);
  store_be16(tcp + offsetof(TcpHeader, checksum), tcp_checksum_field);
  return headers + s.payload_length;
}

// Replaces TSval and TSecr in the timestamps option of the TCP/IPv4 frame at `frame` in place.
// With TxChecksum::kSoftware the TCP checksum is updated incrementally (RFC 1624), so it stays
// correct if it was; with kOffload it is left alone: it holds the pseudo-header sum, which
// does not cover the options. False, changing nothing, when the frame is not a TCP segment
// that parses or carries no valid timestamps option.
inline bool rewrite_tcp_timestamps(uint8_t* frame, size_t len, uint32_t tsval, uint32_t tsecr,
                                   TxChecksum checksum) {
  Frame f;
  if (parse_frame(frame, len, &f, RxChecksum::kTrustOffload) != ParseResult::kOk ||
      f.kind != FrameKind::kTcp || !f.tcp.options.has_timestamps) {
    return false;
  }
  uint8_t* tcp = frame + f.l4_offset;
  // TSval and TSecr: the 8 bytes after the option's kind and length bytes.
  const size_t field_offset = kTcpMinHeaderLength + f.tcp.options.timestamps_offset + 2;
  uint8_t new_bytes[8];
  store_be32(new_bytes, tsval);
  store_be32(new_bytes + 4, tsecr);
  if (checksum == TxChecksum::kSoftware) {
    const uint16_t old_checksum = load_be16(tcp + offsetof(TcpHeader, checksum));
    // The pseudo-header is 12 bytes, so an offset's parity in the segment is its parity in the
    // checksummed data.
    const uint16_t new_checksum =
        checksum_update_bytes(old_checksum, field_offset, tcp + field_offset, new_bytes, 8);
    store_be16(tcp + offsetof(TcpHeader, checksum), new_checksum);
  }
  std::memcpy(tcp + field_offset, new_bytes, 8);
  return true;
}

}  // namespace vtas::wire
