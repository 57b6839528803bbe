#include "runtime/manifest/ipv4.h"

#include <charconv>

namespace vtas {
namespace {

// A decimal number 0..max without sign, spaces or leading zeros.
std::optional<uint32_t> parse_decimal_part(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

}  // namespace

std::optional<uint32_t> parse_ipv4_address(std::string_view text) {
  uint32_t address = 0;
  for (int part = 0; part < 4; ++part) {
    size_t dot = text.find('.');
    bool last = part == 3;
    if (last != (dot == std::string_view::npos)) return std::nullopt;
    auto value = parse_decimal_part(text.substr(0, dot), 255);
    if (!value) return std::nullopt;
    address = (address << 8) | *value;
    text = last ? std::string_view() : text.substr(dot + 1);
  }
  return address;
}

std::string format_ipv4_address(uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xff) + "." +
         std::to_string((address >> 8) & 0xff) + "." + std::to_string(address & 0xff);
}

Result<Ipv4Prefix> parse_ipv4_prefix(std::string_view text, uint8_t default_length) {
  size_t slash = text.find('/');
  std::string_view address_text = text.substr(0, slash);
  auto address = parse_ipv4_address(address_text);
  if (!address) {
    return make_error("\"" + std::string(address_text) +
                      "\" is not an IPv4 address (expected four numbers 0..255 like 10.0.0.1)");
  }
  Ipv4Prefix prefix{*address, default_length};
  if (slash != std::string_view::npos) {
    std::string_view length_text = text.substr(slash + 1);
    auto length = parse_decimal_part(length_text, 32);
    if (!length) {
      return make_error("prefix length \"" + std::string(length_text) + "\" is not a number 0..32");
    }
    prefix.length = static_cast<uint8_t>(*length);
  }
  return prefix;
}

std::optional<std::string> why_not_unicast(uint32_t address) {
  if (address == 0) return "the unspecified address";
  if (address == 0xffffffffu) return "the broadcast address";
  if ((address >> 28) == 0xe) return "a multicast address";
  if ((address >> 28) == 0xf) return "a reserved address (240.0.0.0/4)";
  return std::nullopt;
}

}  // namespace vtas
