// Fuzz target: the fast path's pure TCP core (components/fastpath/tcp). The input first builds
// a flow state that satisfies the core's preconditions (invariants.h: the states an installer
// and earlier steps can produce), then drives it with a sequence of untrusted inputs: peer
// segments of any shape, app bumps, and the caller's own steps (send, go-back-N, ACKs, time).
// After every step the flow invariants must hold and every position the core hands out must
// lie inside the flow's buffers (the rx buffer is a heap block of exactly rx_len bytes, so
// ASan sees any write past it).
#include <cstring>
#include <vector>

#include "components/fastpath/tcp/out_of_order.h"
#include "components/fastpath/tcp/tcp.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_targets.h"

namespace vtas::fuzz {
namespace {

constexpr uint32_t kMaxBufferLength = 4096;  // small buffers wrap often
constexpr int kMaxSteps = 64;

void check_invariants(const abi::FlowState& fs) {
  const char* violation = tcp::invariant_violation(fs);
  VTAS_FUZZ_CHECK(violation == nullptr, violation);
}

// A flow state from the input, constrained to what the installer and the core can produce.
abi::FlowState build_flow(FuzzInput& in) {
  abi::FlowState fs{};
  constexpr uint32_t kStateFlags = abi::kFlowTimestamps | abi::kFlowEcn | abi::kFlowSlowPath |
                                   abi::kFlowTxFin | abi::kFlowTxFinSent |
                                   abi::kFlowTxFinAcked | abi::kFlowRxFin | abi::kFlowReset;
  uint32_t flags = abi::kFlowActive | (in.u32() & kStateFlags);
  fs.rx_len = 1 + in.below(kMaxBufferLength);
  fs.tx_len = 1 + in.below(kMaxBufferLength);
  fs.mss = static_cast<uint16_t>(1 + in.below(1460));
  fs.snd_wscale = static_cast<uint8_t>(in.below(tcp::kMaxWindowScale + 1));
  fs.rcv_wscale = static_cast<uint8_t>(in.below(tcp::kMaxWindowScale + 1));

  fs.rx_avail = in.below(fs.rx_len + 1);
  fs.rx_next_pos = in.below(fs.rx_len);
  fs.rx_next_seq = in.u32();
  fs.rx_remote_avail = in.u32() >> in.below(32);
  // Out-of-order intervals, through the core's own bookkeeping so they are valid (I4).
  const uint32_t intervals = (!(flags & abi::kFlowRxFin) && fs.rx_avail > 1) ? in.below(6) : 0;
  for (uint32_t i = 0; i < intervals; ++i) {
    const uint32_t offset = 1 + in.below(fs.rx_avail - 1);
    const uint32_t start = fs.rx_next_seq + offset;
    tcp::ooo_add(fs, start, start + 1 + in.below(fs.rx_avail - offset));
  }
  fs.rx_adv_right = fs.rx_next_seq + in.below(fs.rx_avail + 1);

  if (flags & abi::kFlowTxFinAcked) flags |= abi::kFlowTxFinSent;
  if (flags & abi::kFlowTxFinSent) flags |= abi::kFlowTxFin;
  fs.tx_avail = (flags & abi::kFlowTxFinSent) ? 0 : in.below(fs.tx_len + 1);
  fs.tx_sent = (flags & abi::kFlowTxFinAcked) ? 0 : in.below(fs.tx_len - fs.tx_avail + 1);
  fs.tx_next_pos = in.below(fs.tx_len);
  fs.tx_next_seq = in.u32();
  const bool fin_unsent = (flags & (abi::kFlowTxFin | abi::kFlowTxFinSent)) == abi::kFlowTxFin;
  fs.tx_resend_ahead = in.below(fs.tx_avail + (fin_unsent ? 1 : 0) + 1);
  fs.ts_recent = in.u32();
  fs.rtt_us = in.u32() % 1000000;
  fs.rtt_var_us = in.u32() % 1000000;
  fs.dupack_count = static_cast<uint16_t>(in.below(5));
  fs.bump_seq = in.u16();
  fs.snd_wl1 = fs.rx_next_seq - in.below(1 << 16);
  fs.snd_wl2 = tcp::snd_una(fs, flags) + in.below(fs.tx_sent + 1);
  fs.rx_ce_pending = in.below(3);
  fs.tcp_bits = static_cast<uint8_t>(in.u8() & (tcp::kBitRttTiming | tcp::kBitRecoverValid));
  fs.rtt_timed_end = tcp::snd_una(fs, flags) + in.below(fs.tx_sent + 2);
  fs.rtt_timed_us = in.u32();
  fs.recover_seq = tcp::snd_max(fs) - in.below(1 << 16);
  fs.flags = flags;
  return fs;
}

// A peer segment near the flow's sequence spaces (or anywhere), any flags, any payload length.
tcp::Segment build_segment(FuzzInput& in, const abi::FlowState& fs, const uint8_t* payload) {
  tcp::Segment s;
  const uint8_t choice = in.u8();
  const uint32_t una = tcp::snd_una(fs);
  switch (choice & 3) {
    case 0: s.seq = fs.rx_next_seq; break;
    case 1: s.seq = fs.rx_next_seq + in.below(fs.rx_len + 16) - 8; break;
    case 2: s.seq = fs.rx_next_seq - in.below(1 << 16); break;
    default: s.seq = in.u32(); break;
  }
  switch ((choice >> 2) & 3) {
    case 0: s.ack = una; break;
    case 1: s.ack = una + in.below(tcp::snd_max(fs) - una + 3); break;
    case 2: s.ack = una - in.below(1 << 20); break;
    default: s.ack = in.u32(); break;
  }
  s.flags = (choice & 0x10) ? in.u8() : tcp::kTcpAck;
  s.window = in.u16();
  s.has_ts = (choice & 0x20) != 0;
  if (s.has_ts) {
    s.tsval = (choice & 0x40) ? fs.ts_recent + in.below(16) : in.u32();
    s.tsecr = in.u32();
  }
  s.ce = (choice & 0x80) != 0;
  s.payload_len = in.below(fs.rx_len + 64);
  s.payload = s.payload_len > 0 ? payload : nullptr;
  return s;
}

abi::AtxEntry build_bump(FuzzInput& in, const abi::FlowState& fs) {
  abi::AtxEntry e{};
  const uint8_t choice = in.u8();
  e.type = (choice & 1) ? in.u8() : tcp::kAtxTypeBump;
  e.flags = (choice & 2) ? in.u8() : static_cast<uint8_t>((choice & 4) ? abi::kAtxTxFin : 0);
  e.bump_seq = (choice & 8) ? in.u16() : static_cast<uint16_t>(fs.bump_seq + 1);
  e.rx_bump = (choice & 16) ? in.u32() : in.below(fs.rx_len - fs.rx_avail + 1);
  e.tx_bump = (choice & 32) ? in.u32() : in.below(fs.tx_len - fs.tx_avail - fs.tx_sent + 1);
  return e;
}

void check_tx_segment(const tcp::TxSegment& seg, const abi::FlowState& fs) {
  if (!seg.valid) return;
  VTAS_FUZZ_CHECK(seg.len == seg.payload[0].len + seg.payload[1].len, "segment length");
  VTAS_FUZZ_CHECK(seg.len <= fs.mss, "segment larger than the MSS");
  for (const tcp::BufferSpan& span : seg.payload) {
    if (span.len == 0) continue;
    VTAS_FUZZ_CHECK(span.pos < fs.tx_len && span.len <= fs.tx_len - span.pos,
                    "payload span outside the tx buffer");
  }
  VTAS_FUZZ_CHECK((seg.hdr.flags & tcp::kTcpAck) != 0, "segment without ACK");
}

}  // namespace

int fuzz_tcp_receive(const uint8_t* data, size_t size) {
  static uint8_t payload[tcp::kMaxSegmentPayload + 64];  // content does not matter
  FuzzInput in(data, size);
  abi::FlowState fs = build_flow(in);
  if (tcp::invariant_violation(fs) != nullptr) return 0;  // not a state the core can be in
  std::vector<uint8_t> rx(fs.rx_len);
  uint32_t now = in.u32();

  for (int step = 0; step < kMaxSteps && !in.empty(); ++step) {
    switch (in.u8() % 8) {
      case 0:
      case 1:
      case 2: {
        const tcp::Segment seg = build_segment(in, fs, payload);
        const tcp::RxOutcome out = tcp::receive(fs, seg, now, tcp::RxBuffer{rx.data(), fs.rx_len});
        VTAS_FUZZ_CHECK(out.app_rx_bump <= fs.rx_len, "rx bump larger than the buffer");
        VTAS_FUZZ_CHECK(out.app_rx_bump == 0 || out.app_rx_pos < fs.rx_len,
                        "rx event position outside the buffer");
        VTAS_FUZZ_CHECK(out.app_tx_bump <= fs.tx_len, "tx bump larger than the buffer");
        VTAS_FUZZ_CHECK(!out.send_ack || out.ack_delayable || (out.ack.flags & tcp::kTcpAck),
                        "ACK without the ACK bit");
        break;
      }
      case 3: {
        abi::FlowState before = fs;
        const tcp::BumpOutcome out = tcp::app_bump(fs, build_bump(in, fs));
        if (!out.accepted()) {
          VTAS_FUZZ_CHECK(std::memcmp(&before, &fs, sizeof fs) == 0,
                          "a rejected bump changed the flow");
        }
        break;
      }
      case 4: {
        abi::FlowState copy = fs;
        const bool sendable = tcp::has_sendable(fs);
        const tcp::TxSegment seg = tcp::next_segment(fs, now);
        VTAS_FUZZ_CHECK(sendable == seg.valid, "has_sendable() disagrees with next_segment()");
        check_tx_segment(seg, copy);
        break;
      }
      case 5:
        tcp::go_back_n(fs, now);
        break;
      case 6: {
        const tcp::AckFields ack = (in.u8() & 1) ? tcp::pure_ack(fs, now) : tcp::window_probe(fs, now);
        VTAS_FUZZ_CHECK((ack.flags & tcp::kTcpAck) != 0, "ACK without the ACK bit");
        break;
      }
      default:
        now += in.below(1u << 20);
        break;
    }
    check_invariants(fs);
  }
  return 0;
}

}  // namespace vtas::fuzz
