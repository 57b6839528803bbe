// Two flows talking to each other through the TCP core over a simulated link that loses,
// duplicates, reorders and CE-marks segments: every byte arrives exactly once and in order in
// both directions, both sides close, and the invariants hold at every step. The timer actor's
// part (retransmission timeout -> go_back_n, persist -> window_probe) is simulated here.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "components/fastpath/tcp/tcp.h"

namespace vtas::tcp::testing {
namespace {

// Wrap-safe time comparison: the simulated clock starts just before 2^32.
bool before(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) < 0;
}

struct LinkConfig {
  const char* name;
  uint32_t loss_per_mille;
  uint32_t duplicate_per_mille;
  uint32_t jitter_us;     // delivery delay is 20 us + random(jitter): reordering
  uint32_t ce_per_mille;  // CE marks on ECT segments
  uint32_t flags;         // kFlowTimestamps / kFlowEcn
  uint32_t rx_len;
  uint8_t wscale;
  uint32_t isn_a, isn_b;
  uint32_t app_read_every_us;  // how often the apps read (slow readers fill the window)
};

struct Packet {
  int to;  // endpoint index
  uint32_t deliver_at;
  Segment seg;
  std::string payload;
};

struct Endpoint {
  abi::FlowState fs{};
  std::vector<uint8_t> rx, tx;
  std::string to_send;    // the app's whole stream
  size_t written = 0;     // bytes of to_send queued (bumped)
  bool closed = false;    // close bumped
  uint32_t app_tail = 0;  // app's next tx write position
  uint16_t bump_seq = 0;
  uint32_t held_pos = 0, held_len = 0;  // delivered, not yet read
  std::string received;
  bool rx_fin = false, tx_fin_acked = false, closed_event = false;
  uint32_t last_una = 0;
  uint32_t last_progress_us = 0;
  uint32_t last_probe_us = 0;
  uint32_t next_read_us = 0;
  uint32_t ece_acks = 0;
};

class Conversation : public ::testing::TestWithParam<LinkConfig> {
 protected:
  void SetUp() override {
    const LinkConfig& c = GetParam();
    rng_.seed(4242);
    init(ep_[0], c.isn_a, c.isn_b, 150000);
    init(ep_[1], c.isn_b, c.isn_a, 90000);
  }

  void init(Endpoint& e, uint32_t own_isn, uint32_t peer_isn, size_t stream_len) {
    const LinkConfig& c = GetParam();
    e.rx.assign(c.rx_len, 0);
    e.tx.assign(3000, 0);
    for (size_t i = 0; i < stream_len; ++i) e.to_send.push_back(static_cast<char>(rng_() & 0xFF));
    abi::FlowState& fs = e.fs;
    fs.flags = abi::kFlowActive | c.flags;
    fs.rx_len = c.rx_len;
    fs.tx_len = static_cast<uint32_t>(e.tx.size());
    fs.mss = 536;
    fs.snd_wscale = c.wscale;
    fs.rcv_wscale = c.wscale;
    fs.rx_avail = c.rx_len;
    fs.rx_next_pos = 7 % c.rx_len;
    e.held_pos = fs.rx_next_pos;
    e.last_una = own_isn;
    e.last_progress_us = now_;
    e.last_probe_us = now_;
    e.next_read_us = now_;
    fs.rx_next_seq = peer_isn;
    fs.tx_next_seq = own_isn;
    fs.tx_next_pos = 11;
    e.app_tail = 11;
    uint32_t units = std::min<uint32_t>(c.rx_len >> c.wscale, 0xFFFF);
    fs.rx_remote_avail = units << c.wscale;  // both sides have the same buffer size
    fs.rx_adv_right = peer_isn + (units << c.wscale);
    fs.snd_wl1 = peer_isn - 1;
    fs.snd_wl2 = own_isn;
    fs.ts_recent = now_ - 10;  // the peer's handshake TSval (both clocks are the simulated one)
  }

  uint32_t rnd(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(rng_() % n); }

  void transmit(int from, const AckFields& h, const std::string& payload, bool ect) {
    const LinkConfig& c = GetParam();
    if (rnd(1000) < c.loss_per_mille) return;
    Packet p;
    p.to = 1 - from;
    p.deliver_at = now_ + 20 + rnd(c.jitter_us + 1);
    p.seg.seq = h.seq;
    p.seg.ack = h.ack;
    p.seg.flags = h.flags;
    p.seg.window = h.window;
    p.seg.has_ts = h.has_ts;
    p.seg.tsval = h.tsval;
    p.seg.tsecr = h.tsecr;
    p.seg.ce = ect && rnd(1000) < c.ce_per_mille;
    p.payload = payload;
    link_.push_back(p);
    if (rnd(1000) < c.duplicate_per_mille) {
      link_.push_back(p);
      link_.back().deliver_at += 3;
    }
  }

  void app_step(int i) {
    Endpoint& e = ep_[i];
    abi::FlowState& fs = e.fs;
    // Write as much of the stream as fits, then close.
    uint32_t free_space = fs.tx_len - fs.tx_avail - fs.tx_sent;
    uint32_t n = static_cast<uint32_t>(std::min<size_t>(free_space, e.to_send.size() - e.written));
    if (n > 0 || (e.written == e.to_send.size() && !e.closed)) {
      for (uint32_t k = 0; k < n; ++k) {
        e.tx[e.app_tail] = static_cast<uint8_t>(e.to_send[e.written + k]);
        e.app_tail = e.app_tail + 1 == fs.tx_len ? 0 : e.app_tail + 1;
      }
      bool close = e.written + n == e.to_send.size();
      abi::AtxEntry b{};
      b.type = kAtxTypeBump;
      b.bump_seq = ++e.bump_seq;
      b.tx_bump = n;
      b.flags = close ? abi::kAtxTxFin : 0;
      BumpOutcome out = app_bump(fs, b);
      ASSERT_TRUE(out.accepted()) << bump_reject_name(out.reject);
      e.written += n;
      e.closed = close;
    }
    // Read what arrived, at the app's pace.
    if (e.held_len > 0 && !before(now_, e.next_read_us)) {
      e.next_read_us = now_ + GetParam().app_read_every_us;
      uint32_t take = 1 + rnd(e.held_len);
      for (uint32_t k = 0; k < take; ++k) {
        e.received.push_back(static_cast<char>(e.rx[e.held_pos]));
        e.held_pos = e.held_pos + 1 == fs.rx_len ? 0 : e.held_pos + 1;
      }
      e.held_len -= take;
      abi::AtxEntry b{};
      b.type = kAtxTypeBump;
      b.bump_seq = ++e.bump_seq;
      b.rx_bump = take;
      BumpOutcome out = app_bump(fs, b);
      ASSERT_TRUE(out.accepted()) << bump_reject_name(out.reject);
      if (out.send_window_update) transmit(i, pure_ack(fs, now_), {}, false);
    }
  }

  void send_step(int i) {
    Endpoint& e = ep_[i];
    for (int burst = 0; burst < 4; ++burst) {
      TxSegment seg = next_segment(e.fs, now_);
      if (!seg.valid) break;
      std::string payload;
      for (const BufferSpan& span : seg.payload) {
        payload.append(reinterpret_cast<const char*>(e.tx.data() + span.pos), span.len);
      }
      transmit(i, seg.hdr, payload, seg.ect);
    }
  }

  void timer_step(int i) {
    Endpoint& e = ep_[i];
    abi::FlowState& fs = e.fs;
    const bool in_flight = snd_una(fs) != fs.tx_next_seq;
    if (snd_una(fs) != e.last_una) {
      e.last_una = snd_una(fs);
      e.last_progress_us = now_;
    }
    uint32_t rto = std::max<uint32_t>(2000, 4 * fs.rtt_us + 4 * fs.rtt_var_us);
    if (in_flight && now_ - e.last_progress_us > rto) {
      go_back_n(fs, now_);
      e.last_progress_us = now_;
    }
    // Persist: data waits for a zero window and nothing is in flight to bring an update.
    if (!in_flight && fs.tx_avail > 0 && usable_peer_window(fs) == 0 &&
        now_ - e.last_probe_us > 1000) {
      transmit(i, window_probe(fs, now_), {}, false);
      e.last_probe_us = now_;
    }
  }

  void deliver_step() {
    for (size_t k = 0; k < link_.size();) {
      if (before(now_, link_[k].deliver_at)) {
        ++k;
        continue;
      }
      Packet p = link_[k];
      link_.erase(link_.begin() + static_cast<long>(k));
      Endpoint& e = ep_[p.to];
      Segment seg = p.seg;
      seg.payload =
          p.payload.empty() ? nullptr : reinterpret_cast<const uint8_t*>(p.payload.data());
      seg.payload_len = static_cast<uint32_t>(p.payload.size());
      RxOutcome out = receive(e.fs, seg, now_, RxBuffer{e.rx.data(), e.fs.rx_len});
      if (out.app_rx_bump) {
        ASSERT_EQ(out.app_rx_pos, (e.held_pos + e.held_len) % e.fs.rx_len);
        e.held_len += out.app_rx_bump;
      }
      if (out.app_flags & abi::kArxRxFin) e.rx_fin = true;
      if (out.app_flags & abi::kArxTxFinAcked) e.tx_fin_acked = true;
      ASSERT_EQ(out.app_flags & abi::kArxReset, 0);
      if (out.flow_event == FlowEvent::kClosed) e.closed_event = true;
      if (out.send_ack) {
        if (out.ack.flags & kTcpEce) ++e.ece_acks;
        transmit(p.to, out.ack, {}, false);
      }
      if (const char* v = invariant_violation(e.fs)) FAIL() << v;
    }
  }

  bool done() const {
    for (const Endpoint& e : ep_) {
      if (!e.rx_fin || !e.tx_fin_acked || e.held_len != 0) return false;
    }
    return true;
  }

  std::mt19937 rng_;
  Endpoint ep_[2];
  std::deque<Packet> link_;
  uint32_t now_ = 0xFFFF0000u;  // the fast-path clock wraps during the test
};

TEST_P(Conversation, EveryByteArrivesOnceAndInOrderAndBothSidesClose) {
  const uint32_t start = now_;
  uint32_t steps = 0;
  while (!done()) {
    ASSERT_LT(now_ - start, 20000000u) << "stalled: a received " << ep_[0].received.size()
                                       << ", b received " << ep_[1].received.size();
    for (int i = 0; i < 2; ++i) {
      app_step(i);
      send_step(i);
      timer_step(i);
    }
    deliver_step();
    if (HasFatalFailure()) return;
    now_ += 5;
    ++steps;
  }
  ::testing::Test::RecordProperty("simulated_us", static_cast<int>(now_ - start));
  ::testing::Test::RecordProperty("steps", static_cast<int>(steps));
  EXPECT_EQ(ep_[1].received.size(), ep_[0].to_send.size());
  EXPECT_TRUE(ep_[1].received == ep_[0].to_send) << "a -> b stream corrupted";
  EXPECT_EQ(ep_[0].received.size(), ep_[1].to_send.size());
  EXPECT_TRUE(ep_[0].received == ep_[1].to_send) << "b -> a stream corrupted";
  // Exactly one side saw both FINs complete last; each saw its FIN acked and the peer's FIN.
  EXPECT_TRUE(ep_[0].closed_event || ep_[1].closed_event);
  if (GetParam().ce_per_mille > 0) {
    EXPECT_GT(ep_[0].ece_acks + ep_[1].ece_acks, 0u);
  }
  if (GetParam().loss_per_mille > 0) {
    EXPECT_GT(ep_[0].fs.cnt_tx_drops + ep_[1].fs.cnt_tx_drops, 0u);
  }
  if (GetParam().flags & abi::kFlowTimestamps) {
    EXPECT_GT(ep_[0].fs.rtt_us, 0u);
  }
  EXPECT_GT(ep_[1].fs.rtt_us, 0u);  // with or without timestamps
}

const LinkConfig kLinks[] = {
    {"clean", 0, 0, 0, 0, 0, 8192, 0, 1000, 2000, 0},
    {"clean_ts_ecn", 0, 0, 0, 50, abi::kFlowTimestamps | abi::kFlowEcn, 8192, 0, 1000, 2000, 0},
    {"lossy", 30, 10, 40, 0, 0, 8192, 0, 0xFFFF0000u, 0xFFFFF000u, 0},
    {"lossy_ts", 30, 10, 40, 0, abi::kFlowTimestamps, 8192, 0, 0xFFFF0000u, 0xFFFFF000u, 0},
    {"reordering", 5, 20, 300, 20, abi::kFlowEcn, 8192, 0, 77, 0xFFFFFFFFu, 0},
    {"small_scaled_slow_reader", 20, 5, 60, 0, abi::kFlowTimestamps, 5000, 4, 0xFFFFFF00u, 5, 400},
    {"tiny_window_slow_reader", 10, 0, 20, 0, 0, 1500, 0, 12345, 54321, 1000},
};

std::string link_name(const ::testing::TestParamInfo<LinkConfig>& param_info) {
  return param_info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Link, Conversation, ::testing::ValuesIn(kLinks), link_name);

}  // namespace
}  // namespace vtas::tcp::testing
