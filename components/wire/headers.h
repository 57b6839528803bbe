// On-the-wire layouts of the headers vtas speaks (Ethernet II with an optional 802.1Q tag, ARP
// for IPv4 over Ethernet, IPv4, TCP) and their protocol constants. Used by the parsers and
// builders in this folder; other code should use those rather than touch headers directly.
//
// The structs are exact byte images (multi-byte fields in network byte order) with their
// sizes and offsets pinned by static_assert. They are copied in and out of packet buffers with
// memcpy, never overlaid on a buffer by pointer cast: a buffer is bytes, and a misaligned or
// aliased struct access is undefined behaviour that sanitizers (rightly) flag.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vtas::wire {

// ---- Ethernet II --------------------------------------------------------------------------

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // 802.1Q tag; one level is understood

struct __attribute__((packed)) EthernetHeader {
  uint8_t dst[6];
  uint8_t src[6];
  uint16_t ethertype;  // network order; kEtherTypeVlan means a VlanTag follows
};
static_assert(sizeof(EthernetHeader) == 14);
static_assert(offsetof(EthernetHeader, dst) == 0);
static_assert(offsetof(EthernetHeader, src) == 6);
static_assert(offsetof(EthernetHeader, ethertype) == 12);

// The 4 bytes after the outer ethertype 0x8100: tag control info, then the inner ethertype.
struct __attribute__((packed)) VlanTag {
  uint16_t tci;        // network order: priority (3 bits), DEI (1), VLAN id (12)
  uint16_t ethertype;  // network order
};
static_assert(sizeof(VlanTag) == 4);
static_assert(offsetof(VlanTag, tci) == 0);
static_assert(offsetof(VlanTag, ethertype) == 2);

inline constexpr size_t kEthernetHeaderLength = sizeof(EthernetHeader);
inline constexpr size_t kVlanTagLength = sizeof(VlanTag);

// ---- ARP (RFC 826), IPv4 over Ethernet only -----------------------------------------------

inline constexpr uint16_t kArpHardwareEthernet = 1;
inline constexpr uint16_t kArpOpRequest = 1;
inline constexpr uint16_t kArpOpReply = 2;

struct __attribute__((packed)) ArpHeader {
  uint16_t hardware_type;   // network order; kArpHardwareEthernet
  uint16_t protocol_type;   // network order; kEtherTypeIpv4
  uint8_t hardware_length;  // 6
  uint8_t protocol_length;  // 4
  uint16_t op;              // network order; kArpOpRequest or kArpOpReply
  uint8_t sender_mac[6];
  uint8_t sender_ip[4];
  uint8_t target_mac[6];
  uint8_t target_ip[4];
};
static_assert(sizeof(ArpHeader) == 28);
static_assert(offsetof(ArpHeader, hardware_type) == 0);
static_assert(offsetof(ArpHeader, protocol_type) == 2);
static_assert(offsetof(ArpHeader, hardware_length) == 4);
static_assert(offsetof(ArpHeader, protocol_length) == 5);
static_assert(offsetof(ArpHeader, op) == 6);
static_assert(offsetof(ArpHeader, sender_mac) == 8);
static_assert(offsetof(ArpHeader, sender_ip) == 14);
static_assert(offsetof(ArpHeader, target_mac) == 18);
static_assert(offsetof(ArpHeader, target_ip) == 24);

inline constexpr size_t kArpLength = sizeof(ArpHeader);

// ---- IPv4 (RFC 791) -----------------------------------------------------------------------

inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint16_t kIpFlagDontFragment = 0x4000;  // in fragment_offset_flags (host order)
inline constexpr uint16_t kIpFlagMoreFragments = 0x2000;
inline constexpr uint16_t kIpFragmentOffsetMask = 0x1fff;  // in 8-byte units

// The two low bits of the IPv4 traffic class byte (RFC 3168).
enum class Ecn : uint8_t {
  kNotEct = 0,  // not ECN-capable
  kEct1 = 1,
  kEct0 = 2,  // what vtas marks its data segments with
  kCe = 3,    // congestion experienced: echo it as ECE
};

struct __attribute__((packed)) Ipv4Header {
  uint8_t version_ihl;             // version (4) in the high nibble, header length in words low
  uint8_t tos;                     // DSCP (6 bits) << 2 | ECN (2 bits)
  uint16_t total_length;           // network order: header + payload, no link-layer padding
  uint16_t id;                     // network order
  uint16_t fragment_offset_flags;  // network order: kIpFlag* | offset in 8-byte units
  uint8_t ttl;
  uint8_t protocol;
  uint16_t checksum;  // network order
  uint32_t src;       // network order
  uint32_t dst;       // network order
};
static_assert(sizeof(Ipv4Header) == 20);
static_assert(offsetof(Ipv4Header, version_ihl) == 0);
static_assert(offsetof(Ipv4Header, tos) == 1);
static_assert(offsetof(Ipv4Header, total_length) == 2);
static_assert(offsetof(Ipv4Header, id) == 4);
static_assert(offsetof(Ipv4Header, fragment_offset_flags) == 6);
static_assert(offsetof(Ipv4Header, ttl) == 8);
static_assert(offsetof(Ipv4Header, protocol) == 9);
static_assert(offsetof(Ipv4Header, checksum) == 10);
static_assert(offsetof(Ipv4Header, src) == 12);
static_assert(offsetof(Ipv4Header, dst) == 16);

inline constexpr size_t kIpv4MinHeaderLength = sizeof(Ipv4Header);
inline constexpr size_t kIpv4MaxHeaderLength = 60;

// ---- TCP (RFC 9293) -----------------------------------------------------------------------

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;
inline constexpr uint8_t kTcpUrg = 0x20;
inline constexpr uint8_t kTcpEce = 0x40;
inline constexpr uint8_t kTcpCwr = 0x80;

struct __attribute__((packed)) TcpHeader {
  uint16_t src_port;    // network order
  uint16_t dst_port;    // network order
  uint32_t seq;         // network order
  uint32_t ack;         // network order
  uint8_t data_offset;  // header length in words in the high nibble; low nibble reserved (0)
  uint8_t flags;        // kTcp* bits
  uint16_t window;      // network order, before window scaling
  uint16_t checksum;    // network order
  uint16_t urgent;      // network order
};
static_assert(sizeof(TcpHeader) == 20);
static_assert(offsetof(TcpHeader, src_port) == 0);
static_assert(offsetof(TcpHeader, dst_port) == 2);
static_assert(offsetof(TcpHeader, seq) == 4);
static_assert(offsetof(TcpHeader, ack) == 8);
static_assert(offsetof(TcpHeader, data_offset) == 12);
static_assert(offsetof(TcpHeader, flags) == 13);
static_assert(offsetof(TcpHeader, window) == 14);
static_assert(offsetof(TcpHeader, checksum) == 16);
static_assert(offsetof(TcpHeader, urgent) == 18);

inline constexpr size_t kTcpMinHeaderLength = sizeof(TcpHeader);
inline constexpr size_t kTcpMaxHeaderLength = 60;
inline constexpr size_t kTcpMaxOptionsLength = kTcpMaxHeaderLength - kTcpMinHeaderLength;

// TCP option kinds and their fixed lengths (kind and length bytes included).
inline constexpr uint8_t kTcpOptEol = 0;
inline constexpr uint8_t kTcpOptNop = 1;
inline constexpr uint8_t kTcpOptMss = 2;
inline constexpr uint8_t kTcpOptWindowScale = 3;
inline constexpr uint8_t kTcpOptSackPermitted = 4;
inline constexpr uint8_t kTcpOptSack = 5;
inline constexpr uint8_t kTcpOptTimestamps = 8;
inline constexpr uint8_t kTcpOptLenMss = 4;
inline constexpr uint8_t kTcpOptLenWindowScale = 3;
inline constexpr uint8_t kTcpOptLenSackPermitted = 2;
inline constexpr uint8_t kTcpOptLenTimestamps = 10;
inline constexpr uint8_t kTcpMaxWindowScale = 14;  // RFC 7323 section 2.3

}  // namespace vtas::wire
