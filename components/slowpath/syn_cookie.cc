#include "components/slowpath/syn_cookie.h"

#include <chrono>

namespace vtas::conn {
namespace {

constexpr uint32_t kMssBits = 3;
constexpr uint32_t kMssMask = (1u << kMssBits) - 1;

uint64_t slot_of(TimePoint now) {
  return static_cast<uint64_t>(
             std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()) /
         64;
}

}  // namespace

// A key of its own, derived from conn's: a cookie reveals nothing about the ISN function.
SynCookies::SynCookies(SipKey key)
    : key_{key.k0 ^ 0x636f6f6b69657321ull, key.k1 ^ 0x73796e2d61636b21ull} {}

uint32_t SynCookies::hash_bits(const FourTuple& tuple, uint32_t peer_isn, uint64_t slot) const {
  const uint64_t salt = (slot << 32) | peer_isn;
  return static_cast<uint32_t>(hash_tuple(key_, tuple, salt)) & ~kMssMask;
}

uint32_t SynCookies::make(const FourTuple& tuple, uint32_t peer_isn, uint16_t peer_mss,
                          TimePoint now) const {
  uint32_t index = 0;
  for (uint32_t i = 0; i < 8; ++i) {
    if (kMssTable[i] <= peer_mss) index = i;
  }
  return hash_bits(tuple, peer_isn, slot_of(now)) | index;
}

std::optional<uint16_t> SynCookies::check(const FourTuple& tuple, uint32_t peer_isn,
                                          uint32_t cookie, TimePoint now) const {
  const uint64_t slot = slot_of(now);
  for (uint64_t s : {slot, slot - 1}) {
    if (hash_bits(tuple, peer_isn, s) == (cookie & ~kMssMask)) return kMssTable[cookie & kMssMask];
  }
  return std::nullopt;
}

}  // namespace vtas::conn
