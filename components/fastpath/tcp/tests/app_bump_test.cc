// The app's atx bumps: validation of every field (the app is untrusted), all-or-nothing
// application, and the receive-window update decision (receiver-side SWS avoidance).
#include <cstring>

#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {
namespace {

VTAS_TCP_SUITE(AppBump);
VTAS_TCP_SUITE(WindowUpdate);

abi::AtxEntry entry(uint16_t bump_seq, uint32_t rx, uint32_t tx, uint8_t flags = 0) {
  abi::AtxEntry e{};
  e.type = kAtxTypeBump;
  e.flags = flags;
  e.bump_seq = bump_seq;
  e.rx_bump = rx;
  e.tx_bump = tx;
  return e;
}

// Applies `e` and expects it rejected with `reason` and the flow state untouched.
void expect_rejected(Flow& f, const abi::AtxEntry& e, BumpReject reason) {
  abi::FlowState before = f.fs;
  BumpOutcome out = app_bump(f.fs, e);
  EXPECT_EQ(out.reject, reason) << bump_reject_name(out.reject);
  EXPECT_EQ(std::memcmp(&before, &f.fs, sizeof before), 0);
  EXPECT_FALSE(out.send_window_update);
  EXPECT_EQ(out.tx_newly_sendable, 0u);
}

TEST_P(AppBump, TxBumpQueuesData) {
  Flow f(setup());
  BumpOutcome out = f.app_write(std::string(100, 'a'));
  EXPECT_TRUE(out.accepted());
  EXPECT_EQ(out.tx_newly_sendable, 100u);
  EXPECT_FALSE(out.send_window_update);
  EXPECT_EQ(f.fs.tx_avail, 100u);
  EXPECT_EQ(f.fs.bump_seq, 1u);
}

TEST_P(AppBump, RxBumpReturnsBufferSpace) {
  Flow f(setup());
  f.recv_data(0, std::string(100, 'a'));
  EXPECT_TRUE(f.app_read(40).accepted());
  EXPECT_EQ(f.fs.rx_avail, 4096u - 60);
}

TEST_P(AppBump, StaleAndDuplicateBumpsAreRejected) {
  Flow f(setup());
  f.app_write("abc");
  f.app_write("def");
  expect_rejected(f, entry(2, 0, 1), BumpReject::kStale);           // duplicate
  expect_rejected(f, entry(1, 0, 1), BumpReject::kStale);           // older
  expect_rejected(f, entry(2 + 0x8000, 0, 1), BumpReject::kStale);  // half the space ahead
  EXPECT_TRUE(app_bump(f.fs, entry(2 + 0x7FFF, 0, 1)).accepted());  // far but ahead
}

TEST_P(AppBump, BumpSequenceWraps) {
  Flow f(setup());
  f.fs.bump_seq = 0xFFFF;
  EXPECT_TRUE(app_bump(f.fs, entry(0, 0, 1)).accepted());
  EXPECT_EQ(f.fs.bump_seq, 0u);
  expect_rejected(f, entry(0xFFFF, 0, 1), BumpReject::kStale);
}

TEST_P(AppBump, RxBumpIsCheckedAgainstTheBytesTheAppHolds) {
  FlowSetup s = setup();
  s.rx_len = 100;
  s.tx_len = 10000;  // TAS compared rx bumps with tx_len and accepted 51 here
  Flow f(s);
  f.recv_data(0, std::string(50, 'a'));
  expect_rejected(f, entry(1, 51, 0), BumpReject::kRxBumpTooLarge);
  expect_rejected(f, entry(1, 0xFFFFFFFFu, 0), BumpReject::kRxBumpTooLarge);
  EXPECT_TRUE(app_bump(f.fs, entry(1, 50, 0)).accepted());
  EXPECT_EQ(f.fs.rx_avail, 100u);
}

TEST_P(AppBump, TxBumpIsCheckedAgainstFreeSpaceIncludingDataInFlight) {
  FlowSetup s = setup();
  s.tx_len = 100;
  Flow f(s);
  f.app_write(std::string(60, 'a'));
  f.send();  // 60 in flight
  expect_rejected(f, entry(2, 0, 41), BumpReject::kTxBumpTooLarge);
  expect_rejected(f, entry(2, 0, 0xFFFFFFF0u), BumpReject::kTxBumpTooLarge);
  EXPECT_TRUE(app_bump(f.fs, entry(2, 0, 40)).accepted());
}

TEST_P(AppBump, GarbageTypeAndFlagsAreRejected) {
  Flow f(setup());
  abi::AtxEntry e = entry(1, 0, 1);
  e.type = 0;
  expect_rejected(f, e, BumpReject::kBadType);
  e.type = 7;
  expect_rejected(f, e, BumpReject::kBadType);
  expect_rejected(f, entry(1, 0, 1, 0x02), BumpReject::kUnknownFlags);
  expect_rejected(f, entry(1, 0, 1, 0x81), BumpReject::kUnknownFlags);
}

TEST_P(AppBump, NoDataAfterTheAppClosed) {
  Flow f(setup());
  EXPECT_TRUE(f.app_write("last", /*close=*/true).accepted());
  EXPECT_NE(load_flags(f.fs) & abi::kFlowTxFin, 0u);
  expect_rejected(f, entry(2, 0, 1), BumpReject::kDataAfterFin);
  EXPECT_TRUE(f.app_close().accepted());  // closing again changes nothing
  EXPECT_EQ(f.fs.tx_avail, 4u);
}

TEST_P(AppBump, RejectedBumpAppliesNothing) {
  Flow f(setup());
  f.recv_data(0, std::string(100, 'a'));
  expect_rejected(f, entry(1, 50, 5000), BumpReject::kTxBumpTooLarge);  // rx part was valid
  EXPECT_EQ(f.fs.rx_avail, 3996u);
}

TEST_P(AppBump, ResetFlowRejectsBumps) {
  Flow f(setup());
  f.fs.flags |= abi::kFlowReset;
  expect_rejected(f, entry(1, 0, 1), BumpReject::kFlowClosed);
}

TEST_P(AppBump, SlowPathFlowKeepsTheAccountingButSendsNothing) {
  Flow f(setup());
  f.recv_data(0, std::string(4096, 'a'));
  f.fs.flags |= abi::kFlowSlowPath;
  BumpOutcome out = f.bump(4096, 10, 0);
  EXPECT_TRUE(out.accepted());
  EXPECT_FALSE(out.send_window_update);
  EXPECT_EQ(out.tx_newly_sendable, 0u);
  EXPECT_EQ(f.fs.rx_avail, 4096u);
  EXPECT_EQ(f.fs.tx_avail, 10u);
}

TEST_P(WindowUpdate, ReopeningAZeroWindow) {
  Flow f(setup());
  f.recv_data(0, std::string(4096, 'a'));
  EXPECT_TRUE(f.app_read(1).send_window_update);
}

TEST_P(WindowUpdate, SmallGrowthWaitsUntilAnMssWorth) {
  Flow f(setup());                         // mss 1000, rx_len 4096
  f.recv_data(0, std::string(3000, 'a'));  // the peer knows a window of 1096
  EXPECT_FALSE(f.app_read(500).send_window_update);
  EXPECT_TRUE(f.app_read(600).send_window_update);  // 2196 - 1096 >= 1000
  EXPECT_EQ(pure_ack(f.fs, f.now).window, 2196);
}

TEST_P(WindowUpdate, SmallBuffersUseHalfTheBuffer) {
  FlowSetup s = setup();
  s.rx_len = 200;
  Flow f(s);
  f.recv_data(0, std::string(180, 'a'));  // the peer knows a window of 20
  EXPECT_FALSE(f.app_read(99).send_window_update);
  EXPECT_TRUE(f.app_read(1).send_window_update);  // 120 - 20 >= 200 / 2
}

TEST_P(WindowUpdate, EmptiedBufferIsAnnouncedWhileTheKnownWindowIsBelowOneSegment) {
  // TAS announced only a window that was exactly 0. A peer that knows a small window (here 96
  // bytes, less than its MSS) may wait for a larger one forever: announce a freed buffer.
  Flow f(setup());
  f.recv_data(0, std::string(4000, 'a'));
  EXPECT_TRUE(f.app_read(4000).send_window_update);
  // A known window below one MSS (950 of an 1800-byte buffer, MSS 1000), the app frees 850
  // (< the 900-byte threshold) and the buffer is empty: announce it, the peer may be holding
  // back for a full segment.
  FlowSetup s = setup();
  s.rx_len = 1800;
  Flow g(s);
  g.recv_data(0, std::string(850, 'a'));
  EXPECT_TRUE(g.app_read(850).send_window_update);
}

TEST_P(WindowUpdate, EmptiedBufferWithAFullSegmentWindowNeedsNoAnnouncement) {
  // A request/response app frees 500 bytes of a 4096-byte buffer: the peer still knows a window
  // of more than one segment, so an update would be one extra packet per request for nothing.
  Flow g(setup());
  g.recv_data(0, std::string(500, 'a'));
  EXPECT_FALSE(g.app_read(500).send_window_update);
}

TEST_P(WindowUpdate, TxOnlyBumpSendsNoUpdate) {
  Flow f(setup());
  f.recv_data(0, std::string(4096, 'a'));
  EXPECT_FALSE(f.app_write("x").send_window_update);
}

TEST_P(WindowUpdate, ScaledWindowCountsWholeUnits) {
  FlowSetup s = setup();
  s.rcv_wscale = 10;  // 1 KiB units
  s.rx_len = 8192;
  Flow f(s);
  f.recv_data(0, std::string(8192, 'a'));
  EXPECT_FALSE(f.app_read(1000).send_window_update);  // still 0 units
  EXPECT_TRUE(f.app_read(24).send_window_update);     // 1 unit
  EXPECT_EQ(pure_ack(f.fs, f.now).window, 1);
}

}  // namespace
}  // namespace vtas::tcp::testing
