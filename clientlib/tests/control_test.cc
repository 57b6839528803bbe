// Control round trips: listen, accept, new-connection notices, active open, close, abort,
// listener close; the requests the library writes to kout and the events it makes of the
// service's answers; backpressure on a full kout ring.
#include <arpa/inet.h>
#include <errno.h>

#include "clientlib/src/attach.h"
#include "clientlib/src/conn_state.h"
#include "clientlib/tests/client_fixture.h"

namespace vtas::client::testing {
namespace {

using ControlTest = ClientTest;

abi::AppEvent answer_to(const abi::AppRequest& request, abi::AppEventType type,
                        int16_t status = 0) {
  abi::AppEvent e{};
  e.type = static_cast<uint8_t>(type);
  e.request_id = request.request_id;
  e.opaque = request.opaque;
  e.status = status;
  return e;
}

TEST_F(ControlTest, ListenOpenWritesARequestAndRingsTheControlDoorbell) {
  service_->control_doorbell().drain();
  flextcp_listener listener;
  ASSERT_EQ(flextcp_listen_open(&ctx_, &listener, 8080, 32, FLEXTCP_LISTEN_REUSEPORT), 0);
  EXPECT_TRUE(service_->control_doorbell().wait(0)) << "the control thread must be woken";
  abi::AppRequest r = pop_request(fake());
  EXPECT_EQ(r.type, static_cast<uint8_t>(abi::AppRequestType::kListenOpen));
  EXPECT_EQ(r.flags, abi::kListenReusePort);
  EXPECT_EQ(r.context_id, 0);
  EXPECT_NE(r.request_id, 0u);
  EXPECT_NE(r.opaque, 0u);
  EXPECT_EQ(r.local_port, htons(8080));
  EXPECT_EQ(r.backlog, 32u);

  abi::AppEvent answer = answer_to(r, abi::AppEventType::kListenOpened);
  answer.listener_id = 5;
  ASSERT_TRUE(fake().push_kin(answer));
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, FLEXTCP_EV_LISTEN_OPEN);
  EXPECT_EQ(events[0].ev.listen_open.status, 0);
  EXPECT_EQ(events[0].ev.listen_open.listener, &listener);
  EXPECT_EQ(listener.listener_id, 5u);
  EXPECT_EQ(listener.local_port, 8080);
}

TEST_F(ControlTest, RefusedListenReportsTheStatusAndFreesTheListener) {
  flextcp_listener listener;
  ASSERT_EQ(flextcp_listen_open(&ctx_, &listener, 80, 8, 0), 0);
  abi::AppRequest r = pop_request(fake());
  ASSERT_TRUE(fake().push_kin(answer_to(r, abi::AppEventType::kListenOpened, -EADDRINUSE)));
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].ev.listen_open.status, -EADDRINUSE);
  EXPECT_FALSE(listener_is_live(&listener));
  EXPECT_EQ(flextcp_listen_open(&ctx_, &listener, 81, 8, 0), 0) << "the struct can be reused";
}

TEST_F(ControlTest, InvalidListenAndAcceptCallsFail) {
  flextcp_listener listener;
  EXPECT_EQ(flextcp_listen_open(&ctx_, &listener, 80, 8, 0x2), -1);
  EXPECT_EQ(errno, EINVAL);
  ASSERT_EQ(flextcp_listen_open(&ctx_, &listener, 80, 8, 0), 0);
  flextcp_connection conn;
  EXPECT_EQ(flextcp_listen_accept(&ctx_, &listener, &conn), -1) << "not open yet";
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(flextcp_listen_open(&ctx_, &listener, 80, 8, 0), -1) << "still in use";
  EXPECT_EQ(errno, EBUSY);
}

TEST_F(ControlTest, AcceptRoundTripFillsTheConnection) {
  flextcp_listener listener;
  open_listener(ctx_, listener, 7);
  flextcp_connection conn;
  ASSERT_EQ(flextcp_listen_accept(&ctx_, &listener, &conn), 0);
  abi::AppRequest r = pop_request(fake());
  EXPECT_EQ(r.type, static_cast<uint8_t>(abi::AppRequestType::kAccept));
  EXPECT_EQ(r.listener_id, listener.listener_id);
  EXPECT_EQ(r.opaque, conn.vtas_cookie);

  FlowOptions options;
  options.rx_len = 1024;
  options.tx_len = 2048;
  options.core = 1;
  FakeFlow flow = new_flow(fake(), r, options);
  ASSERT_TRUE(fake().push_kin(accepted_event(flow, options)));
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, FLEXTCP_EV_LISTEN_ACCEPT);
  EXPECT_EQ(events[0].ev.listen_accept.status, 0);
  EXPECT_EQ(events[0].ev.listen_accept.conn, &conn);
  EXPECT_EQ(conn.remote_ip, 0x0a000002u);
  EXPECT_EQ(conn.remote_port, 40000);
  EXPECT_EQ(conn.local_ip, 0x0a000001u);
  EXPECT_EQ(conn.local_port, 7);
  EXPECT_EQ(conn.rxb_len, 1024u);
  EXPECT_EQ(conn.txb_len, 2048u);
  uint8_t* app_base = Attachment::current()->base();  // the app's own mapping of the region
  EXPECT_EQ(conn.rxb_base, app_base + flow.rx_buffer);
  EXPECT_EQ(conn.txb_base, app_base + flow.tx_buffer);
  EXPECT_EQ(conn.flow_id, flow.flow_id);
  EXPECT_EQ(conn.fn_core, 1);
}

TEST_F(ControlTest, NewConnectionNoticeNamesThePeer) {
  flextcp_listener listener;
  open_listener(ctx_, listener, 7);
  abi::AppEvent notice{};
  notice.type = static_cast<uint8_t>(abi::AppEventType::kListenNewConn);
  notice.opaque = listener.vtas_cookie;
  notice.listener_id = listener.listener_id;
  notice.remote_ip = htonl(0xc0a80001);
  notice.remote_port = htons(5555);
  ASSERT_TRUE(fake().push_kin(notice));
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, FLEXTCP_EV_LISTEN_NEWCONN);
  EXPECT_EQ(events[0].ev.listen_newconn.listener, &listener);
  EXPECT_EQ(events[0].ev.listen_newconn.remote_ip, 0xc0a80001u);
  EXPECT_EQ(events[0].ev.listen_newconn.remote_port, 5555);
}

TEST_F(ControlTest, ActiveOpenRoundTrip) {
  flextcp_connection conn;
  ASSERT_EQ(flextcp_connection_open(&ctx_, &conn, 0x0a000009, 443), 0);
  abi::AppRequest r = pop_request(fake());
  EXPECT_EQ(r.type, static_cast<uint8_t>(abi::AppRequestType::kConnOpen));
  EXPECT_EQ(r.remote_ip, htonl(0x0a000009));
  EXPECT_EQ(r.remote_port, htons(443));
  FlowOptions options;
  FakeFlow flow = new_flow(fake(), r, options);
  abi::AppEvent answer = accepted_event(flow, options);
  answer.type = static_cast<uint8_t>(abi::AppEventType::kConnOpened);
  answer.request_id = r.request_id;
  ASSERT_TRUE(fake().push_kin(answer));
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, FLEXTCP_EV_CONN_OPEN);
  EXPECT_EQ(events[0].ev.conn_open.status, 0);
  EXPECT_EQ(events[0].ev.conn_open.conn, &conn);
  EXPECT_EQ(conn.remote_ip, 0x0a000009u);
  EXPECT_EQ(conn.remote_port, 443);
  EXPECT_EQ(conn.flow_id, flow.flow_id);
}

TEST_F(ControlTest, RefusedOpenReportsTheStatusAndFreesTheConnection) {
  flextcp_connection conn;
  ASSERT_EQ(flextcp_connection_open(&ctx_, &conn, 0x0a000009, 443), 0);
  abi::AppRequest r = pop_request(fake());
  ASSERT_TRUE(fake().push_kin(answer_to(r, abi::AppEventType::kConnOpened, -ECONNREFUSED)));
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].ev.conn_open.status, -ECONNREFUSED);
  EXPECT_FALSE(connection_is_live(&conn));
  EXPECT_EQ(flextcp_connection_close(&ctx_, &conn), -1);
  EXPECT_EQ(errno, ENOTCONN);
}

TEST_F(ControlTest, CloseRoundTripForgetsTheConnection) {
  flextcp_listener listener;
  open_listener(ctx_, listener, 7);
  flextcp_connection conn;
  FakeFlow flow = accept(ctx_, listener, conn);
  EXPECT_EQ(flextcp_connection_close(&ctx_, &conn), 0);
  EXPECT_EQ(flextcp_connection_close(&ctx_, &conn), -1) << "already closing";
  EXPECT_EQ(errno, EALREADY);
  abi::AppRequest r = pop_request(fake());
  EXPECT_EQ(r.type, static_cast<uint8_t>(abi::AppRequestType::kConnClose));
  EXPECT_EQ(r.flags, 0);
  EXPECT_EQ(r.flow_id, flow.flow_id);
  EXPECT_EQ(r.opaque, flow.cookie);

  deliver(flow, "late");  // data racing with the close: dropped quietly
  ASSERT_TRUE(fake().push_kin(answer_to(r, abi::AppEventType::kConnClosed)));
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, FLEXTCP_EV_CONN_CLOSED);
  EXPECT_EQ(events[0].ev.conn_closed.conn, &conn);
  EXPECT_EQ(events[0].ev.conn_closed.status, 0);
  EXPECT_FALSE(connection_is_live(&conn));
  EXPECT_EQ(stats(ctx_).rejected, 0u);
  EXPECT_EQ(stats(ctx_).dropped_closed, 1u);

  deliver(flow, "later");  // after the close: a stale cookie, not garbage
  EXPECT_TRUE(poll().empty());
  EXPECT_EQ(stats(ctx_).rejected, 0u);
  EXPECT_EQ(stats(ctx_).dropped_closed, 2u);
  accept(ctx_, listener, conn);  // the struct can be reused
}

TEST_F(ControlTest, AbortAsksForAReset) {
  flextcp_listener listener;
  open_listener(ctx_, listener, 7);
  flextcp_connection conn;
  FakeFlow flow = accept(ctx_, listener, conn);
  ASSERT_EQ(vtas_connection_abort(&ctx_, &conn), 0);
  abi::AppRequest r = pop_request(fake());
  EXPECT_EQ(r.type, static_cast<uint8_t>(abi::AppRequestType::kConnClose));
  EXPECT_EQ(r.flags, abi::kCloseReset);
  EXPECT_EQ(r.flow_id, flow.flow_id);
}

// The fast path refuses requests beyond its per-app bound with -ENOBUFS. A refused close did
// not happen: the library asks again (same flags) and reports only the real answer.
TEST_F(ControlTest, ACloseRefusedForNowIsSentAgainNotReported) {
  flextcp_listener listener;
  open_listener(ctx_, listener, 7);
  flextcp_connection conn;
  FakeFlow flow = accept(ctx_, listener, conn);
  ASSERT_EQ(vtas_connection_abort(&ctx_, &conn), 0);
  abi::AppRequest first = pop_request(fake());
  ASSERT_TRUE(fake().push_kin(answer_to(first, abi::AppEventType::kConnClosed, -ENOBUFS)));
  EXPECT_TRUE(poll().empty()) << "a refusal is not a close";
  EXPECT_TRUE(connection_is_live(&conn));
  EXPECT_TRUE(poll().empty());
  abi::AppRequest again = pop_request(fake());
  EXPECT_EQ(again.type, static_cast<uint8_t>(abi::AppRequestType::kConnClose));
  EXPECT_EQ(again.flags, abi::kCloseReset) << "still an abort";
  EXPECT_EQ(again.flow_id, flow.flow_id);
  EXPECT_EQ(again.opaque, flow.cookie);
  EXPECT_NE(again.request_id, first.request_id);
  EXPECT_FALSE(fake().pop_request().has_value()) << "sent once per refusal";
  ASSERT_TRUE(fake().push_kin(answer_to(again, abi::AppEventType::kConnClosed)));
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, FLEXTCP_EV_CONN_CLOSED);
  EXPECT_EQ(events[0].ev.conn_closed.status, 0);
  EXPECT_FALSE(connection_is_live(&conn));
}

TEST_F(ControlTest, PeerClosingTheConnectionIsReportedOnce) {
  flextcp_listener listener;
  open_listener(ctx_, listener, 7);
  flextcp_connection conn;
  FakeFlow flow = accept(ctx_, listener, conn);
  abi::AppEvent closed{};
  closed.type = static_cast<uint8_t>(abi::AppEventType::kConnClosed);
  closed.opaque = flow.cookie;
  closed.status = -ETIMEDOUT;
  ASSERT_TRUE(fake().push_kin(closed));
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].ev.conn_closed.status, -ETIMEDOUT);
  EXPECT_EQ(flextcp_connection_close(&ctx_, &conn), -1);
  EXPECT_EQ(errno, ENOTCONN);
}

TEST_F(ControlTest, ListenerCloseRoundTrip) {
  flextcp_listener listener;
  open_listener(ctx_, listener, 7);
  ASSERT_EQ(vtas_listen_close(&ctx_, &listener), 0);
  abi::AppRequest r = pop_request(fake());
  EXPECT_EQ(r.type, static_cast<uint8_t>(abi::AppRequestType::kListenClose));
  EXPECT_EQ(r.listener_id, listener.listener_id);
  flextcp_connection conn;
  EXPECT_EQ(flextcp_listen_accept(&ctx_, &listener, &conn), -1) << "closing";
  ASSERT_TRUE(fake().push_kin(answer_to(r, abi::AppEventType::kListenClosed)));
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, FLEXTCP_EV_LISTEN_CLOSED);
  EXPECT_EQ(events[0].ev.listen_closed.listener, &listener);
  EXPECT_FALSE(listener_is_live(&listener));
}

TEST_F(ControlTest, DataBeforeTheAcceptAnswerIsReportedWithIt) {
  flextcp_listener listener;
  open_listener(ctx_, listener, 7);
  flextcp_connection conn;
  ASSERT_EQ(flextcp_listen_accept(&ctx_, &listener, &conn), 0);
  abi::AppRequest r = pop_request(fake());
  FlowOptions options;
  options.core = 1;
  FakeFlow flow = new_flow(fake(), r, options);
  deliver(flow, "early ");  // the fast path may beat the control thread
  deliver(flow, "bird", abi::kArxRxFin);
  EXPECT_TRUE(poll().empty()) << "nothing to report before the connection is known";
  abi::AppEvent answer = accepted_event(flow, options);
  answer.listener_id = listener.listener_id;
  ASSERT_TRUE(fake().push_kin(answer));
  auto events = poll();
  EXPECT_EQ(types(events), (std::vector<int>{FLEXTCP_EV_LISTEN_ACCEPT, FLEXTCP_EV_CONN_RECEIVED,
                                             FLEXTCP_EV_CONN_RXCLOSED}));
  EXPECT_EQ(received_bytes(events), "early bird");
  EXPECT_EQ(conn.rxb_used, 10u);
  EXPECT_EQ(conn.rxb_head, 10u);
  EXPECT_EQ(conn.rx_closed, 1);
  EXPECT_EQ(stats(ctx_).rejected, 0u);
}

TEST_F(ControlTest, FullControlQueueIsBackpressureNotLoss) {
  // kout holds 64 requests; the service is not reading.
  std::vector<flextcp_listener> listeners(65);
  for (size_t i = 0; i < 64; ++i) {
    ASSERT_EQ(flextcp_listen_open(&ctx_, &listeners[i], static_cast<uint16_t>(100 + i), 8, 0), 0);
  }
  errno = 0;
  EXPECT_EQ(flextcp_listen_open(&ctx_, &listeners[64], 164, 8, 0), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_FALSE(listener_is_live(&listeners[64])) << "nothing half-done stays behind";
  for (size_t i = 0; i < 64; ++i) {
    abi::AppRequest r = pop_request(fake());
    EXPECT_EQ(r.local_port, htons(static_cast<uint16_t>(100 + i))) << "in order, none lost";
  }
  EXPECT_EQ(flextcp_listen_open(&ctx_, &listeners[64], 164, 8, 0), 0) << "room again";
}

}  // namespace
}  // namespace vtas::client::testing
