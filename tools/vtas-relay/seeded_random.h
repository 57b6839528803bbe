// SeededRandom: the relay's source of random decisions (xoshiro256**, seeded through
// splitmix64). Each direction has its own stream derived from --seed, so a run with the same
// seed and the same frames in each direction makes the same decisions, however the two
// directions interleave. Not for cryptography.
#pragma once

#include <cstdint>

namespace vtas::relay {

class SeededRandom {
 public:
  SeededRandom(uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);
    for (uint64_t& s : state_) s = splitmix64(x);
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // True with probability pct / 100.
  bool percent(double pct) { return unit() * 100.0 < pct; }
  // Uniform in [0, n) (0 when n == 0).
  uint64_t below(uint64_t n) {
    __extension__ using Wide = unsigned __int128;
    return n == 0 ? 0 : static_cast<uint64_t>((static_cast<Wide>(next()) * n) >> 64);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t state_[4];
};

}  // namespace vtas::relay
