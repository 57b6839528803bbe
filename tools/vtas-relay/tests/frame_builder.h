// Test frames for the relay's unit tests: Ethernet + IPv4 (or IPv6) + TCP with correct
// checksums, and a full (not incremental) checksum to check edits against.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace vtas::relay::testing {

inline uint16_t internet_checksum(const uint8_t* data, size_t length, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < length; i += 2)
    sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (length & 1) sum += static_cast<uint32_t>(data[length - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// IPv4 header checksum over the header as it is (0 when correct... i.e. the sum folds to 0).
inline bool ipv4_checksum_ok(const std::vector<uint8_t>& f) {
  return internet_checksum(f.data() + 14, 20) == 0;
}

inline bool tcp_checksum_ok(const std::vector<uint8_t>& f) {
  const uint8_t* ip = f.data() + 14;
  const size_t tcp_length = f.size() - 34;
  uint32_t pseudo = 0;
  for (int i = 12; i < 20; i += 2) pseudo += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
  pseudo += 6;
  pseudo += static_cast<uint32_t>(tcp_length);
  return internet_checksum(f.data() + 34, tcp_length, pseudo) == 0;
}

// Ethernet + IPv4 (ECN field `ecn`) + TCP (flags 0x10 ACK) + `payload` bytes.
inline std::vector<uint8_t> tcp_frame(uint8_t ecn, size_t payload) {
  std::vector<uint8_t> f(14 + 20 + 20 + payload, 0);
  f[12] = 0x08;
  f[13] = 0x00;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  ip[1] = ecn;
  const uint16_t total = htons(static_cast<uint16_t>(40 + payload));
  std::memcpy(ip + 2, &total, 2);
  ip[8] = 64;
  ip[9] = 6;
  const uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
  std::memcpy(ip + 12, addrs, 8);
  const uint16_t ip_sum = htons(internet_checksum(ip, 20));
  std::memcpy(ip + 10, &ip_sum, 2);
  uint8_t* tcp = ip + 20;
  tcp[0] = 0x1f;
  tcp[1] = 0x90;  // port 8080
  tcp[3] = 80;
  tcp[12] = 5 << 4;
  tcp[13] = 0x10;
  for (size_t i = 0; i < payload; ++i) tcp[20 + i] = static_cast<uint8_t>(i * 7 + 3);
  uint32_t pseudo = 0;
  for (int i = 12; i < 20; i += 2) pseudo += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
  pseudo += 6 + static_cast<uint32_t>(20 + payload);
  const uint16_t tcp_sum = htons(internet_checksum(tcp, 20 + payload, pseudo));
  std::memcpy(tcp + 16, &tcp_sum, 2);
  return f;
}

}  // namespace vtas::relay::testing
