// The conn actor against garbage: random and truncated frames, frames it must never answer,
// absurd app requests (unknown types, contexts, ids, ports, backlogs, addresses), bogus
// responses from peers. Everything is counted or answered with an error; nothing crashes.
#include <gtest/gtest.h>

#include <cerrno>
#include <random>

#include "components/slowpath/tests/conn_test_support.h"

namespace vtas::conn {
namespace {

using namespace vtas::conn::testing;
using fastpath::AppNotify;
using fastpath::AppRequestIn;

TEST(ConnGarbage, RandomAndTruncatedFramesAreDroppedAndCounted) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 1, 2);
  std::mt19937 rng(1234);
  const std::string valid = peer_frame(PeerSegment{});
  for (int i = 0; i < 3000; ++i) {
    std::string frame;
    switch (i % 3) {
      case 0: {  // random bytes of random length
        frame.resize(rng() % 200);
        for (auto& c : frame) c = static_cast<char>(rng());
        break;
      }
      case 1:  // a valid SYN cut short
        frame = valid.substr(0, rng() % valid.size());
        break;
      case 2: {  // a valid SYN with a flipped byte past the Ethernet header
        frame = valid;
        frame[14 + rng() % (frame.size() - 14)] ^= static_cast<char>(1 + rng() % 255);
        break;
      }
    }
    h.packet(frame, rng(), rng() % 2 == 0 ? 0 : rng());
  }
  const auto& c = h.actor->counters();
  EXPECT_EQ(c.packets_in, 3000u);
  EXPECT_GT(c.frames_malformed + c.frames_not_tcp, 2500u);
  EXPECT_TRUE(h.install_requests().empty());  // nothing garbled got through the checksums
  // Still working afterwards.
  h.handshake(PeerSegment{});
  EXPECT_EQ(h.install_requests().size(), 1u);
}

TEST(ConnGarbage, FramesNeverAnswered) {
  TempDir dir;
  Harness h(dir);
  h.start();
  PeerSegment not_ours;
  not_ours.dst_ip = 0x0a0000fe;
  h.segment(not_ours);
  PeerSegment broadcast;
  broadcast.src_ip = 0xffffffff;
  h.segment(broadcast);
  PeerSegment multicast_dst;
  multicast_dst.dst_ip = 0xe0000001;
  h.segment(multicast_dst);
  PeerSegment zero_port;
  zero_port.src_port = 0;
  h.segment(zero_port);
  // An ARP frame, and a UDP datagram.
  h.packet(std::string("\xff\xff\xff\xff\xff\xff\x02\0\0\0\0\x02\x08\x06", 14) +
           std::string(28, '\0'));
  std::string udp = peer_frame(PeerSegment{});
  udp[14 + 9] = 17;
  h.packet(udp);
  EXPECT_TRUE(h.packet_outs().empty());
  EXPECT_EQ(h.actor->counters().frames_not_for_us, 1u);
  EXPECT_EQ(h.actor->counters().frames_bad_address, 3u);
  EXPECT_EQ(h.actor->counters().rsts_sent, 0u);
}

TEST(ConnGarbage, AbsurdRequestsAreAnsweredWithErrors) {
  TempDir dir;
  Harness h(dir);
  h.start();
  struct Case {
    AppRequestIn request;
    AppNotify::Type type;
    int status;
  };
  std::vector<Case> cases;
  auto add = [&](AppRequestIn r, AppNotify::Type t, int s) { cases.push_back({r, t, s}); };
  AppRequestIn r = h.base_request(AppRequestIn::TYPE_LISTEN_OPEN, 1);
  r.set_local_port(0);
  add(r, AppNotify::TYPE_LISTEN_OPENED, -EINVAL);
  r.set_request_id(2);
  r.set_local_port(70000);
  add(r, AppNotify::TYPE_LISTEN_OPENED, -EINVAL);
  r.set_request_id(3);
  r.set_local_port(80);
  r.set_local_ip(0x0b0b0b0b);  // not our address
  add(r, AppNotify::TYPE_LISTEN_OPENED, -EADDRNOTAVAIL);
  r = h.base_request(AppRequestIn::TYPE_LISTEN_OPEN, 4, /*context=*/1000);
  r.set_local_port(80);
  add(r, AppNotify::TYPE_LISTEN_OPENED, -EINVAL);
  r = h.base_request(AppRequestIn::TYPE_ACCEPT, 5);
  r.set_listener_id(12345);
  add(r, AppNotify::TYPE_ACCEPTED, -EBADF);
  r = h.base_request(AppRequestIn::TYPE_LISTEN_CLOSE, 6);
  r.set_listener_id(0);
  add(r, AppNotify::TYPE_LISTEN_CLOSED, -EBADF);
  r = h.base_request(AppRequestIn::TYPE_CONN_OPEN, 7);
  r.set_remote_ip(0);
  r.set_remote_port(80);
  add(r, AppNotify::TYPE_CONN_OPENED, -EINVAL);
  r.set_request_id(8);
  r.set_remote_ip(0xe0000001);
  add(r, AppNotify::TYPE_CONN_OPENED, -EINVAL);
  r.set_request_id(9);
  r.set_remote_ip(kPeerIp);
  r.set_remote_port(0);
  add(r, AppNotify::TYPE_CONN_OPENED, -EINVAL);
  r.set_request_id(10);
  r.set_remote_port(1u << 20);
  add(r, AppNotify::TYPE_CONN_OPENED, -EINVAL);
  r.set_request_id(11);
  r.set_remote_port(80);
  r.set_remote_ip(kLocalIp);
  add(r, AppNotify::TYPE_CONN_OPENED, -ENETUNREACH);
  r = h.base_request(AppRequestIn::TYPE_CONN_MOVE, 12);
  r.set_flow_id(4444);
  add(r, AppNotify::TYPE_CONN_MOVED, -EBADF);
  r = h.base_request(AppRequestIn::TYPE_REQUEST_SCALE, 13);
  r.set_cores(1000);
  add(r, AppNotify::TYPE_SCALED, -EOPNOTSUPP);

  for (const auto& c : cases) {
    h.clear();
    h.request(c.request);
    auto n = h.notifies();
    ASSERT_EQ(n.size(), 1u) << "request " << c.request.request_id();
    EXPECT_EQ(n[0].type(), c.type) << "request " << c.request.request_id();
    EXPECT_EQ(n[0].status(), c.status) << "request " << c.request.request_id();
    EXPECT_EQ(n[0].request_id(), c.request.request_id());
  }
  EXPECT_EQ(h.actor->listeners().size(), 0u);
  EXPECT_EQ(h.actor->connections().size(), 0u);
  EXPECT_EQ(h.actor->counters().app_requests_rejected, cases.size());
}

TEST(ConnGarbage, UnknownRequestTypeGetsAFailedAckWhenAsked) {
  TempDir dir;
  Harness h(dir);
  h.start();
  AppRequestIn r = h.base_request(static_cast<AppRequestIn::Type>(99), 1);
  h.runner->deliver_request("fastpath", r);
  ASSERT_EQ(h.runner->replies.size(), 1u);
  EXPECT_TRUE(h.runner->replies[0].has_ack());
  EXPECT_FALSE(h.runner->replies[0].ack().ok());
  EXPECT_NE(h.runner->replies[0].ack().error().find("99"), std::string::npos);
  EXPECT_TRUE(h.notifies().empty());
  EXPECT_EQ(h.actor->counters().app_requests_garbage, 1u);
  // A known type sent as a request is acknowledged.
  AppRequestIn listen = h.base_request(AppRequestIn::TYPE_LISTEN_OPEN, 2);
  listen.set_local_port(80);
  h.runner->deliver_request("fastpath", listen);
  ASSERT_EQ(h.runner->replies.size(), 2u);
  EXPECT_TRUE(h.runner->replies[1].ack().ok());
}

TEST(ConnGarbage, OtherAppsCannotUseAListener) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 0x1, 2, 0, /*app=*/9);
  EXPECT_EQ(h.last_notify().status(), -EBADF);
  auto r = h.base_request(AppRequestIn::TYPE_LISTEN_CLOSE, 3, 0, /*app=*/9);
  r.set_listener_id(l);
  h.request(r);
  EXPECT_EQ(h.last_notify().status(), -EBADF);
  EXPECT_EQ(h.actor->listeners().size(), 1u);
  EXPECT_EQ(h.actor->listeners().accepts_posted(), 0u);
}

TEST(ConnGarbage, AcceptsPerListenerAreBounded) {
  TempDir dir;
  ConnConfig c = test_config(dir.path());
  c.max_accepts_per_listener = 3;
  Harness h(c);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  for (uint32_t i = 0; i < 5; ++i) h.accept(l, i, 10 + i);
  EXPECT_EQ(h.actor->listeners().accepts_posted(), 3u);
  EXPECT_EQ(h.last_notify().status(), -ENOBUFS);
}

TEST(ConnGarbage, BogusResponsesFromTheFastPath) {
  TempDir dir;
  Harness h(dir);
  h.start();
  const uint32_t l = h.open_listener(80, 1);
  h.accept(l, 0x1, 2);
  h.handshake(PeerSegment{});
  auto installs = h.install_requests();
  ASSERT_EQ(installs.size(), 1u);
  // A fast path that does not know InstallFlow answers with an error Ack.
  supervisor::Ack ack;
  ack.set_ok(false);
  ack.set_error("actor 'fastpath' does not handle vtas.fastpath.InstallFlow");
  h.runner->respond(installs[0], ack);
  EXPECT_EQ(h.actor->counters().install_failures, 1u);
  EXPECT_EQ(h.actor->listeners().accepts_posted(), 1u);
  // "ok" with flow id 0 is not ok.
  h.handshake(PeerSegment{});
  installs = h.install_requests();
  ASSERT_EQ(installs.size(), 2u);
  fastpath::FlowInstalled zero;
  zero.set_ok(true);
  h.runner->respond(installs[1], zero);
  EXPECT_EQ(h.actor->counters().install_failures, 2u);
  EXPECT_EQ(h.actor->connections().size(), 0u);
}

TEST(ConnGarbage, StatsReportCountersAndTables) {
  TempDir dir;
  Harness h(dir);
  h.start();
  h.open_listener(80, 1);
  h.handshake(PeerSegment{});  // completed, waiting for an accept
  supervisor::StatsReport report;
  h.actor->fill_stats(&report);
  bool found_listeners = false;
  bool found_syns = false;
  for (const auto& c : report.counters()) {
    if (c.name() == "listeners") found_listeners = c.value() == 1;
    if (c.name() == "syns_queued") found_syns = c.value() == 1;
  }
  EXPECT_TRUE(found_listeners);
  EXPECT_TRUE(found_syns);
  ASSERT_EQ(report.tables_size(), 3);
  EXPECT_EQ(report.tables(0).name(), "connections_by_state");
  EXPECT_EQ(report.tables(1).name(), "connections (first 16)");
  EXPECT_EQ(report.tables(1).rows_size(), static_cast<int>(h.actor->connections().size()));
  EXPECT_EQ(report.tables(2).name(), "listeners");
  ASSERT_EQ(report.tables(2).rows_size(), 1);
  EXPECT_EQ(report.tables(2).rows(0).cells(3), "0.0.0.0:80");
  EXPECT_EQ(report.tables(2).rows(0).cells(6), "1");  // one SYN waiting
}

TEST(ConnGarbage, StartFailsWithAClearMessage) {
  ConnConfig c;
  c.registry_path = "/nonexistent-dir-for-vtas-tests/conn.registry";
  ConnActor actor("conn", c);
  vtas::testing::TestRunner runner(actor);
  Status s = runner.start();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("/nonexistent-dir-for-vtas-tests"), std::string::npos);

  ConnActor broken("conn", ConnConfig{}, "conn: network.ip_addr: bad");
  vtas::testing::TestRunner runner2(broken);
  Status s2 = runner2.start();
  ASSERT_FALSE(s2);
  EXPECT_EQ(s2.error().message, "conn: network.ip_addr: bad");
}

TEST(ConnGarbage, RegisteredAsConn) {
  ActorRegistry registry;
  register_actors(registry);
  EXPECT_TRUE(registry.has("conn"));
  manifest::Manifest m;
  m.set_runtime_dir("/tmp");
  auto* a = m.add_actor();
  a->set_name("conn");
  a->set_kind("conn");
  auto actor = registry.create(ActorSpec{m, *a});
  ASSERT_NE(actor, nullptr);
  EXPECT_EQ(actor->name(), "conn");
}

}  // namespace
}  // namespace vtas::conn
