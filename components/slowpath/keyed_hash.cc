#include "components/slowpath/keyed_hash.h"

#include <sys/random.h>

#include <chrono>
#include <cstring>

namespace vtas::conn {
namespace {

constexpr uint64_t rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

struct SipState {
  uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  void absorb(uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void put_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

uint64_t siphash24(const SipKey& key, const void* data, size_t len) {
  const auto* in = static_cast<const uint8_t*>(data);
  SipState s{key.k0 ^ 0x736f6d6570736575ull, key.k1 ^ 0x646f72616e646f6dull,
             key.k0 ^ 0x6c7967656e657261ull, key.k1 ^ 0x7465646279746573ull};
  const size_t full = len - len % 8;
  for (size_t i = 0; i < full; i += 8) s.absorb(load_le64(in + i));
  uint64_t last = static_cast<uint64_t>(len & 0xff) << 56;
  for (size_t i = 0; i < len % 8; ++i) last |= static_cast<uint64_t>(in[full + i]) << (8 * i);
  s.absorb(last);
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t hash_tuple(const SipKey& key, const FourTuple& t, uint64_t salt) {
  uint8_t bytes[20];
  put_be32(bytes, t.local_ip);
  bytes[4] = static_cast<uint8_t>(t.local_port >> 8);
  bytes[5] = static_cast<uint8_t>(t.local_port);
  put_be32(bytes + 6, t.remote_ip);
  bytes[10] = static_cast<uint8_t>(t.remote_port >> 8);
  bytes[11] = static_cast<uint8_t>(t.remote_port);
  put_be32(bytes + 12, static_cast<uint32_t>(salt >> 32));
  put_be32(bytes + 16, static_cast<uint32_t>(salt));
  return siphash24(key, bytes, sizeof bytes);
}

SipKey random_sip_key() {
  SipKey key;
  uint64_t words[2] = {0, 0};
  ssize_t got = getrandom(words, sizeof words, 0);
  if (got != static_cast<ssize_t>(sizeof words)) {
    // Not reached on Linux >= 3.17 with a seeded pool; never leave the key all-zero.
    uint64_t t =
        static_cast<uint64_t>(std::chrono::high_resolution_clock::now().time_since_epoch().count());
    words[0] = t ^ reinterpret_cast<uintptr_t>(&key);
    words[1] = rotl(t, 29) ^ 0x9E3779B97F4A7C15ull;
  }
  key.k0 = words[0];
  key.k1 = words[1];
  return key;
}

}  // namespace vtas::conn
