// SYN cookies: the ISN of a SYN-ACK sent without keeping any state (the SYN-RECEIVED table of
// the listener is full, typically during a SYN flood), from which the third ACK of the
// handshake proves itself. Used only by the conn actor (conn_syn_received.cc).
//
// Layout of a cookie (32 bits): the top 29 bits are a keyed hash (SipHash-2-4) of the
// 4-tuple, the peer's ISN and a 64-second time slot; the low 3 bits index the MSS table
// (the largest entry not above the peer's MSS). A cookie is valid in its own slot and the
// next one (64 to 128 s), as in Linux. The peer's other options (window scale, timestamps,
// ECN) are not encoded: a cookie SYN-ACK does not offer them, so a connection opened from a
// cookie runs without them.
#pragma once

#include <cstdint>
#include <optional>

#include "components/slowpath/four_tuple.h"
#include "components/slowpath/keyed_hash.h"
#include "runtime/clock.h"

namespace vtas::conn {

class SynCookies {
 public:
  // `key` is the secret (conn passes its ISN key: it survives restarts, so do the cookies).
  explicit SynCookies(SipKey key);

  // The ISN for a cookie SYN-ACK answering a SYN of `tuple` with sequence number `peer_isn`
  // and MSS `peer_mss` (536 when the SYN had none), at `now`.
  uint32_t make(const FourTuple& tuple, uint32_t peer_isn, uint16_t peer_mss,
                TimePoint now) const;

  // For an ACK of `tuple` with SEG.SEQ = peer_isn + 1 and SEG.ACK = cookie + 1: the MSS the
  // cookie encodes if it is one we made in the last two slots, else nullopt.
  std::optional<uint16_t> check(const FourTuple& tuple, uint32_t peer_isn, uint32_t cookie,
                                TimePoint now) const;

  static constexpr uint16_t kMssTable[8] = {64, 536, 1200, 1300, 1440, 1460, 4312, 8960};

 private:
  uint32_t hash_bits(const FourTuple& tuple, uint32_t peer_isn, uint64_t slot) const;
  SipKey key_;
};

}  // namespace vtas::conn
