// Several contexts: each has its own rings; a connection or listener belongs to one context,
// which alone may name it (in calls, and in what the service sends); a connection can move
// to another context; destroying a context forgets what it owned.
#include <errno.h>

#include "clientlib/src/conn_state.h"
#include "clientlib/tests/client_fixture.h"

namespace vtas::client::testing {
namespace {

class ContextsTest : public ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    other_ = &add_context();
    open_listener(ctx_, listener_, 7);
    flow_ = accept(ctx_, listener_, conn_);
    deliver(flow_, "data");
    ASSERT_EQ(received_bytes(poll()), "data");
  }

  flextcp_context* other_ = nullptr;
  flextcp_listener listener_;
  flextcp_connection conn_;
  FakeFlow flow_;
};

TEST_F(ContextsTest, ContextsHaveTheirOwnRings) {
  EXPECT_EQ(other_->ctx_id, 1);
  EXPECT_NE(other_->evfd, ctx_.evfd);
  flextcp_listener listener;
  open_listener(*other_, listener, 8);  // answered on context 1's rings
  EXPECT_FALSE(fake(0).pop_request().has_value()) << "nothing went to context 0";
}

TEST_F(ContextsTest, AnotherContextCannotNameTheConnection) {
  EXPECT_EQ(flextcp_connection_rx_done(other_, &conn_, 1), -1);
  EXPECT_EQ(errno, EINVAL);
  void* buf = nullptr;
  ASSERT_EQ(flextcp_connection_tx_alloc(&conn_, 4, &buf), 4);
  EXPECT_EQ(flextcp_connection_tx_send(other_, &conn_, 4), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(flextcp_connection_tx_close(other_, &conn_), -1);
  EXPECT_EQ(flextcp_connection_close(other_, &conn_), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(flextcp_listen_accept(other_, &listener_, &conn_), -1);
  EXPECT_FALSE(fake(0).pop_request().has_value());
  EXPECT_FALSE(fake(1).pop_request().has_value());
  EXPECT_FALSE(fake(0).pop_bump(0).has_value());
  EXPECT_FALSE(fake(1).pop_bump(0).has_value());
  EXPECT_EQ(conn_.rxb_used, 4u) << "untouched";
  EXPECT_EQ(flextcp_connection_rx_done(&ctx_, &conn_, 4), 0) << "its own context may";
}

TEST_F(ContextsTest, ServiceEventsNamingAnotherContextsObjectsAreDropped) {
  FakeFlow stray = flow_;
  stray.context = &fake(1);  // the connection's cookie on context 1's arx ring
  deliver(stray, "evil");
  abi::AppEvent notice{};
  notice.type = static_cast<uint8_t>(abi::AppEventType::kListenNewConn);
  notice.opaque = listener_.vtas_cookie;
  notice.listener_id = listener_.listener_id;
  ASSERT_TRUE(fake(1).push_kin(notice));
  EXPECT_TRUE(poll(*other_).empty());
  EXPECT_EQ(stats(*other_).rejected, 2u);
  EXPECT_EQ(conn_.rxb_used, 4u);
  EXPECT_TRUE(poll(ctx_).empty());
}

TEST_F(ContextsTest, AConnectionMovesToAnotherContext) {
  ASSERT_EQ(flextcp_connection_move(other_, &conn_), 0) << vtas_last_error();
  abi::AppRequest r = pop_request(fake(1));
  EXPECT_EQ(r.type, static_cast<uint8_t>(abi::AppRequestType::kConnMove));
  EXPECT_EQ(r.context_id, 1);
  EXPECT_EQ(r.new_context, 1);
  EXPECT_EQ(r.flow_id, flow_.flow_id);
  EXPECT_EQ(r.opaque, flow_.cookie);

  deliver(flow_, "old");  // pushed to the old context before the switch: still delivered there
  EXPECT_EQ(received_bytes(poll(ctx_)), "old");

  abi::AppEvent moved{};
  moved.type = static_cast<uint8_t>(abi::AppEventType::kConnMoved);
  moved.request_id = r.request_id;
  moved.opaque = r.opaque;
  ASSERT_TRUE(fake(1).push_kin(moved));
  auto events = poll(*other_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, FLEXTCP_EV_CONN_MOVED);
  EXPECT_EQ(events[0].ev.conn_moved.status, 0);
  EXPECT_EQ(events[0].ev.conn_moved.conn, &conn_);

  EXPECT_EQ(flextcp_connection_rx_done(&ctx_, &conn_, 1), -1) << "the old context lost it";
  ASSERT_EQ(flextcp_connection_rx_done(other_, &conn_, 7), 0) << vtas_last_error();
  EXPECT_EQ(pop_bump(fake(1), 0).rx_bump, 7u) << "bumps now go on the new context's ring";
  flow_.context = &fake(1);
  deliver(flow_, "new");
  EXPECT_EQ(received_bytes(poll(*other_)), "new");
  EXPECT_EQ(stats(*other_).rejected, 0u);
}

TEST_F(ContextsTest, DestroyingAContextForgetsItsObjects) {
  flextcp_listener listener;
  open_listener(*other_, listener, 8);
  ASSERT_TRUE(listener_is_live(&listener));
  ASSERT_EQ(vtas_context_destroy(other_), 0);
  EXPECT_FALSE(listener_is_live(&listener));
  EXPECT_TRUE(connection_is_live(&conn_)) << "other contexts keep theirs";
  EXPECT_EQ(flextcp_context_poll(other_, 1, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
}

}  // namespace
}  // namespace vtas::client::testing
