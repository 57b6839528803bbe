#include "components/wire/arp.h"

#include <cstring>

namespace vtas::wire {

size_t build_arp(uint8_t* buf, size_t cap, MacAddr eth_src, MacAddr eth_dst, const ArpPacket& arp) {
  if (buf == nullptr || cap < kArpFrameLength) return 0;
  EthernetHeader eth;
  eth_dst.copy_to(eth.dst);
  eth_src.copy_to(eth.src);
  eth.ethertype = hton16(kEtherTypeArp);
  std::memcpy(buf, &eth, sizeof eth);

  ArpHeader a;
  a.hardware_type = hton16(kArpHardwareEthernet);
  a.protocol_type = hton16(kEtherTypeIpv4);
  a.hardware_length = 6;
  a.protocol_length = 4;
  a.op = hton16(static_cast<uint16_t>(arp.op));
  arp.sender_mac.copy_to(a.sender_mac);
  store_be32(a.sender_ip, arp.sender_ip.value);
  arp.target_mac.copy_to(a.target_mac);
  store_be32(a.target_ip, arp.target_ip.value);
  std::memcpy(buf + kEthernetHeaderLength, &a, sizeof a);
  return kArpFrameLength;
}

size_t build_arp_request(uint8_t* buf, size_t cap, MacAddr my_mac, Ipv4Addr my_ip,
                         Ipv4Addr target_ip) {
  const ArpPacket arp{ArpOp::kRequest, my_mac, my_ip, MacAddr{}, target_ip};
  return build_arp(buf, cap, my_mac, MacAddr::broadcast(), arp);
}

size_t build_arp_reply(uint8_t* buf, size_t cap, MacAddr my_mac, const ArpPacket& request) {
  const ArpPacket arp{ArpOp::kReply, my_mac, request.target_ip, request.sender_mac,
                      request.sender_ip};
  return build_arp(buf, cap, my_mac, request.sender_mac, arp);
}

size_t build_gratuitous_arp(uint8_t* buf, size_t cap, MacAddr my_mac, Ipv4Addr my_ip) {
  const ArpPacket arp{ArpOp::kRequest, my_mac, my_ip, MacAddr{}, my_ip};
  return build_arp(buf, cap, my_mac, MacAddr::broadcast(), arp);
}

}  // namespace vtas::wire
