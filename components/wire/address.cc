#include "components/wire/address.h"

#include <cstdio>

namespace vtas::wire {

std::string to_string(const MacAddr& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac.bytes[0], mac.bytes[1],
                mac.bytes[2], mac.bytes[3], mac.bytes[4], mac.bytes[5]);
  return buf;
}

std::string to_string(const Ipv4Addr& ip) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", (ip.value >> 24) & 0xff, (ip.value >> 16) & 0xff,
                (ip.value >> 8) & 0xff, ip.value & 0xff);
  return buf;
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<MacAddr> parse_mac(std::string_view text) {
  auto fail = [&] {
    return make_error("invalid MAC address '" + std::string(text) +
                      "': expected six pairs of hex digits separated by ':', "
                      "e.g. 02:00:00:00:00:01");
  };
  if (text.size() != 17) return fail();
  MacAddr mac;
  for (size_t i = 0; i < 6; ++i) {
    const size_t at = i * 3;
    if (i > 0 && text[at - 1] != ':') return fail();
    const int hi = hex_digit(text[at]);
    const int lo = hex_digit(text[at + 1]);
    if (hi < 0 || lo < 0) return fail();
    mac.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return mac;
}

Result<Ipv4Addr> parse_ipv4(std::string_view text) {
  auto fail = [&](const char* why) {
    return make_error("invalid IPv4 address '" + std::string(text) + "': " + why +
                      "; expected four decimal octets 0-255 like 10.0.0.1");
  };
  uint32_t value = 0;
  size_t pos = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (pos >= text.size() || text[pos] != '.') return fail("expected '.' between octets");
      ++pos;
    }
    const size_t start = pos;
    uint32_t n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 4) {
      n = n * 10 + static_cast<uint32_t>(text[pos] - '0');
      ++pos;
    }
    const size_t digits = pos - start;
    if (digits == 0) return fail("an octet is empty or not a decimal number");
    if (digits > 3 || n > 255) return fail("an octet is larger than 255");
    if (digits > 1 && text[start] == '0') return fail("an octet has a leading zero");
    value = (value << 8) | n;
  }
  if (pos != text.size()) return fail("unexpected characters after the fourth octet");
  return Ipv4Addr{value};
}

}  // namespace vtas::wire
