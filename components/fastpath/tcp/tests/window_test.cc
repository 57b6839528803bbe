// The receive window: what we advertise (free space, scaled, never shrinking the right edge we
// advertised), what we accept, and a full buffer (zero window, probes).
#include <random>

#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(ReceiveWindow);
VTAS_TCP_SUITE(ZeroWindow);

TEST_P(ReceiveWindow, AdvertisesTheFreeSpace) {
  Flow f(setup());
  EXPECT_EQ(f.recv_data(0, std::string(100, 'a')).ack.window, 3996);
  EXPECT_EQ(f.recv_data(100, std::string(1000, 'b')).ack.window, 2996);
  f.app_read(600);
  EXPECT_EQ(pure_ack(f.fs, f.now).window, 3596);
}

TEST_P(ReceiveWindow, ScaledWindowKeepsTheAdvertisedRightEdge) {
  FlowSetup s = setup();
  s.rcv_wscale = 4;
  Flow f(s);
  EXPECT_EQ(f.fs.rx_adv_right, f.rseq(4096));
  RxOutcome out = f.recv_data(0, std::string(100, 'a'));
  // 3996 free bytes are 249.75 units: rounding down would move the edge left to 100 + 3984.
  EXPECT_EQ(out.ack.window, 250);
  EXPECT_EQ(f.fs.rx_adv_right, f.rseq(100 + 4000));
}

TEST_P(ReceiveWindow, RightEdgeNeverMovesLeft) {
  FlowSetup s = setup();
  s.rcv_wscale = 5;
  s.rx_len = 8192;
  Flow f(s);
  std::mt19937 rng(7);
  uint32_t right = f.fs.rx_adv_right;
  uint32_t offset = 0;
  for (int i = 0; i < 500; ++i) {
    uint32_t len = 1 + rng() % 300;
    if (len > f.fs.rx_avail) {
      f.app_read(f.fs.rx_len - f.fs.rx_avail);
      continue;
    }
    RxOutcome out = f.recv_data(offset, std::string(len, 'x'));
    offset += len;
    ASSERT_TRUE(out.send_ack);
    uint32_t new_right = out.ack.ack + (uint32_t{out.ack.window} << 5);
    ASSERT_TRUE(seq_geq(new_right, right)) << "step " << i;
    right = new_right;
  }
}

TEST_P(ReceiveWindow, DataIntoTheRoundedUpPartIsTrimmed) {
  FlowSetup s = setup();
  s.rcv_wscale = 4;
  Flow f(s);
  f.recv_data(0, std::string(100, 'a'));  // advertised: 4000 bytes, free: 3996
  RxOutcome out = f.recv_data(100, std::string(4000, 'b'));
  EXPECT_EQ(out.app_rx_bump, 3996u);
  EXPECT_EQ(out.drop, DropReason::kTrimmed);
  // 4 promised bytes remain beyond the full buffer; rounding down would retract the edge, so
  // one unit is advertised (as Linux does without tcp_shrink_window). The peer's bytes there
  // are trimmed until the app reads.
  EXPECT_EQ(out.ack.window, 1);
  EXPECT_EQ(f.fs.rx_adv_right, f.rseq(4096 + 16));
  out = f.recv_data(4096, std::string(16, 'c'));
  EXPECT_EQ(out.app_rx_bump, 0u);
  EXPECT_EQ(out.ack.window, 1);
  EXPECT_EQ(f.fs.rx_adv_right, f.rseq(4096 + 16));
}

TEST_P(ReceiveWindow, WindowFieldIsCappedAt16Bits) {
  FlowSetup s = setup();
  s.rx_len = 100000;
  Flow f(s);
  RxOutcome out = f.recv_data(0, "0123456789");
  EXPECT_EQ(out.ack.window, 0xFFFF);
  EXPECT_EQ(f.fs.rx_adv_right, f.rseq(10 + 0xFFFF));
}

TEST_P(ReceiveWindow, PureAckAtTheRightEdgeIsAccepted) {
  FlowSetup s = setup();
  s.rx_len = 100;
  Flow f(s);
  f.app_write("abc");
  f.send();
  // The peer sent 100 bytes we did not get yet, then this ACK: its seq is our right edge.
  RxOutcome out = f.recv(f.peer(100).ack(f.lseq(3)));
  EXPECT_EQ(out.app_tx_bump, 3u);
  EXPECT_FALSE(out.send_ack);
}

TEST_P(ReceiveWindow, UninitialisedAdvertisedEdgeIsIgnored) {
  Flow f(setup());
  f.fs.rx_adv_right = 0;  // an installer that did not set it
  RxOutcome out = f.recv_data(0, std::string(10, 'a'));
  EXPECT_EQ(out.ack.window, 4086);
  EXPECT_EQ(f.fs.rx_adv_right, f.rseq(4096));
}

TEST_P(ZeroWindow, FullBufferAdvertisesZero) {
  FlowSetup s = setup();
  s.rx_len = 10;
  Flow f(s);
  RxOutcome out = f.recv_data(0, "0123456789");
  EXPECT_EQ(out.ack.window, 0);
  EXPECT_EQ(f.fs.rx_adv_right, f.rseq(10));
}

TEST_P(ZeroWindow, ProbeByteIsNotAcceptedButAcked) {
  FlowSetup s = setup();
  s.rx_len = 10;
  Flow f(s);
  f.recv_data(0, "0123456789");
  RxOutcome out = f.recv_data(10, "X");
  EXPECT_EQ(out.app_rx_bump, 0u);
  EXPECT_EQ(out.drop, DropReason::kTrimmed);
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.ack, f.rseq(10));
  EXPECT_EQ(out.ack.window, 0);
  EXPECT_EQ(f.fs.rx_next_seq, f.rseq(10));
  EXPECT_EQ(f.delivered, "0123456789");
}

TEST_P(ZeroWindow, ProbeCarryingAnAckIsProcessed) {
  FlowSetup s = setup();
  s.rx_len = 10;
  Flow f(s);
  f.app_write("abc");
  f.send();
  f.recv_data(0, "0123456789");
  RxOutcome out = f.recv(f.peer(10).data("X").ack(f.lseq(3)));
  EXPECT_EQ(out.app_tx_bump, 3u);
  EXPECT_EQ(out.app_rx_bump, 0u);
  EXPECT_TRUE(out.send_ack);
}

TEST_P(ZeroWindow, OldSequenceProbeIsAnsweredWithTheWindow) {
  FlowSetup s = setup();
  s.rx_len = 10;
  Flow f(s);
  f.recv_data(0, "0123456789");
  f.app_read(4);
  RxOutcome out = f.recv(f.peer(9));  // Linux's probe: seq = RCV.NXT - 1, no data
  EXPECT_EQ(out.drop, DropReason::kDuplicate);
  ASSERT_TRUE(out.send_ack);
  EXPECT_EQ(out.ack.window, 4);
}

TEST_P(ZeroWindow, ReadingReopensTheWindowWithAnUpdate) {
  FlowSetup s = setup();
  s.rx_len = 10;
  Flow f(s);
  f.recv_data(0, "0123456789");
  BumpOutcome bump = f.app_read(1);
  EXPECT_TRUE(bump.send_window_update);
  EXPECT_EQ(pure_ack(f.fs, f.now).window, 1);
  RxOutcome out = f.recv_data(10, "ab");  // only one byte fits
  EXPECT_EQ(out.app_rx_bump, 1u);
  EXPECT_EQ(f.delivered, "0123456789a");
}

}  // namespace
}  // namespace vtas::tcp::testing
