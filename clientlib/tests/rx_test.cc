// Receiving: arx entries become RECEIVED events pointing into the connection's rx buffer
// (two when the data wraps around it), rx_done() becomes rx bumps on the right core's atx
// ring, end of stream and reset become RXCLOSED / RESET, and a small event array loses
// nothing.
#include <errno.h>

#include <string>

#include "clientlib/tests/client_fixture.h"

namespace vtas::client::testing {
namespace {

class RxTest : public ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    open_listener(ctx_, listener_, 7);
  }
  FakeFlow accept_with(FlowOptions options) { return accept(ctx_, listener_, conn_, options); }

  flextcp_listener listener_;
  flextcp_connection conn_;
};

TEST_F(RxTest, ReceivedDataPointsIntoTheRxBuffer) {
  FakeFlow flow = accept_with({});
  deliver(flow, "hello");
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, FLEXTCP_EV_CONN_RECEIVED);
  EXPECT_EQ(events[0].ev.conn_received.conn, &conn_);
  EXPECT_EQ(events[0].ev.conn_received.buf, conn_.rxb_base);
  EXPECT_EQ(received_bytes(events), "hello");
  EXPECT_EQ(conn_.rxb_used, 5u);
  EXPECT_EQ(conn_.rxb_head, 5u);
}

TEST_F(RxTest, DataWrappingTheBufferGivesTwoEvents) {
  FlowOptions options;
  options.rx_len = 64;
  FakeFlow flow = accept_with(options);
  const std::string first(50, 'a');
  deliver(flow, first);
  EXPECT_EQ(received_bytes(poll()), first);
  ASSERT_EQ(flextcp_connection_rx_done(&ctx_, &conn_, 50), 0);

  const std::string second = "0123456789abcdefghijklmnopqrstuv";  // 32 bytes from 50: wraps
  deliver(flow, second);
  auto events = poll();
  ASSERT_EQ(types(events), (std::vector<int>{FLEXTCP_EV_CONN_RECEIVED, FLEXTCP_EV_CONN_RECEIVED}));
  EXPECT_EQ(events[0].ev.conn_received.buf, conn_.rxb_base + 50);
  EXPECT_EQ(events[0].ev.conn_received.len, 14u);
  EXPECT_EQ(events[1].ev.conn_received.buf, conn_.rxb_base);
  EXPECT_EQ(events[1].ev.conn_received.len, 18u);
  EXPECT_EQ(received_bytes(events), second);
  EXPECT_EQ(conn_.rxb_head, 18u);
  EXPECT_EQ(conn_.rxb_used, 32u);
}

TEST_F(RxTest, RxDoneSendsBumpsWithIncreasingSequence) {
  FakeFlow flow = accept_with({});
  deliver(flow, "abcdef");
  poll();
  ASSERT_EQ(flextcp_connection_rx_done(&ctx_, &conn_, 2), 0);
  ASSERT_EQ(flextcp_connection_rx_done(&ctx_, &conn_, 4), 0);
  abi::AtxEntry b1 = pop_bump(fake(), 0);
  abi::AtxEntry b2 = pop_bump(fake(), 0);
  EXPECT_EQ(b1.type, 1);
  EXPECT_EQ(b1.flow_id, flow.flow_id);
  EXPECT_EQ(b1.rx_bump, 2u);
  EXPECT_EQ(b1.tx_bump, 0u);
  EXPECT_EQ(b1.bump_seq, 1) << "the fast path accepts bump_seq after its initial 0";
  EXPECT_EQ(b2.rx_bump, 4u);
  EXPECT_EQ(b2.bump_seq, 2);
  EXPECT_EQ(conn_.rxb_used, 0u);
  EXPECT_EQ(flextcp_connection_rx_done(&ctx_, &conn_, 1), -1) << "nothing left to release";
  EXPECT_EQ(errno, EINVAL);
  EXPECT_FALSE(fake().pop_bump(0).has_value());
}

TEST_F(RxTest, BumpsGoToTheCoreThatSentTheLastData) {
  FlowOptions options;
  options.core = 0;
  FakeFlow flow = accept_with(options);
  flow.core = 1;  // the flow moved to core 1 (scale-out)
  deliver(flow, "xyz");
  poll();
  EXPECT_EQ(conn_.fn_core, 1);
  ASSERT_EQ(flextcp_connection_rx_done(&ctx_, &conn_, 3), 0);
  EXPECT_FALSE(fake().pop_bump(0).has_value());
  EXPECT_EQ(pop_bump(fake(), 1).rx_bump, 3u);
}

TEST_F(RxTest, CoreDoorbellRingsOnlyWhenTheCoreSleeps) {
  FakeFlow flow = accept_with({});
  deliver(flow, "abcd");
  poll();
  service_->core_doorbell(0).drain();
  ASSERT_EQ(flextcp_connection_rx_done(&ctx_, &conn_, 1), 0);
  EXPECT_FALSE(service_->core_doorbell(0).wait(0)) << "an awake core needs no syscall";
  pop_bump(fake(), 0);
  ASSERT_TRUE(fake().atx[0].prepare_sleep());  // the core announces it goes to sleep
  ASSERT_EQ(flextcp_connection_rx_done(&ctx_, &conn_, 1), 0);
  EXPECT_TRUE(service_->core_doorbell(0).wait(0)) << "the sleeping core must be woken";
  fake().atx[0].finish_sleep();
}

TEST_F(RxTest, PeerFinGivesRxClosed) {
  FakeFlow flow = accept_with({});
  deliver(flow, "bye", abi::kArxRxFin);
  auto events = poll();
  EXPECT_EQ(types(events), (std::vector<int>{FLEXTCP_EV_CONN_RECEIVED, FLEXTCP_EV_CONN_RXCLOSED}));
  EXPECT_EQ(conn_.rx_closed, 1);
  deliver(flow, "", abi::kArxRxFin);
  EXPECT_TRUE(poll().empty()) << "reported once";
}

TEST_F(RxTest, ResetGivesResetThenRxClosedAndStopsSending) {
  FakeFlow flow = accept_with({});
  acknowledge(flow, 0, abi::kArxReset);
  auto events = poll();
  EXPECT_EQ(types(events), (std::vector<int>{FLEXTCP_EV_CONN_RESET, FLEXTCP_EV_CONN_RXCLOSED}));
  EXPECT_EQ(events[0].ev.conn_reset.conn, &conn_);
  void* buf = nullptr;
  EXPECT_EQ(flextcp_connection_tx_alloc(&conn_, 10, &buf), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(flextcp_connection_close(&ctx_, &conn_), 0) << "the app still closes it";
}

TEST_F(RxTest, ASmallEventArrayLosesNothing) {
  FlowOptions options;
  options.rx_len = 16;
  FakeFlow flow = accept_with(options);
  deliver(flow, "0123456789");
  poll();
  ASSERT_EQ(flextcp_connection_rx_done(&ctx_, &conn_, 10), 0);
  deliver(flow, "abcdefghij", abi::kArxRxFin);  // wraps: two RECEIVED, then RXCLOSED
  deliver(flow, "");                            // another entry behind it
  std::vector<flextcp_event> events;
  flextcp_event one;
  for (int i = 0; i < 10; ++i) {
    int n = flextcp_context_poll(&ctx_, 1, &one);
    ASSERT_GE(n, 0);
    if (n == 1) events.push_back(one);
  }
  EXPECT_EQ(types(events), (std::vector<int>{FLEXTCP_EV_CONN_RECEIVED, FLEXTCP_EV_CONN_RECEIVED,
                                             FLEXTCP_EV_CONN_RXCLOSED}));
  EXPECT_EQ(received_bytes(events), "abcdefghij");
}

}  // namespace
}  // namespace vtas::client::testing
