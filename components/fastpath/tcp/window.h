// The receive window we advertise and accept: how much the peer may send, computed from the
// free rx buffer space (rx_avail) and the right edge we advertised before (rx_adv_right),
// which never moves left (RFC 9293 section 3.8.6: do not shrink the window). Callers: the TCP
// core (receive, transmit, app bumps).
#pragma once

#include <cstdint>

#include "components/fastpath/abi/flow_state.h"
#include "components/fastpath/tcp/flow_state_ops.h"

namespace vtas::tcp {

// rx_adv_right - rx_next_seq: the window the peer was last told about. A promise is at most
// one buffer: an advertisement is either rx_avail rounded down, or an earlier promise rounded
// up to the scale unit after RCV.NXT moved (which never exceeds that earlier promise). So a
// value beyond rx_len can only be an uninitialised field (the installer should set
// rx_adv_right = RCV.NXT + the window it advertised in the handshake): treated as 0.
inline uint32_t promised_window(const abi::FlowState& fs) {
  uint32_t promised = fs.rx_adv_right - fs.rx_next_seq;
  return promised <= fs.rx_len ? promised : 0;
}

// RCV.WND for the acceptability test: what the peer may legitimately send.
inline uint32_t receive_window(const abi::FlowState& fs) {
  uint32_t promised = promised_window(fs);
  return fs.rx_avail > promised ? fs.rx_avail : promised;
}

// The window field of a segment we send now: rx_avail >> rcv_wscale, raised when needed so the
// right edge stays where we advertised it, capped at 0xFFFF. Records the new right edge.
inline uint16_t take_window_field(abi::FlowState& fs) {
  uint8_t shift = clamp_wscale(fs.rcv_wscale);
  uint32_t units = fs.rx_avail >> shift;
  uint32_t promised_units = (promised_window(fs) + (1u << shift) - 1) >> shift;
  if (promised_units > units) units = promised_units;
  if (units > 0xFFFF) units = 0xFFFF;
  fs.rx_adv_right = fs.rx_next_seq + (units << shift);
  return static_cast<uint16_t>(units);
}

}  // namespace vtas::tcp
