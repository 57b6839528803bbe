// Robustness: long random sequences of untrusted inputs (app bumps, peer segments of every
// shape) interleaved with sending and timeouts never break the flow invariants, never touch
// memory outside the buffers (run under ASan/UBSan too) and keep the API consistent.
#include <cstring>
#include <random>

#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(Robustness);

class Random {
 public:
  explicit Random(uint32_t seed) : rng_(seed) {}
  uint32_t below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(rng_() % n); }
  bool chance(uint32_t percent) { return below(100) < percent; }
  uint32_t any() { return static_cast<uint32_t>(rng_()); }

 private:
  std::mt19937 rng_;
};

// A random AtxEntry: mostly plausible, often garbage.
abi::AtxEntry random_entry(Random& r, const abi::FlowState& fs) {
  abi::AtxEntry e{};
  e.type = r.chance(90) ? kAtxTypeBump : static_cast<uint8_t>(r.any());
  e.flags = r.chance(80) ? 0 : r.chance(50) ? abi::kAtxTxFin : static_cast<uint8_t>(r.any());
  e.bump_seq = r.chance(70) ? static_cast<uint16_t>(fs.bump_seq + 1 + r.below(3))
                            : static_cast<uint16_t>(r.any());
  e.rx_bump = r.chance(70) ? r.below(fs.rx_len - fs.rx_avail + 2) : r.any();
  e.tx_bump = r.chance(70) ? r.below(fs.tx_len - fs.tx_avail - fs.tx_sent + 2) : r.any();
  if (r.chance(5)) e.tx_bump = 0;
  return e;
}

TEST_P(Robustness, RandomAppBumpsKeepInvariantsAndAreAllOrNothing) {
  FlowSetup s = setup();
  s.rx_len = 3000;
  s.tx_len = 2000;
  s.mss = 700;
  s.tx_start_pos = 1500;
  Flow f(s);
  Random r(12345);
  for (int i = 0; i < 100000; ++i) {
    abi::AtxEntry e = random_entry(r, f.fs);
    abi::FlowState before = f.fs;
    BumpOutcome out = app_bump(f.fs, e);
    if (!out.accepted()) {
      ASSERT_EQ(std::memcmp(&before, &f.fs, sizeof before), 0) << "step " << i;
    } else {
      ASSERT_EQ(f.fs.rx_avail, before.rx_avail + e.rx_bump);
      ASSERT_EQ(f.fs.tx_avail, before.tx_avail + e.tx_bump);
      ASSERT_EQ(f.fs.bump_seq, e.bump_seq);
    }
    if (const char* v = invariant_violation(f.fs)) FAIL() << v << " at step " << i;

    // Keep the flow moving so bumps keep meeting different states.
    switch (r.below(6)) {
      case 0:
        f.send();
        break;
      case 1:
        f.recv_ack(snd_max(f.fs) - s.local_isn - r.below(f.fs.tx_sent + 1));
        break;
      case 2:
        if (f.fs.rx_avail > 0) {
          f.recv_data(f.fs.rx_next_seq - s.remote_isn,
                      std::string(1 + r.below(f.fs.rx_avail), 'd'));
        }
        break;
      case 3:
        if (r.chance(10)) go_back_n(f.fs, f.now);
        break;
      default:
        break;
    }
    if (load_flags(f.fs) & abi::kFlowTxFinAcked) {  // start over with a fresh flow
      s.tx_start_pos = r.below(s.tx_len);
      f = Flow(s);
    }
    if (::testing::Test::HasFailure()) FAIL() << "step " << i;
  }
}

// A random segment around the flow's current state: any flags, sequence numbers near and far,
// ACKs near SND.UNA / SND.MAX and anywhere, payloads of any length up to the buffer size.
PeerSegment random_segment(Random& r, const Flow& f) {
  PeerSegment p;
  uint32_t nxt = f.fs.rx_next_seq;
  uint32_t seq = r.chance(50)   ? nxt
                 : r.chance(60) ? nxt + r.below(f.fs.rx_len + 10) - 5
                 : r.chance(50) ? nxt - r.below(5000)
                                : r.any();
  uint32_t una = snd_una(f.fs);
  uint32_t ack = r.chance(40)   ? una
                 : r.chance(60) ? una + r.below(snd_max(f.fs) - una + 3)
                 : r.chance(50) ? una - r.below(100000)
                                : r.any();
  uint8_t flags = kTcpAck;
  if (r.chance(10)) flags = static_cast<uint8_t>(r.any());
  if (r.chance(5)) flags |= kTcpFin;
  p.seq(seq).ack(ack).flags(flags).window(static_cast<uint16_t>(r.chance(80) ? 0xFFFF : r.any()));
  if (r.chance(50)) p.ts(r.chance(80) ? f.fs.ts_recent + r.below(10) : r.any(), r.any());
  if (r.chance(10)) p.ce();
  uint32_t len = r.chance(30) ? 0 : r.below(r.chance(90) ? 1500 : f.fs.rx_len + 100);
  p.data(std::string(len, static_cast<char>('A' + r.below(26))));
  return p;
}

TEST_P(Robustness, RandomSegmentsKeepInvariants) {
  FlowSetup s = setup();
  s.rx_len = 5000;
  s.tx_len = 3000;
  s.rx_start_pos = 4000;
  s.mss = 1000;
  s.extra_flags = abi::kFlowTimestamps | abi::kFlowEcn;
  Flow f(s);
  Random r(777);
  for (int i = 0; i < 100000; ++i) {
    RxOutcome out = f.recv(random_segment(r, f));
    ASSERT_LE(out.app_rx_bump, f.fs.rx_len);
    ASSERT_LE(out.app_tx_bump, f.fs.tx_len);
    if (out.send_ack) {
      ASSERT_NE(out.ack.flags & kTcpAck, 0);
    }

    // has_sendable() promises exactly what next_segment() does.
    abi::FlowState copy = f.fs;
    ASSERT_EQ(has_sendable(f.fs), next_segment(copy, f.now).valid) << "step " << i;

    switch (r.below(5)) {
      case 0:
        f.send();
        break;
      case 1:
        f.app_read(r.below(f.fs.rx_len - f.fs.rx_avail + 1));
        break;
      case 2:
        if (!(load_flags(f.fs) & abi::kFlowTxFin)) {
          f.app_write(std::string(r.below(f.fs.tx_len - f.fs.tx_avail - f.fs.tx_sent + 1), 'w'),
                      r.chance(2));
        }
        break;
      case 3:
        if (r.chance(5)) go_back_n(f.fs, f.now);
        break;
      default:
        break;
    }
    f.now += r.below(100);
    const uint32_t done = abi::kFlowReset | abi::kFlowTxFinAcked;
    if (load_flags(f.fs) & done) {
      s.rx_start_pos = r.below(s.rx_len);
      s.remote_isn = r.any();
      s.local_isn = r.any();
      f = Flow(s);
    }
    if (::testing::Test::HasFailure()) FAIL() << "step " << i;
  }
}

}  // namespace
}  // namespace vtas::tcp::testing
