// What the TCP core tells its caller (the fast-path loop) to do after a received segment, a
// transmit opportunity or an app bump. Plain structs: the caller builds and sends frames,
// posts the app event, notifies the slow path and counts drops from them.
#pragma once

#include <cstdint>

namespace vtas::tcp {

// TCP/IP header fields of a segment we send (everything that depends on the flow state).
struct AckFields {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint32_t tsval = 0;   // valid when has_ts
  uint32_t tsecr = 0;   // valid when has_ts
  uint16_t window = 0;  // the 16-bit window field (already scaled down by rcv_wscale)
  uint8_t flags = 0;    // kTcp* bits: ACK always, ECE/PSH/FIN as decided
  bool has_ts = false;  // put a timestamps option on the segment
};

// What the slow path must hear about (values match fastpath.proto FlowEvent.Kind).
enum class FlowEvent : uint8_t {
  kNone = 0,
  kClosed = 1,      // both FINs exchanged and ours acknowledged
  kReset = 2,       // an acceptable RST arrived
  kRxFin = 3,       // the peer's FIN arrived in order
  kTxFinAcked = 4,  // our FIN was acknowledged
};

// Why (part of) a received segment was not used; for per-core drop counters.
enum class DropReason : uint8_t {
  kNone = 0,
  kFlowReset,       // the flow is reset: every segment is dropped
  kBadBuffer,       // the caller's RxBuffer does not match rx_len (a caller bug)
  kMalformed,       // payload_len above 65535, or payload missing (a parser bug)
  kNoAck,           // no ACK bit on a synchronized connection (RFC 9293)
  kPaws,            // TSval older than ts_recent (RFC 7323 PAWS); ACK sent
  kOutOfWindow,     // not acceptable: beyond the receive window; ACK sent
  kDuplicate,       // not acceptable: entirely old (already received); ACK sent
  kAckTooOld,       // ACK before SND.UNA - max window (RFC 5961 section 5); ACK sent
  kAckUnsent,       // ACK for data never sent (RFC 9293); ACK sent
  kRstOutOfWindow,  // RST outside the window: ignored
  kRstChallenged,   // RST in window but not exact: challenge ACK sent (RFC 5961 section 3)
  kSynChallenged,   // SYN on the established flow: challenge ACK sent (RFC 5961 section 4)
  kTrimmed,         // payload beyond the receive buffer cut off; ACK sent
  kOooDropped,      // out-of-order data not kept (another interval is closer); ACK sent
  kDataAfterFin,    // payload after the peer's FIN; ACK sent
};

struct RxOutcome {
  // The ACK to send when send_ack: complete header fields, window and ECE already taken from
  // the flow (ECE is consumed), so send exactly these; do not build another with pure_ack().
  AckFields ack;
  uint32_t app_rx_bump = 0;        // app event: new in-order bytes...
  uint32_t app_rx_pos = 0;         // ...starting at this rx buffer position
  uint32_t app_tx_bump = 0;        // app event: tx bytes acknowledged (buffer space freed)
  uint32_t tx_newly_sendable = 0;  // growth of tx_sendable() (window opened, go-back-N, FIN)
  uint8_t app_flags = 0;           // app event: abi::kArxRxFin | kArxReset | kArxTxFinAcked
  FlowEvent flow_event = FlowEvent::kNone;
  DropReason drop = DropReason::kNone;
  bool send_ack = false;
  // The ACK only acknowledges in-order data (nothing else to signal: no FIN, no hole, no ECE,
  // nothing dropped): the caller may delay it and let the app's reply carry it. `ack` is then
  // not filled in: the caller takes pure_ack() when it does send one.
  bool ack_delayable = false;
  bool went_back_n = false;   // fast retransmit: sending restarts at SND.UNA
  bool to_slow_path = false;  // hand the frame to the slow path (conn) unchanged

  bool has_app_event() const { return (app_rx_bump | app_tx_bump | app_flags) != 0; }
};

// A byte range of the circular tx buffer.
struct BufferSpan {
  uint32_t pos = 0;
  uint32_t len = 0;
};

struct TxSegment {
  AckFields hdr;                // seq, ack, window, flags (ACK|PSH, FIN, ECE), timestamps
  BufferSpan payload[2];        // payload[1] is the wrapped part (pos 0), len 0 if none
  uint32_t len = 0;             // payload bytes (payload[0].len + payload[1].len)
  bool valid = false;           // false: nothing to send now
  bool ect = false;             // mark the IP header ECT(0)
  bool retransmission = false;  // the segment resends sequence space sent before
};

enum class BumpReject : uint8_t {
  kNone = 0,
  kBadType,         // AtxEntry::type is not a bump
  kUnknownFlags,    // flag bits other than kAtxTxFin
  kStale,           // bump_seq not after the last accepted one (duplicate or reordered)
  kFlowClosed,      // the flow is reset or handed to the slow path
  kRxBumpTooLarge,  // frees more rx bytes than the app holds
  kTxBumpTooLarge,  // queues more tx bytes than the buffer has free
  kDataAfterFin,    // tx bytes after the app closed its sending side
};

struct BumpOutcome {
  BumpReject reject = BumpReject::kNone;  // kNone: applied; otherwise nothing changed
  uint32_t tx_newly_sendable = 0;         // growth of tx_sendable(): schedule the flow
  bool send_window_update = false;        // send pure_ack(): the receive window opened enough

  bool accepted() const { return reject == BumpReject::kNone; }
};

const char* flow_event_name(FlowEvent event);
const char* drop_reason_name(DropReason reason);
const char* bump_reject_name(BumpReject reject);

}  // namespace vtas::tcp
