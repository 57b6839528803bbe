// ARP for IPv4 over Ethernet (RFC 826; announcements per RFC 5227): the checked form of an ARP
// packet, its parser (called by parse_frame) and builders for requests, replies and gratuitous
// announcements (called by the arp actor). Nothing else of ARP exists in vtas.
#pragma once

#include <cstddef>
#include <cstdint>

#include "components/wire/address.h"
#include "components/wire/byte_order.h"
#include "components/wire/headers.h"
#include "components/wire/parse_result.h"

namespace vtas::wire {

enum class ArpOp : uint16_t {
  kRequest = kArpOpRequest,
  kReply = kArpOpReply,
};

struct ArpPacket {
  ArpOp op = ArpOp::kRequest;
  MacAddr sender_mac;
  Ipv4Addr sender_ip;
  MacAddr target_mac;  // zero in a request
  Ipv4Addr target_ip;

  // An announcement of the sender's own binding (sender IP == target IP), request or reply.
  bool is_gratuitous() const { return sender_ip == target_ip; }
};

// Parses the 28-byte ARP body at `data` (the bytes after the Ethernet header; link-layer
// padding after the body is ignored). kTooShort, kBadArp (not Ethernet/IPv4 with lengths 6/4,
// or an opcode other than request/reply) or kOk.
inline ParseResult parse_arp(const uint8_t* data, size_t len, ArpPacket* out) {
  if (len < kArpLength) return ParseResult::kTooShort;
  if (load_be16(data + offsetof(ArpHeader, hardware_type)) != kArpHardwareEthernet ||
      load_be16(data + offsetof(ArpHeader, protocol_type)) != kEtherTypeIpv4 ||
      data[offsetof(ArpHeader, hardware_length)] != 6 ||
      data[offsetof(ArpHeader, protocol_length)] != 4) {
    return ParseResult::kBadArp;
  }
  const uint16_t op = load_be16(data + offsetof(ArpHeader, op));
  if (op != kArpOpRequest && op != kArpOpReply) return ParseResult::kBadArp;
  out->op = static_cast<ArpOp>(op);
  out->sender_mac = MacAddr::from_bytes(data + offsetof(ArpHeader, sender_mac));
  out->sender_ip = Ipv4Addr{load_be32(data + offsetof(ArpHeader, sender_ip))};
  out->target_mac = MacAddr::from_bytes(data + offsetof(ArpHeader, target_mac));
  out->target_ip = Ipv4Addr{load_be32(data + offsetof(ArpHeader, target_ip))};
  return ParseResult::kOk;
}

// Length of every ARP frame the builders produce: 14 + 28 = 42 bytes, no VLAN tag. It is not
// padded to the 60-byte Ethernet minimum: NICs (and DPDK's virtual devices) pad on transmit.
inline constexpr size_t kArpFrameLength = kEthernetHeaderLength + kArpLength;

// Writes an Ethernet frame from `eth_src` to `eth_dst` carrying `arp` into `buf`. Returns the
// frame length (kArpFrameLength), or 0 when `cap` is smaller than that.
size_t build_arp(uint8_t* buf, size_t cap, MacAddr eth_src, MacAddr eth_dst, const ArpPacket& arp);

// Who has `target_ip`? Tell `my_ip` (broadcast).
size_t build_arp_request(uint8_t* buf, size_t cap, MacAddr my_mac, Ipv4Addr my_ip,
                         Ipv4Addr target_ip);

// Answers `request` (which asked for an address we own, `my_mac`) unicast to its sender.
size_t build_arp_reply(uint8_t* buf, size_t cap, MacAddr my_mac, const ArpPacket& request);

// RFC 5227 announcement of our own binding: a broadcast request with sender IP = target IP and
// a zero target MAC, sent at start-up and after an address change so neighbours update.
size_t build_gratuitous_arp(uint8_t* buf, size_t cap, MacAddr my_mac, Ipv4Addr my_ip);

}  // namespace vtas::wire
