// FourTuple: the identity of a TCP connection as conn keys its tables by (listeners, handshakes,
// connection records, TIME_WAIT). Addresses and ports in host order, seen from our side.
// Used by every unit of the conn actor; cheap to copy, hash and compare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace vtas::conn {

struct FourTuple {
  uint32_t local_ip = 0;
  uint32_t remote_ip = 0;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;

  friend constexpr bool operator==(const FourTuple&, const FourTuple&) = default;
};

// "10.0.0.1:80<-10.0.0.2:40000", for logs and stats tables.
std::string to_string(const FourTuple& tuple);
std::string ipv4_to_string(uint32_t ip);

// An unkeyed mix for hash tables inside conn (not exposed to the network: a peer cannot
// observe the table layout, and every table is bounded, so collisions cost time, not memory).
struct FourTupleHash {
  size_t operator()(const FourTuple& t) const {
    uint64_t a = (uint64_t{t.local_ip} << 32) | t.remote_ip;
    uint64_t b = (uint64_t{t.local_port} << 16) | t.remote_port;
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return static_cast<size_t>(h);
  }
};

}  // namespace vtas::conn
