// Test harness for the TCP core, in the style of smoltcp's socket tests: one flow with its
// buffers, a clock the test moves explicitly, a fake peer that builds segments, and a fake app
// that queues and consumes bytes. Every step checks the invariants (invariants.h).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "components/fastpath/tcp/seq.h"
#include "components/fastpath/tcp/tcp.h"

namespace vtas::tcp::testing {

// Where the two sequence spaces start. "wrap" puts both a few bytes before 2^32, so every
// test of a suite instantiated with kSeqStarts also runs across the wrap.
struct SeqStart {
  const char* name;
  uint32_t local_isn;
  uint32_t remote_isn;
};
inline constexpr SeqStart kSeqStarts[] = {{"low", 1000, 500000},
                                          {"wrap", 0xFFFFFFF8u, 0xFFFFFFFDu}};
inline std::string seq_start_name(const ::testing::TestParamInfo<SeqStart>& info) {
  return info.param.name;
}

struct FlowSetup {
  uint32_t local_isn = 1000;   // our SND.NXT = SND.UNA at install
  uint32_t remote_isn = 5000;  // RCV.NXT at install
  uint32_t rx_len = 4096;
  uint32_t tx_len = 4096;
  uint32_t rx_start_pos = 0;  // buffer positions at install (to test the circular wrap)
  uint32_t tx_start_pos = 0;
  uint16_t mss = 1000;
  uint8_t snd_wscale = 0;
  uint8_t rcv_wscale = 0;
  uint16_t peer_window = 0xFFFF;  // raw window of the peer's handshake segment
  uint32_t extra_flags = 0;       // kFlowTimestamps, kFlowEcn
  uint32_t ts_recent = 100;       // the peer's TSval from the handshake
  uint32_t tx_rate_kbps = 0;
};

// A segment from the peer, built fluently: flow.peer(3).data("abc").fin().
class PeerSegment {
 public:
  PeerSegment& seq(uint32_t v) {
    seg_.seq = v;
    return *this;
  }
  PeerSegment& ack(uint32_t v) {
    seg_.ack = v;
    return *this;
  }
  PeerSegment& flags(uint8_t v) {
    seg_.flags = v;
    return *this;
  }
  PeerSegment& add_flags(uint8_t v) {
    seg_.flags = static_cast<uint8_t>(seg_.flags | v);
    return *this;
  }
  PeerSegment& no_ack() {
    seg_.flags = static_cast<uint8_t>(seg_.flags & ~kTcpAck);
    return *this;
  }
  PeerSegment& fin() { return add_flags(kTcpFin); }
  PeerSegment& window(uint16_t v) {
    seg_.window = v;
    return *this;
  }
  PeerSegment& ts(uint32_t val, uint32_t ecr) {
    seg_.has_ts = true;
    seg_.tsval = val;
    seg_.tsecr = ecr;
    return *this;
  }
  PeerSegment& ce() {
    seg_.ce = true;
    return *this;
  }
  PeerSegment& data(std::string_view d) {
    data_ = std::string(d);
    return *this;
  }

  // The Segment, pointing into this object's payload copy.
  Segment segment() const {
    Segment s = seg_;
    s.payload = data_.empty() ? nullptr : reinterpret_cast<const uint8_t*>(data_.data());
    s.payload_len = static_cast<uint32_t>(data_.size());
    return s;
  }

 private:
  Segment seg_;
  std::string data_;
};

class Flow {
 public:
  explicit Flow(const FlowSetup& setup);

  // ---- the peer ----
  uint32_t rseq(uint32_t offset) const { return setup_.remote_isn + offset; }  // peer's seq
  uint32_t lseq(uint32_t offset) const { return setup_.local_isn + offset; }   // our seq
  // A segment at peer offset `offset` acknowledging our current SND.UNA with the setup window.
  PeerSegment peer(uint32_t offset) const;
  RxOutcome recv(const PeerSegment& seg);
  RxOutcome recv_data(uint32_t offset, std::string_view data) {
    return recv(peer(offset).data(data));
  }
  // A pure ACK at the peer's next in-order position acknowledging lseq(local_offset).
  RxOutcome recv_ack(uint32_t local_offset, uint16_t window);
  RxOutcome recv_ack(uint32_t local_offset) { return recv_ack(local_offset, setup_.peer_window); }

  // ---- the app ----
  BumpOutcome bump(uint32_t rx_bump, uint32_t tx_bump, uint8_t flags);
  BumpOutcome app_write(std::string_view data, bool close = false);
  BumpOutcome app_close() { return app_write({}, true); }
  BumpOutcome app_read(uint32_t n) { return bump(n, 0, 0); }

  // ---- sending ----
  TxSegment send();
  std::string payload(const TxSegment& seg) const;

  void check() const;

  abi::FlowState fs{};
  std::vector<uint8_t> rx_buf;
  std::vector<uint8_t> tx_buf;
  uint32_t now = 1000000;     // the fast-path clock (us), moved by tests
  std::string delivered;      // every byte handed to the app (rx bumps), in order
  uint16_t app_bump_seq = 0;  // the app's last bump sequence number

 private:
  FlowSetup setup_;
  uint32_t app_tx_tail_;  // where the app writes its next tx byte
};

// Suites whose tests run once per SeqStart.
class TcpTest : public ::testing::TestWithParam<SeqStart> {
 protected:
  FlowSetup setup() const {
    FlowSetup s;
    s.local_isn = GetParam().local_isn;
    s.remote_isn = GetParam().remote_isn;
    return s;
  }
};

}  // namespace vtas::tcp::testing

// Declares a test suite run for every SeqStart (normal and near 2^32).
#define VTAS_TCP_SUITE(Suite)                                                                 \
  class Suite : public ::vtas::tcp::testing::TcpTest {};                                      \
  INSTANTIATE_TEST_SUITE_P(Seq, Suite, ::testing::ValuesIn(::vtas::tcp::testing::kSeqStarts), \
                           ::vtas::tcp::testing::seq_start_name)
