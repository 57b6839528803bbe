#include "components/slowpath/connection_table.h"

#include <gtest/gtest.h>

namespace vtas::conn {
namespace {

ConnRecord rec(uint32_t id, uint16_t remote_port, ConnState state,
               ConnRole role = ConnRole::kActive, uint32_t app = 1) {
  ConnRecord r{};
  r.conn_id = id;
  r.state = static_cast<uint8_t>(state);
  r.role = static_cast<uint8_t>(role);
  r.local_ip = 1;
  r.remote_ip = 2;
  r.local_port = 80;
  r.remote_port = remote_port;
  r.app_id = app;
  return r;
}

TEST(ConnectionTable, FindsByIdTupleAndFlow) {
  ConnectionTable t;
  Connection& c = t.add(rec(1, 1000, ConnState::kInstalling), 4);
  EXPECT_EQ(c.slot, 4u);
  EXPECT_EQ(t.find(1), &c);
  EXPECT_EQ(t.find(FourTuple{1, 2, 80, 1000}), &c);
  EXPECT_EQ(t.find_flow(9), nullptr);
  t.set_flow(c, 9);
  EXPECT_EQ(t.find_flow(9), &c);
  t.set_flow(c, 10);
  EXPECT_EQ(t.find_flow(9), nullptr);
  EXPECT_EQ(t.find_flow(10), &c);
  EXPECT_EQ(t.find_flow(0), nullptr);
  t.remove(1);
  EXPECT_EQ(t.find(1), nullptr);
  EXPECT_EQ(t.find(FourTuple{1, 2, 80, 1000}), nullptr);
  EXPECT_EQ(t.find_flow(10), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnectionTable, CountsPendingActiveOpensPerAppThroughStateChanges) {
  ConnectionTable t;
  Connection& a = t.add(rec(1, 1000, ConnState::kResolving), 0);
  t.add(rec(2, 1001, ConnState::kSynSent), 1);
  t.add(rec(3, 1002, ConnState::kInstalling, ConnRole::kPassive), 2);  // passive: not counted
  t.add(rec(4, 1003, ConnState::kSynSent, ConnRole::kActive, 2), 3);
  EXPECT_EQ(t.pending_opens(1), 2u);
  EXPECT_EQ(t.pending_opens(2), 1u);
  t.set_state(a, ConnState::kSynSent);
  EXPECT_EQ(t.pending_opens(1), 2u);
  t.set_state(a, ConnState::kEstablished);
  EXPECT_EQ(t.pending_opens(1), 1u);
  t.remove(2);
  EXPECT_EQ(t.pending_opens(1), 0u);
  EXPECT_EQ(t.count(ConnState::kEstablished), 1u);
  EXPECT_EQ(t.count(ConnState::kSynSent), 1u);
  EXPECT_EQ(t.ids_of_app(1), (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(t.ids(), (std::vector<uint32_t>{1, 3, 4}));
}

TEST(ConnectionTable, StateNames) {
  EXPECT_STREQ(conn_state_name(ConnState::kSynSent), "syn-sent");
  EXPECT_STREQ(conn_state_name(static_cast<ConnState>(77)), "unknown");
}

}  // namespace
}  // namespace vtas::conn
