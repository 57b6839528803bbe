#include "components/slowpath/registry_validation.h"

#include <gtest/gtest.h>

namespace vtas::conn {
namespace {

ConnRecord good_conn() {
  ConnRecord r{};
  r.conn_id = 1;
  r.state = static_cast<uint8_t>(ConnState::kEstablished);
  r.role = static_cast<uint8_t>(ConnRole::kPassive);
  r.local_ip = 1;
  r.remote_ip = 2;
  r.local_port = 80;
  r.remote_port = 4000;
  r.flow_id = 3;
  r.send_mss = 1448;
  return r;
}

HandshakeRecord good_handshake() {
  HandshakeRecord r{};
  r.stage = static_cast<uint8_t>(HandshakeStage::kSynReceived);
  r.listener_id = 1;
  r.local_ip = 1;
  r.remote_ip = 2;
  r.local_port = 80;
  r.remote_port = 4000;
  r.options = kSynHasMss | kSynHasWscale | kSynTimestamps;
  r.peer_wscale = 7;
  r.rto_us = 10000;
  return r;
}

TEST(RegistryValidation, AcceptsGoodRecords) {
  EXPECT_EQ(check_record(good_conn()), "");
  ListenerRecord l{};
  l.listener_id = 1;
  l.local_port = 80;
  l.backlog = 1;
  EXPECT_EQ(check_record(l), "");
  AcceptRecord a{};
  a.listener_id = 1;
  EXPECT_EQ(check_record(a), "");
  TimeWaitRecord t{};
  t.local_port = 1;
  t.remote_port = 2;
  t.remote_ip = 3;
  t.expires_ns = 100;
  EXPECT_EQ(check_record(t, 0, std::chrono::seconds(60)), "");
  // A passive close's linger entry is restored like a TIME_WAIT (it was dropped once, and
  // the restarted conn answered the peer's late ACKs with RSTs).
  t.flags = kTimeWaitLinger | kTimeWaitTimestamps | kTimeWaitSeqsKnown | kTimeWaitEphemeral;
  EXPECT_EQ(check_record(t, 0, std::chrono::seconds(60)), "");
  RequestLogRecord q{};
  q.request_id = 4;
  EXPECT_EQ(check_record(q), "");
  EXPECT_EQ(check_record(good_handshake()), "");
  HandshakeRecord awaiting = good_handshake();
  awaiting.stage = static_cast<uint8_t>(HandshakeStage::kAwaitingAccept);
  awaiting.rto_us = 0;
  EXPECT_EQ(check_record(awaiting), "");
}

TEST(RegistryValidation, RejectsHandshakesThatMakeNoSense) {
  HandshakeRecord r = good_handshake();
  r.stage = 3;
  EXPECT_NE(check_record(r), "");
  r = good_handshake();
  r.listener_id = 0;
  EXPECT_NE(check_record(r), "");
  r = good_handshake();
  r.remote_port = 0;
  EXPECT_NE(check_record(r), "");
  r = good_handshake();
  r.remote_ip = 0;
  EXPECT_NE(check_record(r), "");
  r = good_handshake();
  r.options = 0x20;
  EXPECT_NE(check_record(r), "");
  r = good_handshake();
  r.peer_wscale = 15;
  EXPECT_NE(check_record(r), "");
  r = good_handshake();
  r.rto_us = 0;  // SYN-RECEIVED: its timer would fire in a loop
  EXPECT_NE(check_record(r), "");
}

TEST(RegistryValidation, RejectsConnectionsThatMakeNoSense) {
  ConnRecord r = good_conn();
  r.state = 9;
  EXPECT_NE(check_record(r), "");
  r = good_conn();
  r.role = 0;
  EXPECT_NE(check_record(r), "");
  r = good_conn();
  r.flow_id = 0;
  EXPECT_NE(check_record(r), "");
  r = good_conn();
  r.state = static_cast<uint8_t>(ConnState::kSynSent);  // not installed, but has a flow id
  EXPECT_NE(check_record(r), "");
  r = good_conn();
  r.context_id = 64;
  EXPECT_NE(check_record(r), "");
  r = good_conn();
  r.snd_wscale = 15;
  EXPECT_NE(check_record(r), "");
  r = good_conn();
  r.local_port = 0;
  EXPECT_NE(check_record(r), "");
  r = good_conn();
  r.conn_id = 0;
  EXPECT_NE(check_record(r), "");
}

TEST(RegistryValidation, RejectsBadListenersAcceptsTimeWaitAndLog) {
  ListenerRecord l{};
  l.listener_id = 1;
  l.local_port = 80;
  l.backlog = 1;
  l.reuse_port = 2;
  EXPECT_NE(check_record(l), "");
  l.reuse_port = 1;
  l.backlog = 0;
  EXPECT_NE(check_record(l), "");
  AcceptRecord a{};
  EXPECT_NE(check_record(a), "");
  TimeWaitRecord t{};
  t.local_port = 1;
  t.remote_port = 2;
  t.remote_ip = 3;
  t.expires_ns = 1'000'000'000'000ull;  // far beyond now + 2 * 60 s
  EXPECT_NE(check_record(t, 0, std::chrono::seconds(60)), "");
  t.expires_ns = 0;
  t.flags = 0x80;
  EXPECT_NE(check_record(t, 0, std::chrono::seconds(60)), "");
  RequestLogRecord q{};
  q.request_id = 1;
  q.notify_type = 200;
  EXPECT_NE(check_record(q), "");
}

}  // namespace
}  // namespace vtas::conn
