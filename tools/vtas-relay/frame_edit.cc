#include "tools/vtas-relay/frame_edit.h"

#include <arpa/inet.h>

#include <cstring>

namespace vtas::relay {
namespace {

constexpr size_t kEthernetHeader = 14;
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kTcpCwr = 0x80;

uint16_t read16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
void write16(uint8_t* p, uint16_t v) {
  std::memcpy(p, &v, 2);
}

}  // namespace

uint16_t checksum_adjust(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  // HC' = ~(~HC + ~m + m'), in one's complement arithmetic (byte order does not matter as
  // long as every operand is in the same one).
  uint32_t sum = static_cast<uint16_t>(~checksum);
  sum += static_cast<uint16_t>(~old_word);
  sum += new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

FrameInfo inspect(const uint8_t* frame, size_t length) {
  FrameInfo info;
  if (length < kEthernetHeader) return info;
  size_t offset = 12;
  uint16_t type = ntohs(read16(frame + offset));
  if (type == kEtherVlan) {
    if (length < kEthernetHeader + 4) return info;
    offset += 4;
    type = ntohs(read16(frame + offset));
  }
  const size_t l3 = offset + 2;
  size_t l4 = 0;
  uint8_t protocol = 0;
  size_t ip_end = 0;
  if (type == kEtherIpv4) {
    if (length < l3 + 20) return info;
    const uint8_t ihl = frame[l3] & 0x0f;
    if ((frame[l3] >> 4) != 4 || ihl < 5 || length < l3 + ihl * 4u) return info;
    info.ip = true;
    info.ecn = frame[l3 + 1] & 0x03;
    protocol = frame[l3 + 9];
    l4 = l3 + ihl * 4u;
    ip_end = l3 + ntohs(read16(frame + l3 + 2));
    // Fragments other than the first carry no TCP header.
    if ((ntohs(read16(frame + l3 + 6)) & 0x1fff) != 0) protocol = 0;
  } else if (type == kEtherIpv6) {
    if (length < l3 + 40 || (frame[l3] >> 4) != 6) return info;
    info.ip = true;
    info.ipv6 = true;
    info.ecn = static_cast<uint8_t>((ntohs(read16(frame + l3)) >> 4) & 0x03);
    protocol = frame[l3 + 6];  // extension headers: not looked through
    l4 = l3 + 40;
    ip_end = l4 + ntohs(read16(frame + l3 + 4));
  } else {
    return info;
  }
  info.l3_offset = l3;
  if (protocol == kProtoTcp && length >= l4 + 20) {
    const size_t tcp_header = (frame[l4 + 12] >> 4) * 4u;
    if (tcp_header >= 20 && ip_end <= length && ip_end >= l4 + tcp_header) {
      info.tcp = true;
      info.l4_offset = l4;
      info.tcp_data = ip_end > l4 + tcp_header;
    }
  }
  return info;
}

bool set_ce(uint8_t* frame, size_t length, const FrameInfo& info) {
  if (!info.ip || (info.ecn != kEcnEct0 && info.ecn != kEcnEct1)) return false;
  const size_t l3 = info.l3_offset;
  if (info.ipv6) {
    if (length < l3 + 2) return false;
    // Traffic class straddles bytes 0 and 1: its low two bits (ECN) are bits 4-5 of byte 1.
    frame[l3 + 1] |= 0x30;
    return true;
  }
  if (length < l3 + 12) return false;
  const uint16_t old_word = read16(frame + l3);  // version/IHL and TOS
  frame[l3 + 1] |= kEcnCe;
  const uint16_t new_word = read16(frame + l3);
  write16(frame + l3 + 10, checksum_adjust(read16(frame + l3 + 10), old_word, new_word));
  return true;
}

bool set_cwr(uint8_t* frame, size_t length, const FrameInfo& info) {
  if (!info.tcp || length < info.l4_offset + 18) return false;
  const size_t flags_word = info.l4_offset + 12;  // data offset + flags
  if (frame[flags_word + 1] & kTcpCwr) return false;
  const uint16_t old_word = read16(frame + flags_word);
  frame[flags_word + 1] |= kTcpCwr;
  const uint16_t new_word = read16(frame + flags_word);
  const size_t checksum = info.l4_offset + 16;
  write16(frame + checksum, checksum_adjust(read16(frame + checksum), old_word, new_word));
  return true;
}

void flip_byte(uint8_t* frame, size_t length, size_t offset, uint8_t mask) {
  if (offset < length) frame[offset] ^= mask;
}

}  // namespace vtas::relay
