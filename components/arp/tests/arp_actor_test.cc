#include "components/arp/arp_actor.h"

#include <gtest/gtest.h>

#include <map>

#include "components/wire/frame.h"
#include "tests/support/test_runner.h"

namespace vtas::arp {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;
using vtas::testing::TestRunner;

const wire::MacAddr kOurMac{{0x02, 0, 0, 0, 0, 0x01}};
const wire::MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x0a}};
const wire::MacAddr kGatewayMac{{0x02, 0, 0, 0, 0, 0xfe}};
const wire::MacAddr kOtherMac{{0x02, 0, 0, 0, 0, 0x77}};
const wire::Ipv4Addr kOurIp = wire::Ipv4Addr::from_octets(10, 0, 0, 1);
const wire::Ipv4Addr kPeerIp = wire::Ipv4Addr::from_octets(10, 0, 0, 7);
const wire::Ipv4Addr kGatewayIp = wire::Ipv4Addr::from_octets(10, 0, 0, 254);

// 10.0.0.1/24, 10.9.0.0/16 via 10.0.0.254; requests wait 500, 1000, 2000, 4000 us.
ArpConfig test_config(bool with_mac = true) {
  ArpConfig c;
  c.local = Ipv4Prefix{kOurIp.value, 24};
  c.routes.push_back(StaticRoute{Ipv4Prefix{wire::Ipv4Addr::from_octets(10, 9, 0, 0).value, 16},
                                 kGatewayIp.value});
  c.request_timeout_us = 500;
  c.request_timeout_max_us = 4000;
  if (with_mac) c.local_mac = kOurMac;
  return c;
}

std::string bytes(const uint8_t* p, size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}

std::string request_frame(wire::Ipv4Addr target) {
  uint8_t f[64];
  return bytes(f, wire::build_arp_request(f, sizeof(f), kOurMac, kOurIp, target));
}

std::string gratuitous_frame() {
  uint8_t f[64];
  return bytes(f, wire::build_gratuitous_arp(f, sizeof(f), kOurMac, kOurIp));
}

// An ARP packet from `sender` in an Ethernet frame to `eth_dst`.
std::string arp_frame(wire::ArpOp op, wire::MacAddr smac, wire::Ipv4Addr sip, wire::MacAddr tmac,
                      wire::Ipv4Addr tip, wire::MacAddr eth_dst) {
  uint8_t f[64];
  return bytes(
      f, wire::build_arp(f, sizeof(f), smac, eth_dst, wire::ArpPacket{op, smac, sip, tmac, tip}));
}

std::string reply_to_us(wire::MacAddr smac, wire::Ipv4Addr sip) {
  return arp_frame(wire::ArpOp::kReply, smac, sip, kOurMac, kOurIp, kOurMac);
}

std::string request_for(wire::Ipv4Addr target, wire::MacAddr smac, wire::Ipv4Addr sip) {
  return arp_frame(wire::ArpOp::kRequest, smac, sip, wire::MacAddr{}, target,
                   wire::MacAddr::broadcast());
}

fastpath::PacketIn packet_in(const std::string& frame) {
  fastpath::PacketIn m;
  m.set_frame(frame);
  return m;
}

ResolveRequest resolve(wire::Ipv4Addr ip) {
  ResolveRequest m;
  m.set_ip(ip.value);
  return m;
}

std::vector<std::string> frames_out(const TestRunner& r) {
  std::vector<std::string> out;
  for (const auto& p : r.sent_of<fastpath::PacketOut>("fastpath")) out.push_back(p.frame());
  return out;
}

// The ResolveResponse answering request `correlation`, or nullptr.
const ResolveResponse* response_to(const TestRunner& r, uint64_t correlation) {
  for (const auto& e : r.replies) {
    if (e.header().correlation_id() == correlation && e.has_resolve_response()) {
      return &e.resolve_response();
    }
  }
  return nullptr;
}

std::string mac_bytes(const wire::MacAddr& mac) {
  return bytes(mac.bytes.data(), 6);
}

struct Started {
  explicit Started(ArpConfig config = test_config())
      : actor("arp", std::move(config)), runner(actor) {
    EXPECT_TRUE(runner.start());
  }
  ArpActor actor;
  TestRunner runner;
};

// ---- announcements and replies ------------------------------------------------------------------

TEST(ArpActor, AnnouncesItselfWhenItStarts) {
  Started s;
  EXPECT_EQ(frames_out(s.runner), std::vector<std::string>{gratuitous_frame()});
}

TEST(ArpActor, AnswersRequestsForOurAddressAndLearnsTheAsker) {
  Started s;
  s.runner.sent.clear();
  s.runner.deliver_event("fastpath", packet_in(request_for(kOurIp, kPeerMac, kPeerIp)));
  uint8_t expected[64];
  const wire::ArpPacket asked{wire::ArpOp::kRequest, kPeerMac, kPeerIp, wire::MacAddr{}, kOurIp};
  const size_t n = wire::build_arp_reply(expected, sizeof(expected), kOurMac, asked);
  EXPECT_EQ(frames_out(s.runner), std::vector<std::string>{bytes(expected, n)});
  EXPECT_EQ(s.actor.counters().requests_answered, 1u);
  // The asker is in the cache (stale: unconfirmed), so resolving it costs no ARP round trip.
  s.runner.sent.clear();
  uint64_t id = s.runner.deliver_request("conn", resolve(kPeerIp));
  const ResolveResponse* r = response_to(s.runner, id);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->mac(), mac_bytes(kPeerMac));
}

TEST(ArpActor, AnswersProbesWithoutLearningTheirZeroSender) {
  Started s;
  s.runner.sent.clear();
  s.runner.deliver_event("fastpath", packet_in(request_for(kOurIp, kPeerMac, wire::Ipv4Addr{0})));
  ASSERT_EQ(frames_out(s.runner).size(), 1u);
  EXPECT_EQ(s.actor.cache().size(), 0u);
}

TEST(ArpActor, IgnoresFramesForOtherHosts) {
  Started s;
  s.runner.sent.clear();
  // Who has 10.0.0.9? (not us): no reply, nothing learned.
  s.runner.deliver_event("fastpath", packet_in(request_for(wire::Ipv4Addr::from_octets(10, 0, 0, 9),
                                                           kPeerMac, kPeerIp)));
  // A reply unicast to another host's MAC.
  s.runner.deliver_event("fastpath", packet_in(arp_frame(wire::ArpOp::kReply, kPeerMac, kPeerIp,
                                                         kOtherMac, kOurIp, kOtherMac)));
  EXPECT_TRUE(frames_out(s.runner).empty());
  EXPECT_EQ(s.actor.cache().size(), 0u);
  EXPECT_EQ(s.actor.counters().frames_not_for_us, 2u);
}

TEST(ArpActor, UnsolicitedRepliesAreNotLearned) {
  Started s;
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kPeerMac, kPeerIp)));
  EXPECT_EQ(s.actor.cache().size(), 0u);
}

TEST(ArpActor, MergesNewsAboutKnownHostsFromAnyFrame) {
  Started s;
  s.runner.deliver_request("conn", resolve(kPeerIp));
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kPeerMac, kPeerIp)));
  // The peer's NIC was replaced: its gratuitous ARP (not addressed to us) updates the entry.
  s.runner.deliver_event("fastpath", packet_in(request_for(kPeerIp, kOtherMac, kPeerIp)));
  uint64_t id = s.runner.deliver_request("conn", resolve(kPeerIp));
  EXPECT_EQ(response_to(s.runner, id)->mac(), mac_bytes(kOtherMac));
}

TEST(ArpActor, DefendsItsAddressAtMostOncePer10Seconds) {
  Started s;
  s.runner.sent.clear();
  const std::string claim = request_for(kOurIp, kOtherMac, kOurIp);  // someone announces our IP
  s.runner.deliver_event("fastpath", packet_in(claim));
  s.runner.deliver_event("fastpath", packet_in(claim));
  EXPECT_EQ(frames_out(s.runner), std::vector<std::string>{gratuitous_frame()});
  s.runner.advance(seconds(10));
  s.runner.deliver_event("fastpath", packet_in(claim));
  EXPECT_EQ(frames_out(s.runner).size(), 2u);
  EXPECT_EQ(s.actor.counters().address_conflicts, 3u);
  // Our own announcement coming back is not a conflict.
  s.runner.deliver_event("fastpath", packet_in(gratuitous_frame()));
  EXPECT_EQ(s.actor.counters().address_conflicts, 3u);
}

// ---- resolution ---------------------------------------------------------------------------------

TEST(ArpActor, ResolvesByBroadcastAndAnswersFromTheCacheAfterwards) {
  Started s;
  s.runner.sent.clear();
  uint64_t id = s.runner.deliver_request("conn", resolve(kPeerIp));
  EXPECT_EQ(frames_out(s.runner), std::vector<std::string>{request_frame(kPeerIp)});
  EXPECT_EQ(response_to(s.runner, id), nullptr);
  s.runner.advance(microseconds(100));
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kPeerMac, kPeerIp)));
  const ResolveResponse* r = response_to(s.runner, id);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->ip(), kPeerIp.value);
  EXPECT_EQ(r->next_hop(), kPeerIp.value);
  EXPECT_EQ(r->mac(), mac_bytes(kPeerMac));
  EXPECT_EQ(s.runner.replies.back().header().receiver(), "conn");

  s.runner.advance(seconds(1));  // no retry after the answer
  EXPECT_EQ(frames_out(s.runner).size(), 1u);
  uint64_t again = s.runner.deliver_request("conn", resolve(kPeerIp));
  ASSERT_NE(response_to(s.runner, again), nullptr);
  EXPECT_TRUE(response_to(s.runner, again)->ok());
  EXPECT_EQ(frames_out(s.runner).size(), 1u);
  EXPECT_EQ(s.actor.counters().answered_from_cache, 1u);
}

TEST(ArpActor, RetriesDoublingUpToTheMaxThenFails) {
  Started s;  // waits 500, 1000, 2000, 4000 us (8000 would exceed the 4000 us max)
  s.runner.sent.clear();
  uint64_t id = s.runner.deliver_request("conn", resolve(kPeerIp));
  auto requests = [&] { return frames_out(s.runner).size(); };
  EXPECT_EQ(requests(), 1u);  // t = 0
  s.runner.advance(microseconds(499));
  EXPECT_EQ(requests(), 1u);
  s.runner.advance(microseconds(1));  // t = 500
  EXPECT_EQ(requests(), 2u);
  s.runner.advance(microseconds(999));
  EXPECT_EQ(requests(), 2u);
  s.runner.advance(microseconds(1));  // t = 1500
  EXPECT_EQ(requests(), 3u);
  s.runner.advance(microseconds(2000));  // t = 3500
  EXPECT_EQ(requests(), 4u);
  for (const auto& f : frames_out(s.runner)) EXPECT_EQ(f, request_frame(kPeerIp));
  s.runner.advance(microseconds(3999));
  EXPECT_EQ(response_to(s.runner, id), nullptr);
  s.runner.advance(microseconds(1));  // t = 7500: the last wait is over
  EXPECT_EQ(requests(), 4u);
  const ResolveResponse* r = response_to(s.runner, id);
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->error(), "no ARP reply from 10.0.0.7 after 4 requests over 7500 us");
  EXPECT_EQ(s.actor.counters().resolutions_failed, 1u);
  EXPECT_EQ(s.actor.cache().size(), 0u);  // the incomplete entry is gone
  // A later request starts over.
  s.runner.deliver_request("conn", resolve(kPeerIp));
  EXPECT_EQ(requests(), 5u);
}

TEST(ArpActor, TasDefaultScheduleIs15RequestsOver16Seconds) {
  auto waits = retry_schedule_us(500, 10000000);
  ASSERT_EQ(waits.size(), 15u);
  EXPECT_EQ(waits.front(), 500u);
  EXPECT_EQ(waits.back(), 8192000u);
  EXPECT_EQ(resolution_budget_us(500, 10000000), 16383500u);
  EXPECT_EQ(retry_schedule_us(5000, 1000), std::vector<uint64_t>{5000});
}

TEST(ArpActor, ConcurrentRequestsShareOneResolutionAndEachGetsAnAnswer) {
  Started s;
  s.runner.sent.clear();
  const auto far1 = wire::Ipv4Addr::from_octets(10, 9, 1, 1);
  const auto far2 = wire::Ipv4Addr::from_octets(10, 9, 2, 2);
  uint64_t a = s.runner.deliver_request("conn", resolve(far1));
  uint64_t b = s.runner.deliver_request("conn", resolve(far2));
  uint64_t c = s.runner.deliver_request("other", resolve(far1));
  s.runner.advance(microseconds(500));  // one retry for all three
  EXPECT_EQ(frames_out(s.runner),
            (std::vector<std::string>{request_frame(kGatewayIp), request_frame(kGatewayIp)}));
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kGatewayMac, kGatewayIp)));
  for (auto [id, ip, who] :
       {std::tuple{a, far1, "conn"}, std::tuple{b, far2, "conn"}, std::tuple{c, far1, "other"}}) {
    const ResolveResponse* r = response_to(s.runner, id);
    ASSERT_NE(r, nullptr) << id;
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(r->ip(), ip.value);
    EXPECT_EQ(r->next_hop(), kGatewayIp.value);
    EXPECT_EQ(r->mac(), mac_bytes(kGatewayMac));
  }
  EXPECT_EQ(s.runner.replies.size(), 3u);
  EXPECT_EQ(s.runner.replies[2].header().receiver(), "other");
  EXPECT_EQ(s.actor.counters().resolutions_started, 1u);
}

TEST(ArpActor, RoutesByLongestPrefixAndSaysWhenThereIsNone) {
  ArpConfig c = test_config();
  c.routes.push_back(
      StaticRoute{Ipv4Prefix{0, 0}, wire::Ipv4Addr::from_octets(10, 0, 0, 253).value});
  c.routes.push_back(StaticRoute{Ipv4Prefix{wire::Ipv4Addr::from_octets(10, 9, 9, 0).value, 24},
                                 wire::Ipv4Addr::from_octets(10, 0, 0, 252).value});
  Started s(c);
  s.runner.sent.clear();
  s.runner.deliver_request("conn", resolve(wire::Ipv4Addr::from_octets(10, 9, 9, 9)));
  s.runner.deliver_request("conn", resolve(wire::Ipv4Addr::from_octets(10, 9, 8, 8)));
  s.runner.deliver_request("conn", resolve(wire::Ipv4Addr::from_octets(8, 8, 8, 8)));
  EXPECT_EQ(frames_out(s.runner),
            (std::vector<std::string>{request_frame(wire::Ipv4Addr::from_octets(10, 0, 0, 252)),
                                      request_frame(kGatewayIp),
                                      request_frame(wire::Ipv4Addr::from_octets(10, 0, 0, 253))}));

  Started plain;  // no default route
  uint64_t id =
      plain.runner.deliver_request("conn", resolve(wire::Ipv4Addr::from_octets(10, 1, 2, 3)));
  const ResolveResponse* r = response_to(plain.runner, id);
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->error(), "no route to 10.1.2.3");
  EXPECT_EQ(plain.actor.counters().no_route, 1u);
}

TEST(ArpActor, OneWayResolveRequestsWarmTheCacheWithoutAnAnswer) {
  Started s;
  s.runner.deliver_event("conn", resolve(kPeerIp));
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kPeerMac, kPeerIp)));
  EXPECT_TRUE(s.runner.replies.empty());
  EXPECT_EQ(s.actor.counters().resolutions_ok, 1u);
}

TEST(ArpActor, RefusesMoreResolutionsThanItsLimit) {
  ArpConfig c = test_config();
  c.max_resolutions = 1;
  c.max_waiters = 1;
  Started s(c);
  s.runner.deliver_request("conn", resolve(kPeerIp));
  uint64_t same = s.runner.deliver_request("conn", resolve(kPeerIp));
  uint64_t other =
      s.runner.deliver_request("conn", resolve(wire::Ipv4Addr::from_octets(10, 0, 0, 8)));
  ASSERT_NE(response_to(s.runner, same), nullptr);
  EXPECT_NE(response_to(s.runner, same)->error().find("already wait"), std::string::npos);
  ASSERT_NE(response_to(s.runner, other), nullptr);
  EXPECT_NE(response_to(s.runner, other)->error().find("try 10.0.0.8 again later"),
            std::string::npos);
  EXPECT_EQ(s.actor.counters().refused_busy, 2u);
}

// ---- the cache over time ------------------------------------------------------------------------

TEST(ArpActor, StaleEntriesAreUsedAndReconfirmedByUnicastThenExpire) {
  Started s;
  s.runner.deliver_request("conn", resolve(kPeerIp));
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kPeerMac, kPeerIp)));  // reachable
  s.runner.sent.clear();
  s.runner.advance(seconds(30));  // stale now
  uint64_t id = s.runner.deliver_request("conn", resolve(kPeerIp));
  ASSERT_TRUE(response_to(s.runner, id)->ok());  // answered at once all the same
  // ...and one unicast request to the MAC we have re-confirms it (Linux's PROBE).
  const std::string probe =
      arp_frame(wire::ArpOp::kRequest, kOurMac, kOurIp, wire::MacAddr{}, kPeerIp, kPeerMac);
  EXPECT_EQ(frames_out(s.runner), std::vector<std::string>{probe});
  s.runner.deliver_request("conn", resolve(kPeerIp));
  EXPECT_EQ(frames_out(s.runner).size(), 1u);  // once per stale period

  // No answer: 60 s after going stale the entry is gone (TAS kept it forever) and the next
  // request resolves from scratch.
  s.runner.advance(seconds(60));
  EXPECT_EQ(s.actor.cache().size(), 0u);
  s.runner.deliver_request("conn", resolve(kPeerIp));
  EXPECT_EQ(frames_out(s.runner).back(), request_frame(kPeerIp));
}

TEST(ArpActor, AReplyToTheReconfirmationMakesItReachableAgain) {
  Started s;
  s.runner.deliver_request("conn", resolve(kPeerIp));
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kPeerMac, kPeerIp)));
  s.runner.advance(seconds(30));
  s.runner.deliver_request("conn", resolve(kPeerIp));
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kPeerMac, kPeerIp)));
  s.runner.advance(seconds(80));  // 80 s after the confirmation: stale, not yet expired
  EXPECT_EQ(s.actor.cache().size(), 1u);
  s.runner.advance(seconds(10));
  EXPECT_EQ(s.actor.cache().size(), 0u);
}

// ---- bad input ----------------------------------------------------------------------------------

TEST(ArpActor, MalformedFramesAreCountedAndDropped) {
  Started s;
  s.runner.sent.clear();
  std::string good = request_for(kOurIp, kPeerMac, kPeerIp);
  std::string truncated = good.substr(0, 30);
  std::string bad_hardware = good;
  bad_hardware[15] = 6;  // hardware type 6 (IEEE 802)
  std::string bad_op = good;
  bad_op[21] = 9;
  for (const auto& f : {truncated, bad_hardware, bad_op, std::string(), std::string(5, '\xff')}) {
    s.runner.deliver_event("fastpath", packet_in(f));
  }
  EXPECT_EQ(s.actor.counters().frames_malformed, 5u);
  EXPECT_TRUE(frames_out(s.runner).empty());
  EXPECT_EQ(s.actor.cache().size(), 0u);

  // An IPv4 frame that reached arp by mistake.
  std::string ipv4(60, '\0');
  ipv4[12] = 0x08;
  ipv4[13] = 0x00;
  ipv4[14] = 0x45;
  s.runner.deliver_event("fastpath", packet_in(ipv4));
  EXPECT_EQ(s.actor.counters().frames_malformed + s.actor.counters().frames_not_arp, 6u);

  // Senders that must never be learned: multicast MAC, broadcast IP.
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(wire::MacAddr::broadcast(), kPeerIp)));
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kPeerMac, wire::Ipv4Addr{0xffffffffu})));
  EXPECT_EQ(s.actor.cache().size(), 0u);
}

TEST(ArpActor, BadSetLocalMacIsIgnored) {
  Started s(test_config(false));
  SetLocalMac m;
  m.set_mac(std::string("\x01\x00\x5e\x00\x00\x01", 6));  // multicast
  s.runner.deliver_event("fastpath", m);
  m.set_mac("abc");
  s.runner.deliver_event("fastpath", m);
  EXPECT_TRUE(frames_out(s.runner).empty());
}

// ---- our MAC and restarts -----------------------------------------------------------------------

TEST(ArpActor, WaitsForTheFastPathsMacThenAnnouncesAndResolves) {
  Started s(test_config(false));
  EXPECT_TRUE(frames_out(s.runner).empty());  // nothing to announce yet
  uint64_t id = s.runner.deliver_request("conn", resolve(kPeerIp));
  s.runner.deliver_event("fastpath", packet_in(request_for(kOurIp, kPeerMac, kPeerIp)));
  EXPECT_TRUE(frames_out(s.runner).empty());  // cannot reply without our MAC
  EXPECT_EQ(s.actor.counters().replies_unsent_no_mac, 1u);
  // ...but the request taught us the peer: the resolution is complete.
  ASSERT_NE(response_to(s.runner, id), nullptr);
  EXPECT_TRUE(response_to(s.runner, id)->ok());

  uint64_t gw = s.runner.deliver_request("conn", resolve(wire::Ipv4Addr::from_octets(10, 9, 0, 1)));
  s.runner.advance(microseconds(700));
  SetLocalMac m;
  m.set_mac(mac_bytes(kOurMac));
  s.runner.deliver_event("fastpath", m);
  EXPECT_EQ(frames_out(s.runner),
            (std::vector<std::string>{gratuitous_frame(), request_frame(kGatewayIp)}));
  s.runner.deliver_event("fastpath", m);  // the same again: nothing new
  EXPECT_EQ(frames_out(s.runner).size(), 2u);
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kGatewayMac, kGatewayIp)));
  ASSERT_NE(response_to(s.runner, gw), nullptr);
  EXPECT_TRUE(response_to(s.runner, gw)->ok());
}

TEST(ArpActor, WithoutAMacTheFailureSaysSo) {
  Started s(test_config(false));
  uint64_t id = s.runner.deliver_request("conn", resolve(kPeerIp));
  s.runner.advance(microseconds(7500));
  ASSERT_NE(response_to(s.runner, id), nullptr);
  EXPECT_NE(response_to(s.runner, id)->error().find("our MAC address is still unknown"),
            std::string::npos);
}

TEST(ArpActor, ANewIncarnationRelearnsAndAnnouncesAgain) {
  {
    Started first;
    first.runner.deliver_event("fastpath", packet_in(reply_to_us(kPeerMac, kPeerIp)));
  }
  ArpActor second("arp", test_config(false));
  TestRunner r(second, 2);
  ASSERT_TRUE(r.start());
  EXPECT_EQ(second.cache().size(), 0u);
  SetLocalMac m;  // what the fast path sends on ActorEvent{arp STARTED}
  m.set_mac(mac_bytes(kOurMac));
  r.deliver_event("fastpath", m);
  EXPECT_EQ(frames_out(r), std::vector<std::string>{gratuitous_frame()});
}

// ---- configuration and stats --------------------------------------------------------------------

TEST(ArpActor, ConfigComesFromTheManifest) {
  manifest::Manifest m;
  m.mutable_network()->set_ip_addr("10.0.0.1/24");
  auto* route = m.mutable_network()->add_route();
  route->set_destination("10.9.0.0/16");
  route->set_next_hop("10.0.0.254");
  m.mutable_tas()->set_arp_timeout(700);
  auto* fp = m.add_actor();
  fp->set_name("fp0");
  fp->set_kind("fastpath");
  auto c = config_from_manifest(m);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->local.address, kOurIp.value);
  EXPECT_EQ(c->local.length, 24);
  ASSERT_EQ(c->routes.size(), 1u);
  EXPECT_EQ(c->routes[0].next_hop, kGatewayIp.value);
  EXPECT_EQ(c->request_timeout_us, 700u);
  EXPECT_EQ(c->request_timeout_max_us, 10000000u);
  EXPECT_EQ(c->fastpath, "fp0");

  manifest::Manifest missing;
  ArpActor actor("arp", config_from_manifest(missing));
  TestRunner r(actor);
  Status s = r.start();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("network.ip_addr"), std::string::npos);

  route->set_next_hop("10.0.0.1");  // our own address
  ArpActor bad_route("arp", config_from_manifest(m));
  TestRunner r2(bad_route);
  Status s2 = r2.start();
  ASSERT_FALSE(s2);
  EXPECT_NE(s2.error().message.find("our own address"), std::string::npos);
}

TEST(ArpActor, StatsShowCountersAndTheCache) {
  Started s;
  s.runner.deliver_request("conn", resolve(kPeerIp));
  s.runner.deliver_event("fastpath", packet_in(reply_to_us(kPeerMac, kPeerIp)));
  s.runner.deliver_request("conn", resolve(wire::Ipv4Addr::from_octets(10, 0, 0, 8)));
  s.runner.advance(seconds(1));
  supervisor::StatsReport report;
  s.actor.fill_stats(&report);
  std::map<std::string, uint64_t> c;
  for (const auto& counter : report.counters()) c[counter.name()] = counter.value();
  EXPECT_EQ(c["cache_entries"], 1u);
  EXPECT_EQ(c["cache_reachable"], 1u);
  EXPECT_EQ(c["resolutions"], 2u);
  EXPECT_EQ(c["resolutions_ok"], 1u);
  EXPECT_EQ(c["resolution_failures"], 1u);
  EXPECT_EQ(c["resolve_requests"], 2u);
  ASSERT_EQ(report.tables_size(), 2);
  const auto& cache = report.tables(0);
  EXPECT_EQ(cache.name(), "arp_cache");
  ASSERT_EQ(cache.rows_size(), 1);
  EXPECT_EQ(cache.rows(0).cells(0), "10.0.0.7");
  EXPECT_EQ(cache.rows(0).cells(1), "02:00:00:00:00:0a");
  EXPECT_EQ(cache.rows(0).cells(2), "reachable");
  EXPECT_EQ(cache.rows(0).cells(3), "89000");
  const auto& routes = report.tables(1);
  ASSERT_EQ(routes.rows_size(), 2);
  EXPECT_EQ(routes.rows(0).cells(0), "10.0.0.0/24");
  EXPECT_EQ(routes.rows(1).cells(1), "10.0.0.254");
}

}  // namespace
}  // namespace vtas::arp
