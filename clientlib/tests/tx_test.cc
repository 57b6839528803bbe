// Sending: tx_alloc / tx_alloc2 hand out pieces of the circular tx buffer, tx_send and
// tx_close become atx bumps, acknowledgements free space (SENDBUF) and confirm the FIN
// (TXCLOSED), and a full atx ring is backpressure that changes nothing.
#include <errno.h>

#include <cstring>
#include <string>

#include "clientlib/src/attach.h"
#include "clientlib/tests/client_fixture.h"

namespace vtas::client::testing {
namespace {

class TxTest : public ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    open_listener(ctx_, listener_, 7);
  }
  FakeFlow accept_with(uint32_t tx_len) {
    FlowOptions options;
    options.tx_len = tx_len;
    return accept(ctx_, listener_, conn_, options);
  }
  // Allocates, fills with `c` and sends `len` bytes (in one piece).
  void send(size_t len, char c) {
    void* buf = nullptr;
    ASSERT_EQ(flextcp_connection_tx_alloc(&conn_, len, &buf), static_cast<ssize_t>(len));
    std::memset(buf, c, len);
    ASSERT_EQ(flextcp_connection_tx_send(&ctx_, &conn_, len), 0) << vtas_last_error();
  }

  flextcp_listener listener_;
  flextcp_connection conn_;
};

TEST_F(TxTest, AllocatedBytesLandInTheTxBufferAndSendBumps) {
  FakeFlow flow = accept_with(4096);
  void* buf = nullptr;
  ASSERT_EQ(flextcp_connection_tx_alloc(&conn_, 5, &buf), 5);
  EXPECT_EQ(buf, Attachment::current()->base() + flow.tx_buffer);
  std::memcpy(buf, "howdy", 5);
  EXPECT_EQ(conn_.txb_allocated, 5u);
  ASSERT_EQ(flextcp_connection_tx_send(&ctx_, &conn_, 5), 0);
  abi::AtxEntry bump = pop_bump(fake(), 0);
  EXPECT_EQ(bump.type, 1);
  EXPECT_EQ(bump.flow_id, flow.flow_id);
  EXPECT_EQ(bump.tx_bump, 5u);
  EXPECT_EQ(bump.rx_bump, 0u);
  EXPECT_EQ(bump.flags, 0);
  EXPECT_EQ(bump.bump_seq, 1);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(service_->at(flow.tx_buffer)), 5), "howdy");
  EXPECT_EQ(conn_.txb_sent, 5u);
  EXPECT_EQ(conn_.txb_allocated, 0u);
  EXPECT_EQ(conn_.txb_head, 5u);
}

TEST_F(TxTest, AcknowledgedBytesFreeSpaceAndReportSendbuf) {
  FakeFlow flow = accept_with(64);
  send(64, 'x');
  void* buf = nullptr;
  EXPECT_EQ(flextcp_connection_tx_alloc(&conn_, 1, &buf), 0) << "the buffer is full";
  acknowledge(flow, 40);
  auto events = poll();
  ASSERT_EQ(types(events), std::vector<int>{FLEXTCP_EV_CONN_SENDBUF});
  EXPECT_EQ(events[0].ev.conn_sendbuf.conn, &conn_);
  EXPECT_EQ(conn_.txb_sent, 24u);
  EXPECT_EQ(flextcp_connection_tx_alloc(&conn_, 100, &buf), 40) << "exactly the freed space";
}

TEST_F(TxTest, AllocationAtTheBufferEndIsShortOrInTwoPieces) {
  FakeFlow flow = accept_with(64);
  send(40, 'a');
  acknowledge(flow, 40);
  poll();
  void* buf = nullptr;
  ASSERT_EQ(flextcp_connection_tx_alloc(&conn_, 40, &buf), 24) << "short: stops at the end";
  EXPECT_EQ(buf, conn_.txb_base + 40);
  ASSERT_EQ(flextcp_connection_tx_send(&ctx_, &conn_, 24), 0);
  acknowledge(flow, 24);
  poll();

  send(30, 'b');  // the next allocation starts at 30
  acknowledge(flow, 30);
  poll();
  // 64 free bytes, allocation position 30: 34 to the end, then 6 at the start.
  void* first = nullptr;
  void* second = nullptr;
  size_t first_len = 0;
  ASSERT_EQ(flextcp_connection_tx_alloc2(&conn_, 40, &first, &first_len, &second), 40);
  EXPECT_EQ(first, conn_.txb_base + 30);
  EXPECT_EQ(first_len, 34u);
  EXPECT_EQ(second, conn_.txb_base);
  ASSERT_EQ(flextcp_connection_tx_alloc2(&conn_, 10, &first, &first_len, &second), 10);
  EXPECT_EQ(first, conn_.txb_base + 6);
  EXPECT_EQ(first_len, 10u);
  EXPECT_EQ(second, nullptr) << "no second piece when nothing wraps";
  ASSERT_EQ(flextcp_connection_tx_send(&ctx_, &conn_, 50), 0);
  EXPECT_EQ(conn_.txb_head, 16u);
}

TEST_F(TxTest, SendingMoreThanAllocatedFails) {
  accept_with(4096);
  void* buf = nullptr;
  ASSERT_EQ(flextcp_connection_tx_alloc(&conn_, 10, &buf), 10);
  EXPECT_EQ(flextcp_connection_tx_send(&ctx_, &conn_, 11), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_FALSE(fake().pop_bump(0).has_value());
}

TEST_F(TxTest, TxCloseBumpsAFinAndItsAckGivesTxClosed) {
  FakeFlow flow = accept_with(4096);
  send(3, 'z');
  ASSERT_EQ(flextcp_connection_tx_close(&ctx_, &conn_), 0);
  pop_bump(fake(), 0);
  abi::AtxEntry fin = pop_bump(fake(), 0);
  EXPECT_EQ(fin.flags, abi::kAtxTxFin);
  EXPECT_EQ(fin.tx_bump, 0u);
  EXPECT_EQ(fin.bump_seq, 2);
  void* buf = nullptr;
  EXPECT_EQ(flextcp_connection_tx_alloc(&conn_, 1, &buf), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(flextcp_connection_tx_close(&ctx_, &conn_), -1) << "closed once";

  acknowledge(flow, 3, abi::kArxTxFinAcked);
  auto events = poll();
  EXPECT_EQ(types(events), (std::vector<int>{FLEXTCP_EV_CONN_SENDBUF, FLEXTCP_EV_CONN_TXCLOSED}));
  acknowledge(flow, 0, abi::kArxTxFinAcked);
  EXPECT_TRUE(poll().empty()) << "reported once";
}

TEST_F(TxTest, TxCloseWithUnsentAllocationFails) {
  accept_with(4096);
  void* buf = nullptr;
  ASSERT_EQ(flextcp_connection_tx_alloc(&conn_, 10, &buf), 10);
  EXPECT_EQ(flextcp_connection_tx_close(&ctx_, &conn_), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(TxTest, FullBumpQueueIsBackpressureThatChangesNothing) {
  accept_with(4096);
  for (int i = 0; i < 64; ++i) send(1, 'q');  // the atx ring holds 64 bumps
  void* buf = nullptr;
  ASSERT_EQ(flextcp_connection_tx_alloc(&conn_, 1, &buf), 1);
  EXPECT_EQ(flextcp_connection_tx_possible(&ctx_, &conn_), -1);
  EXPECT_EQ(errno, EAGAIN);
  errno = 0;
  EXPECT_EQ(flextcp_connection_tx_send(&ctx_, &conn_, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(conn_.txb_allocated, 1u) << "the failed send changed nothing";
  EXPECT_EQ(conn_.txb_sent, 64u);

  EXPECT_EQ(pop_bump(fake(), 0).bump_seq, 1);  // the core takes one
  EXPECT_EQ(flextcp_connection_tx_possible(&ctx_, &conn_), 0);
  ASSERT_EQ(flextcp_connection_tx_send(&ctx_, &conn_, 1), 0) << "the retry goes through";
  for (uint16_t seq = 2; seq <= 65; ++seq) {
    EXPECT_EQ(pop_bump(fake(), 0).bump_seq, seq) << "no gap, no duplicate";
  }
}

}  // namespace
}  // namespace vtas::client::testing
