// The TCP handshake as pure functions: which options we offer, what a peer's SYN or SYN-ACK
// lets us use (negotiate_*), and the control frames conn sends (SYN, SYN-ACK, ACK, RST),
// built with the wire library. No state, no clock: the conn actor supplies ISNs and
// addresses; tests check the bytes.
//
// Choices (RFC 9293, 7323, 3168, 6691; TAS's quirks in brackets):
//   - MSS: we announce ConnConfig::mss. The peer's MSS (536 when absent, RFC 9293 3.7.1) is
//     clamped to [min_send_mss, our mss]; the payload per segment the fast path may send is
//     that minus the timestamp option's 12 bytes when timestamps are on (RFC 6691).
//   - Window scale: always offered on our SYN (shift from our buffer, possibly 0) and on a
//     SYN-ACK when the SYN offered it; used only when both sides sent it. SYN and SYN-ACK
//     windows are never scaled. [TAS master: no window scaling]
//   - Timestamps: offered on our SYN; on a SYN-ACK only when the SYN had them. TSval is 0 in
//     the frames built here: the fast path stamps its clock (PacketOut.stamp_timestamp).
//     Peers without timestamps work. [TAS drops them]
//   - SACK-permitted: never offered (the fast path does not do SACK).
//   - ECN (TAS 1.12): our SYN carries ECE|CWR; ECN is on for an active open when the SYN-ACK
//     has ECE without CWR, for a passive one when the SYN had ECE and CWR (the SYN-ACK then
//     carries ECE). Control segments are never ECT.
#pragma once

#include <cstdint>
#include <string>

#include "components/slowpath/segment.h"
#include "components/wire/address.h"

namespace vtas::conn {

// Our side of the negotiation.
struct LocalOptions {
  uint16_t mss = 1460;
  uint16_t min_send_mss = 64;
  uint8_t rcv_wscale = 0;      // our window scale
  uint16_t syn_window = 8192;  // window field of our SYN / SYN-ACK
};

// What the connection uses, as InstallFlow wants it.
struct Negotiated {
  uint16_t send_mss = 536;     // the peer's MSS after clamping
  uint16_t payload_mss = 536;  // payload bytes per segment (send_mss minus option bytes)
  bool window_scale = false;
  uint8_t snd_wscale = 0;  // applied to the peer's window fields
  uint8_t rcv_wscale = 0;  // applied to ours
  bool timestamps = false;
  uint32_t ts_recent = 0;  // the peer's TSval from its SYN / SYN-ACK
  bool ecn = false;
  bool sack = false;  // both offered SACK-permitted: our ACKs carry SACK blocks (RFC 2018)
  uint32_t remote_window = 0;  // the peer's SYN / SYN-ACK window (unscaled by definition)
};

inline constexpr uint16_t kDefaultPeerMss = 536;       // RFC 9293 3.7.1
inline constexpr uint16_t kTimestampOptionBytes = 12;  // NOP NOP + 10, as we lay it out

// Passive open: what a connection accepted from `syn` uses.
Negotiated negotiate_passive(const Segment& syn, const LocalOptions& local);
// Active open: what our connection uses given the peer's `syn_ack` to our SYN (which offered
// window scale, timestamps and ECN).
Negotiated negotiate_active(const Segment& syn_ack, const LocalOptions& local);

// Where a frame goes: link addresses and the 4-tuple seen from our side.
struct FramePath {
  wire::MacAddr local_mac;
  wire::MacAddr remote_mac;
  bool has_vlan = false;
  uint16_t vlan_tci = 0;
  FourTuple tuple;
};

// The path to answer `received` on: back to its sender, from the address it used for us.
FramePath reply_path(const Segment& received);

// SYN|ECE|CWR with MSS, timestamps (TSval 0, to be stamped), window scale.
std::string build_syn(const FramePath& path, uint32_t isn, const LocalOptions& local);
// SYN|ACK (|ECE when ECN) answering a SYN whose sequence number was `peer_isn`.
std::string build_syn_ack(const FramePath& path, uint32_t isn, uint32_t peer_isn,
                          const Negotiated& n, const LocalOptions& local);
// A pure ACK; with timestamps, TSval 0 (to be stamped) and TSecr = `tsecr`.
std::string build_ack(const FramePath& path, uint32_t seq, uint32_t ack, uint16_t window,
                      bool timestamps, uint32_t tsecr);
// A RST (with ACK when `with_ack`), no options, window 0.
std::string build_rst(const FramePath& path, uint32_t seq, uint32_t ack, bool with_ack);
// The RST RFC 9293 3.10.7.1 sends for a segment to no connection: <SEQ=SEG.ACK><CTL=RST> if
// it had an ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Callers never answer a RST.
std::string build_reset_for(const Segment& offending);

}  // namespace vtas::conn
