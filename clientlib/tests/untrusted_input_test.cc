// Garbage from the service side: every field the library reads from shared memory is checked
// before use. Invalid entries are dropped whole and counted (never half applied, never a
// crash), invalid open answers fail the open, and a corrupted ring makes the context report
// EPROTO. Ends with a randomised flood of entries.
#include <arpa/inet.h>
#include <errno.h>

#include <random>
#include <string>

#include "clientlib/src/conn_state.h"
#include "clientlib/tests/client_fixture.h"

namespace vtas::client::testing {
namespace {

class UntrustedInputTest : public ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    open_listener(ctx_, listener_, 7);
  }

  // Posts an accept and answers it with `mutate` applied to an otherwise valid kAccepted.
  template <class Mutate>
  std::vector<flextcp_event> accept_with_answer(Mutate mutate) {
    EXPECT_EQ(flextcp_listen_accept(&ctx_, &listener_, &conn_), 0);
    abi::AppRequest r = pop_request(fake());
    FlowOptions options;
    flow_ = new_flow(fake(), r, options);
    abi::AppEvent answer = accepted_event(flow_, options);
    mutate(answer);
    EXPECT_TRUE(fake().push_kin(answer));
    return poll();
  }

  // Expects the accept to have failed with -EPROTO and the flow to be handed back.
  void expect_refused_accept(const std::vector<flextcp_event>& events) {
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].event_type, FLEXTCP_EV_LISTEN_ACCEPT);
    EXPECT_EQ(events[0].ev.listen_accept.status, -EPROTO);
    EXPECT_FALSE(connection_is_live(&conn_));
    EXPECT_EQ(stats(ctx_).rejected, 1u);
    abi::AppRequest abort = pop_request(fake());
    EXPECT_EQ(abort.type, static_cast<uint8_t>(abi::AppRequestType::kConnClose));
    EXPECT_EQ(abort.flags, abi::kCloseReset);
    EXPECT_EQ(abort.flow_id, flow_.flow_id);
  }

  // Pushes `entry` on arx ring `core` and expects it to be dropped with nothing changed.
  void expect_rejected_arx(uint32_t core, const abi::ArxEntry& entry) {
    const vtas_context_stats before = stats(ctx_);
    const flextcp_connection snapshot = conn_;
    ASSERT_TRUE(fake().push_arx(core, entry));
    EXPECT_TRUE(poll().empty());
    EXPECT_EQ(stats(ctx_).rejected, before.rejected + 1);
    EXPECT_EQ(conn_.rxb_used, snapshot.rxb_used);
    EXPECT_EQ(conn_.rxb_head, snapshot.rxb_head);
    EXPECT_EQ(conn_.txb_sent, snapshot.txb_sent);
    EXPECT_EQ(conn_.rx_closed, snapshot.rx_closed);
    EXPECT_EQ(conn_.flags, snapshot.flags);
    EXPECT_STRNE(vtas_last_error(), "");
  }

  flextcp_listener listener_;
  flextcp_connection conn_;
  FakeFlow flow_;
};

TEST_F(UntrustedInputTest, AcceptAnswerWithBufferOutsideTheRegionFailsTheAccept) {
  expect_refused_accept(accept_with_answer([&](abi::AppEvent& e) {
    e.rx_buffer = service_->region().size() - 100;  // runs past the end
  }));
}

TEST_F(UntrustedInputTest, AcceptAnswerWithHugeOffsetFailsTheAccept) {
  expect_refused_accept(accept_with_answer([](abi::AppEvent& e) { e.tx_buffer = ~0ull - 8; }));
}

TEST_F(UntrustedInputTest, AcceptAnswerWithZeroLengthFailsTheAccept) {
  expect_refused_accept(accept_with_answer([](abi::AppEvent& e) { e.rx_len = 0; }));
}

TEST_F(UntrustedInputTest, AcceptAnswerWithOverlappingBuffersFailsTheAccept) {
  expect_refused_accept(
      accept_with_answer([](abi::AppEvent& e) { e.tx_buffer = e.rx_buffer + 8; }));
}

TEST_F(UntrustedInputTest, AcceptAnswerPointingAtTheQueueBlockFailsTheAccept) {
  expect_refused_accept(
      accept_with_answer([&](abi::AppEvent& e) { e.rx_buffer = fake().queue_block; }));
}

TEST_F(UntrustedInputTest, AcceptAnswerPointingAtTheHeadersFailsTheAccept) {
  expect_refused_accept(accept_with_answer([](abi::AppEvent& e) { e.rx_buffer = 0; }));
}

TEST_F(UntrustedInputTest, AcceptAnswerWithCoreOutOfRangeFailsTheAccept) {
  expect_refused_accept(accept_with_answer([](abi::AppEvent& e) { e.core = 2; }));
}

TEST_F(UntrustedInputTest, KinEventsNamingNothingAreDropped) {
  abi::AppEvent e{};
  e.type = static_cast<uint8_t>(abi::AppEventType::kAccepted);
  e.opaque = 0xdeadbeefcafef00dull;  // no such cookie
  ASSERT_TRUE(fake().push_kin(e));
  e.type = static_cast<uint8_t>(abi::AppEventType::kConnOpened);
  e.opaque = listener_.vtas_cookie;  // a listener is not a connection
  ASSERT_TRUE(fake().push_kin(e));
  e.type = 200;  // unknown type
  ASSERT_TRUE(fake().push_kin(e));
  e.type = static_cast<uint8_t>(abi::AppEventType::kListenOpened);  // already open
  ASSERT_TRUE(fake().push_kin(e));
  EXPECT_TRUE(poll().empty());
  EXPECT_EQ(stats(ctx_).rejected, 4u);
  EXPECT_EQ(stats(ctx_).kin_events, 5u) << "including the listen answer of SetUp";
}

class UntrustedArxTest : public UntrustedInputTest {
 protected:
  void SetUp() override {
    UntrustedInputTest::SetUp();
    FlowOptions options;
    options.rx_len = 64;
    flow_ = accept(ctx_, listener_, conn_, options);
    deliver(flow_, "0123456789");
    ASSERT_EQ(received_bytes(poll()), "0123456789");
  }
};

TEST_F(UntrustedArxTest, EntryEndingAheadDeliversEverythingUpToItsEnd) {
  // Receive entries are cumulative (a connection's entries may come on two cores' rings in
  // either order when its flow moves): bytes 10..23 are all in the buffer if one ends at 24.
  abi::ArxEntry e = arx_entry(flow_);
  e.rx_stream_end = 24;
  e.rx_end_pos = 24;
  ASSERT_TRUE(fake().push_arx(0, e));
  EXPECT_EQ(received_bytes(poll()).size(), 14u);
  EXPECT_EQ(conn_.rxb_head, 24u);
  EXPECT_EQ(stats(ctx_).rejected, 0u);
}

TEST_F(UntrustedArxTest, EntryBehindTheStreamAddsNothingButItsAcknowledgement) {
  // An entry that ends behind what the app has (a later one on another core's ring came
  // first) delivers no bytes; the tx bytes it acknowledges still count (they are deltas).
  void* tx = nullptr;
  ASSERT_EQ(flextcp_connection_tx_alloc(&conn_, 3, &tx), 3);
  std::memcpy(tx, "abc", 3);
  ASSERT_EQ(flextcp_connection_tx_send(&ctx_, &conn_, 3), 0);
  const flextcp_connection snapshot = conn_;
  abi::ArxEntry e = arx_entry(flow_);
  e.rx_stream_end = 5;  // behind the 10 bytes the app has
  e.rx_end_pos = 5;
  e.tx_bump = 3;
  ASSERT_TRUE(fake().push_arx(0, e));
  EXPECT_TRUE(received_bytes(poll()).empty());
  EXPECT_EQ(conn_.rxb_head, snapshot.rxb_head);
  EXPECT_EQ(conn_.rxb_used, snapshot.rxb_used);
  EXPECT_EQ(conn_.txb_sent, 0u);
  EXPECT_EQ(stats(ctx_).stale_rx_entries, 1u);
  EXPECT_EQ(stats(ctx_).rejected, 0u);
}

TEST_F(UntrustedArxTest, EntryBeyondTheFreeSpaceOrAtTheWrongPositionIsRejected) {
  const flextcp_connection snapshot = conn_;
  abi::ArxEntry e = arx_entry(flow_);
  e.rx_stream_end = 10 + 55;  // 54 bytes are free
  e.rx_end_pos = (10 + 55) % 64;
  expect_rejected_arx(0, e);
  e.rx_stream_end = 10 + 0x7fffffffu;  // absurdly far ahead
  e.rx_end_pos = 0;
  expect_rejected_arx(0, e);
  e.rx_stream_end = 14;  // 4 new bytes end at position 14, not 20
  e.rx_end_pos = 20;
  expect_rejected_arx(0, e);
  EXPECT_EQ(conn_.rxb_head, snapshot.rxb_head);
  EXPECT_EQ(conn_.rxb_used, snapshot.rxb_used);
}

TEST_F(UntrustedArxTest, AcknowledgingUnsentDataIsDropped) {
  abi::ArxEntry e = arx_entry(flow_);
  e.tx_bump = 1;
  expect_rejected_arx(0, e);
}

TEST_F(UntrustedArxTest, FinAckWithoutFinIsDropped) {
  abi::ArxEntry e = arx_entry(flow_);
  e.flags = abi::kArxTxFinAcked;
  expect_rejected_arx(0, e);
}

TEST_F(UntrustedArxTest, MalformedEntriesAreDropped) {
  abi::ArxEntry e = arx_entry(flow_);
  e.type = 0;
  expect_rejected_arx(0, e);
  e = arx_entry(flow_);
  e.core = 1;  // pushed on core 0's ring
  expect_rejected_arx(0, e);
  e = arx_entry(flow_);
  e.flags = 0x80;
  expect_rejected_arx(0, e);
  e = arx_entry(flow_);
  e.flow_id = flow_.flow_id + 1;
  expect_rejected_arx(0, e);
  e = arx_entry(flow_);
  e.opaque = listener_.vtas_cookie;
  expect_rejected_arx(0, e);
  e.opaque = 0x12345;
  expect_rejected_arx(0, e);
}

TEST_F(UntrustedArxTest, DataAfterEndOfStreamIsDropped) {
  deliver(flow_, "", abi::kArxRxFin);
  poll();
  abi::ArxEntry e = arx_entry(flow_);
  e.rx_stream_end = 11;
  e.rx_end_pos = 11;
  expect_rejected_arx(0, e);
}

TEST_F(UntrustedArxTest, CorruptedRingMakesTheContextReportEproto) {
  // The producer index of arx ring 1 jumps far beyond anything an honest producer can write.
  const FakeServiceOptions& o = service_->options();
  auto layout = abi::queue_block_layout(o.num_cores, o.kin_capacity, o.kout_capacity,
                                        o.arx_capacity, o.atx_capacity);
  auto* head = reinterpret_cast<uint32_t*>(service_->at(
      fake().queue_block + layout.arx0 + layout.arx_stride + shm::kRingProducerOffset));
  std::atomic_ref<uint32_t>(*head).store(1000000, std::memory_order_release);
  flextcp_event events[4];
  EXPECT_EQ(flextcp_context_poll(&ctx_, 4, events), -1);
  EXPECT_EQ(errno, EPROTO);
  EXPECT_NE(std::string(vtas_last_error()).find("corrupted"), std::string::npos)
      << vtas_last_error();
  EXPECT_EQ(stats(ctx_).corrupted, 1u);
  EXPECT_EQ(flextcp_context_canwait(&ctx_), -1) << "never sleep on a broken ring";
}

// A flood of random entries, some with valid cookies, flow ids and positions, on every ring:
// the library must survive it, and every event it reports must point into the connection's
// own buffer.
TEST_F(UntrustedArxTest, RandomEntriesNeverEscapeTheBuffers) {
  std::mt19937_64 rng(7);
  const uint64_t cookies[] = {flow_.cookie, listener_.vtas_cookie, 0, rng()};
  for (int i = 0; i < 20000; ++i) {
    abi::ArxEntry e{};
    e.type = rng() % 4 ? 1 : static_cast<uint8_t>(rng());
    e.flags = rng() % 4 ? 0 : static_cast<uint8_t>(rng());
    e.core = static_cast<uint16_t>(rng() % 3);
    e.flow_id = rng() % 2 ? flow_.flow_id : static_cast<uint32_t>(rng());
    e.opaque = cookies[rng() % 4];
    const uint32_t more = static_cast<uint32_t>(rng() % 3 ? rng() % 70 : rng());
    e.rx_stream_end = conn_.vtas_rx_stream + more;
    e.rx_end_pos = rng() % 2 ? static_cast<uint32_t>((conn_.rxb_head + more) % 64)
                             : static_cast<uint32_t>(rng() % 128);
    e.tx_bump = static_cast<uint32_t>(rng() % 3 ? 0 : rng() % 10);
    const uint32_t core = static_cast<uint32_t>(rng() % 2);
    if (!fake().push_arx(core, e)) poll();
    if (rng() % 8 == 0) {
      abi::AppEvent k{};
      k.type = static_cast<uint8_t>(rng() % 10);
      k.opaque = cookies[rng() % 4];
      k.rx_buffer = rng();
      k.rx_len = static_cast<uint32_t>(rng());
      k.status = static_cast<int16_t>(rng());
      (void)fake().push_kin(k);
    }
    flextcp_event events[8];
    const int n = flextcp_context_poll(&ctx_, 8, events);
    ASSERT_GE(n, 0) << vtas_last_error();
    for (int j = 0; j < n; ++j) {
      if (events[j].event_type != FLEXTCP_EV_CONN_RECEIVED) continue;
      auto* buf = static_cast<uint8_t*>(events[j].ev.conn_received.buf);
      ASSERT_EQ(events[j].ev.conn_received.conn, &conn_);
      ASSERT_GE(buf, conn_.rxb_base);
      ASSERT_LE(buf + events[j].ev.conn_received.len, conn_.rxb_base + conn_.rxb_len);
    }
    if (conn_.rxb_used > 0 && connection_is_live(&conn_) &&
        flextcp_connection_rx_done(&ctx_, &conn_, conn_.rxb_used) == 0) {
      while (fake().pop_bump(conn_.fn_core)) {
      }
    }
  }
  EXPECT_GT(stats(ctx_).rejected, 1000u);
  EXPECT_LE(conn_.rxb_used, conn_.rxb_len);
}

}  // namespace
}  // namespace vtas::client::testing
