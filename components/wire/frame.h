// parse_frame(): one received Ethernet frame -> a checked Frame (Ethernet, optional 802.1Q tag,
// then ARP, or IPv4 and TCP with its options). The fast path calls it once per received
// packet and works from the Frame only; the slow-path actors call it on the frames the fast
// path hands them. Inline, allocation-free, exception-free, and safe on any bytes: every read
// is bounds-checked against `len` and, above IPv4, against the IPv4 total length.
//
// Typical fast-path use:
//   Frame f;
//   ParseResult r = parse_frame(data, len, &f, nic_checked ? RxChecksum::kTrustOffload
//                                                          : RxChecksum::kVerify);
//   if (r != ParseResult::kOk || f.kind != FrameKind::kTcp) -> count by r, hand to slow path
//   flow lookup by (f.ip.src, f.ip.dst, f.tcp.src_port, f.tcp.dst_port);
//   payload = data + f.tcp.payload_offset, f.tcp.payload_length bytes; CE = f.ip.ce().
#pragma once

#include <cstddef>
#include <cstdint>

#include "components/wire/address.h"
#include "components/wire/arp.h"
#include "components/wire/byte_order.h"
#include "components/wire/checksum.h"
#include "components/wire/headers.h"
#include "components/wire/parse_result.h"
#include "components/wire/tcp_options.h"

namespace vtas::wire {

// Whether parse_frame checks the IPv4 and TCP checksums. kTrustOffload is only for frames the
// NIC has already verified (DPDK RTE_MBUF_F_RX_*_CKSUM_GOOD); frames it flagged bad are the
// caller's to drop, and frames it did not check must be parsed with kVerify.
enum class RxChecksum : uint8_t { kVerify, kTrustOffload };

// How far parsing got: which of the Frame's parts below are valid. On kOk it is kArp or kTcp;
// on an error it says which layers were fully parsed before the one that failed (an
// kIpFragment or kUnsupportedIpProtocol result comes with kind == kIpv4, for example).
enum class FrameKind : uint8_t {
  kNone,      // nothing valid
  kEthernet,  // eth
  kArp,       // eth, l3_*, arp
  kIpv4,      // eth, l3_*, ip
  kTcp,       // eth, l3_*, ip, l4_*, tcp
};

struct EthernetInfo {
  MacAddr dst;
  MacAddr src;
  bool has_vlan = false;
  uint16_t vlan_tci = 0;   // host order, when has_vlan: priority, DEI and VLAN id
  uint16_t ethertype = 0;  // host order; the inner one when there is a VLAN tag
};

struct Ipv4Info {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t header_length = 0;  // bytes, 20..60; IPv4 options are skipped, not interpreted
  uint16_t total_length = 0;  // bytes, header included; link-layer padding is not
  uint8_t ttl = 0;
  uint8_t protocol = 0;
  uint8_t dscp = 0;  // the upper 6 bits of the traffic class
  Ecn ecn = Ecn::kNotEct;
  uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  uint16_t fragment_offset = 0;  // bytes

  bool is_fragment() const { return more_fragments || fragment_offset != 0; }
  bool ce() const { return ecn == Ecn::kCe; }
};

struct TcpInfo {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;            // kTcp* bits
  uint16_t window = 0;          // as sent: shift it by the peer's window scale yourself
  uint8_t header_length = 0;    // bytes, 20..60, options included
  uint16_t payload_offset = 0;  // from the start of the frame
  uint16_t payload_length = 0;
  TcpOptions options;

  bool has(uint8_t flag_bits) const { return (flags & flag_bits) == flag_bits; }
};

struct Frame {
  FrameKind kind = FrameKind::kNone;
  EthernetInfo eth;
  uint16_t l3_offset = 0;  // start of ARP or IPv4, from the start of the frame (14 or 18)
  uint16_t l3_length = 0;  // ARP: 28; IPv4: total_length
  ArpPacket arp;
  Ipv4Info ip;
  uint16_t l4_offset = 0;  // start of the TCP header
  uint16_t l4_length = 0;  // TCP header + payload
  TcpInfo tcp;

  // The frame without link-layer padding: what a byte-exact copy or a capture needs.
  size_t unpadded_length() const { return size_t{l3_offset} + l3_length; }
};

namespace detail {

inline ParseResult parse_ethernet(const uint8_t* data, size_t len, Frame* f) {
  if (len < kEthernetHeaderLength) return ParseResult::kTooShort;
  f->eth.dst = MacAddr::from_bytes(data + offsetof(EthernetHeader, dst));
  f->eth.src = MacAddr::from_bytes(data + offsetof(EthernetHeader, src));
  uint16_t ethertype = load_be16(data + offsetof(EthernetHeader, ethertype));
  size_t l3 = kEthernetHeaderLength;
  if (ethertype == kEtherTypeVlan) {
    if (len < kEthernetHeaderLength + kVlanTagLength) return ParseResult::kTooShort;
    f->eth.has_vlan = true;
    f->eth.vlan_tci = load_be16(data + l3 + offsetof(VlanTag, tci));
    ethertype = load_be16(data + l3 + offsetof(VlanTag, ethertype));
    l3 += kVlanTagLength;
  }
  f->eth.ethertype = ethertype;
  f->l3_offset = static_cast<uint16_t>(l3);
  f->kind = FrameKind::kEthernet;
  return ParseResult::kOk;
}

// IPv4 header at data[f->l3_offset]; `len` is the whole frame's.
inline ParseResult parse_ipv4(const uint8_t* data, size_t len, Frame* f, RxChecksum check) {
  const uint8_t* ip = data + f->l3_offset;
  const size_t avail = len - f->l3_offset;
  if (avail < kIpv4MinHeaderLength) return ParseResult::kTooShort;
  if ((ip[0] >> 4) != 4) return ParseResult::kBadIpVersion;
  const size_t header_length = size_t{ip[0] & 0x0fu} * 4;
  if (header_length < kIpv4MinHeaderLength) return ParseResult::kBadIpHeaderLength;
  if (header_length > avail) return ParseResult::kTooShort;
  const uint16_t total_length = load_be16(ip + offsetof(Ipv4Header, total_length));
  if (total_length < header_length || total_length > avail) {
    return ParseResult::kBadIpTotalLength;
  }
  if (check == RxChecksum::kVerify && ipv4_header_checksum(ip, header_length) != 0) {
    return ParseResult::kBadIpChecksum;
  }
  Ipv4Info& i = f->ip;
  i.src = Ipv4Addr{load_be32(ip + offsetof(Ipv4Header, src))};
  i.dst = Ipv4Addr{load_be32(ip + offsetof(Ipv4Header, dst))};
  i.header_length = static_cast<uint8_t>(header_length);
  i.total_length = total_length;
  i.ttl = ip[offsetof(Ipv4Header, ttl)];
  i.protocol = ip[offsetof(Ipv4Header, protocol)];
  const uint8_t tos = ip[offsetof(Ipv4Header, tos)];
  i.dscp = static_cast<uint8_t>(tos >> 2);
  i.ecn = static_cast<Ecn>(tos & 0x3);
  i.id = load_be16(ip + offsetof(Ipv4Header, id));
  const uint16_t frag = load_be16(ip + offsetof(Ipv4Header, fragment_offset_flags));
  i.dont_fragment = (frag & kIpFlagDontFragment) != 0;
  i.more_fragments = (frag & kIpFlagMoreFragments) != 0;
  i.fragment_offset = static_cast<uint16_t>((frag & kIpFragmentOffsetMask) * 8);
  f->l3_length = total_length;
  f->kind = FrameKind::kIpv4;
  if (i.is_fragment()) return ParseResult::kIpFragment;
  if (i.protocol != kIpProtoTcp) return ParseResult::kUnsupportedIpProtocol;
  return ParseResult::kOk;
}

// TCP segment after a parsed IPv4 header (bounded by the IPv4 total length).
inline ParseResult parse_tcp(const uint8_t* data, Frame* f, RxChecksum check) {
  const size_t l4_offset = size_t{f->l3_offset} + f->ip.header_length;
  const size_t l4_length = size_t{f->ip.total_length} - f->ip.header_length;
  const uint8_t* tcp = data + l4_offset;
  if (l4_length < kTcpMinHeaderLength) return ParseResult::kTooShort;
  const size_t header_length = size_t{tcp[offsetof(TcpHeader, data_offset)]} >> 4 << 2;
  if (header_length < kTcpMinHeaderLength || header_length > l4_length) {
    return ParseResult::kBadTcpHeaderLength;
  }
  if (check == RxChecksum::kVerify && tcp_checksum(f->ip.src, f->ip.dst, tcp, l4_length) != 0) {
    return ParseResult::kBadTcpChecksum;
  }
  TcpInfo& t = f->tcp;
  t.src_port = load_be16(tcp + offsetof(TcpHeader, src_port));
  t.dst_port = load_be16(tcp + offsetof(TcpHeader, dst_port));
  t.seq = load_be32(tcp + offsetof(TcpHeader, seq));
  t.ack = load_be32(tcp + offsetof(TcpHeader, ack));
  t.flags = tcp[offsetof(TcpHeader, flags)];
  t.window = load_be16(tcp + offsetof(TcpHeader, window));
  t.header_length = static_cast<uint8_t>(header_length);
  t.payload_offset = static_cast<uint16_t>(l4_offset + header_length);
  t.payload_length = static_cast<uint16_t>(l4_length - header_length);
  f->l4_offset = static_cast<uint16_t>(l4_offset);
  f->l4_length = static_cast<uint16_t>(l4_length);
  const ParseResult r =
      parse_tcp_options(tcp + kTcpMinHeaderLength, header_length - kTcpMinHeaderLength, &t.options);
  if (r != ParseResult::kOk) return r;
  f->kind = FrameKind::kTcp;
  return ParseResult::kOk;
}

}  // namespace detail

// Parses the `len` bytes at `data` into `*out` (reset first). See ParseResult for the errors
// and FrameKind for what is valid afterwards. Checksums are verified unless told otherwise.
inline ParseResult parse_frame(const uint8_t* data, size_t len, Frame* out,
                               RxChecksum checksum = RxChecksum::kVerify) {
  *out = Frame{};
  if (data == nullptr) return ParseResult::kTooShort;
  ParseResult r = detail::parse_ethernet(data, len, out);
  if (r != ParseResult::kOk) return r;
  if (out->eth.ethertype == kEtherTypeArp) {
    r = parse_arp(data + out->l3_offset, len - out->l3_offset, &out->arp);
    if (r != ParseResult::kOk) return r;
    out->l3_length = static_cast<uint16_t>(kArpLength);
    out->kind = FrameKind::kArp;
    return ParseResult::kOk;
  }
  if (out->eth.ethertype != kEtherTypeIpv4) return ParseResult::kUnsupportedEtherType;
  r = detail::parse_ipv4(data, len, out, checksum);
  if (r != ParseResult::kOk) return r;
  return detail::parse_tcp(data, out, checksum);
}

}  // namespace vtas::wire
