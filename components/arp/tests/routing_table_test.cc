#include "components/arp/routing_table.h"

#include <gtest/gtest.h>

namespace vtas::arp {
namespace {

uint32_t ip(const char* text) {
  return *parse_ipv4_address(text);
}

Ipv4Prefix prefix(const char* text) {
  return *parse_ipv4_prefix(text, 32);
}

StaticRoute route(const char* destination, const char* via) {
  return StaticRoute{prefix(destination), ip(via)};
}

RoutingTable table(const char* local, std::vector<StaticRoute> routes) {
  auto t = RoutingTable::create(prefix(local), std::move(routes));
  EXPECT_TRUE(t) << t.error().message;
  return std::move(*t);
}

std::string hop_of(const RoutingTable& t, const char* destination) {
  auto hop = t.next_hop(ip(destination));
  return hop ? format_ipv4_address(*hop) : "error: " + hop.error().message;
}

TEST(RoutingTable, LocalSubnetIsDirect) {
  auto t = table("10.0.0.1/24", {});
  EXPECT_EQ(hop_of(t, "10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(hop_of(t, "10.0.1.7"), "error: no route to 10.0.1.7");
}

TEST(RoutingTable, LongestPrefixWinsWhateverTheOrder) {
  // TAS took the first match: the /8 listed first would have hidden the /24.
  auto t2 = table("10.0.0.1/24",
                  {route("0.0.0.0/0", "10.0.0.252"), route("172.16.0.0/12", "10.0.0.254"),
                   route("172.16.5.0/24", "10.0.0.253"), route("172.16.5.9/32", "10.0.0.251")});
  EXPECT_EQ(hop_of(t2, "172.16.5.1"), "10.0.0.253");
  EXPECT_EQ(hop_of(t2, "172.16.6.1"), "10.0.0.254");
  EXPECT_EQ(hop_of(t2, "172.16.5.9"), "10.0.0.251");
  EXPECT_EQ(hop_of(t2, "8.8.8.8"), "10.0.0.252");
  EXPECT_EQ(hop_of(t2, "10.0.0.9"), "10.0.0.9");  // /24 local beats the default route
}

TEST(RoutingTable, NextHopOwnAddressIsRefused) {
  auto t = RoutingTable::create(prefix("10.0.0.1/24"), {route("0.0.0.0/0", "10.0.0.1")});
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("our own address"), std::string::npos);
}

TEST(RoutingTable, AMoreSpecificRouteBeatsTheLocalSubnet) {
  auto t = table("10.0.0.1/16", {route("10.0.7.0/24", "10.0.0.254")});
  EXPECT_EQ(hop_of(t, "10.0.7.3"), "10.0.0.254");
  EXPECT_EQ(hop_of(t, "10.0.8.3"), "10.0.8.3");
}

TEST(RoutingTable, TheLocalSubnetWinsATie) {
  auto t = table("10.0.0.1/24", {route("10.0.0.0/24", "10.0.0.254")});
  EXPECT_EQ(hop_of(t, "10.0.0.3"), "10.0.0.3");
}

TEST(RoutingTable, PrefixZeroPutsEverythingOnTheLink) {
  auto t = table("10.0.0.1/0", {route("192.168.0.0/16", "10.0.0.254")});
  EXPECT_EQ(hop_of(t, "8.8.8.8"), "8.8.8.8");
  EXPECT_EQ(hop_of(t, "192.168.1.1"), "10.0.0.254");
}

TEST(RoutingTable, GatewaysAreFollowedIteratively) {
  auto t =
      table("10.0.0.1/24", {route("10.9.0.0/16", "10.8.0.1"), route("10.8.0.0/16", "10.0.0.254")});
  EXPECT_EQ(hop_of(t, "10.9.1.1"), "10.0.0.254");
}

TEST(RoutingTable, ARoutingLoopIsAnErrorNotAHang) {
  auto t =
      table("10.0.0.1/24", {route("10.8.0.0/16", "10.9.0.1"), route("10.9.0.0/16", "10.8.0.1")});
  const std::string result = hop_of(t, "10.8.3.3");
  EXPECT_NE(result.find("routing loop resolving 10.8.3.3"), std::string::npos) << result;
  EXPECT_NE(result.find("10.9.0.1 -> 10.8.0.1"), std::string::npos) << result;
}

TEST(RoutingTable, AnUnreachableGatewayIsNamed) {
  auto t = table("10.0.0.1/24", {route("10.9.0.0/16", "10.8.0.1")});
  EXPECT_EQ(hop_of(t, "10.9.1.1"), "error: no route to 10.8.0.1, the gateway for 10.9.1.1");
}

TEST(RoutingTable, AddressesThatCannotBeResolved) {
  auto t = table("10.0.0.1/24", {});
  EXPECT_EQ(hop_of(t, "10.0.0.1"), "error: 10.0.0.1 is our own address");
  EXPECT_NE(hop_of(t, "10.0.0.255").find("broadcast address of the local subnet 10.0.0.0/24"),
            std::string::npos);
  EXPECT_NE(hop_of(t, "224.0.0.1").find("cannot resolve 224.0.0.1"), std::string::npos);
  EXPECT_NE(hop_of(t, "0.0.0.0").find("cannot resolve 0.0.0.0"), std::string::npos);
  // A /31 has no broadcast address (RFC 3021).
  auto p2p = table("10.0.0.0/31", {});
  EXPECT_EQ(hop_of(p2p, "10.0.0.1"), "10.0.0.1");
}

TEST(RoutingTable, BadRoutesAreRefusedWithTheReason) {
  auto twice = RoutingTable::create(
      prefix("10.0.0.1/24"), {route("10.9.0.0/16", "10.0.0.2"), route("10.9.1.1/16", "10.0.0.3")});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("10.9.0.0/16 is given twice"), std::string::npos)
      << twice.error().message;
  auto multicast = RoutingTable::create(prefix("10.0.0.1/24"), {route("10.9.0.0/16", "224.0.0.5")});
  ASSERT_FALSE(multicast);
  EXPECT_NE(multicast.error().message.find("next hop is not usable"), std::string::npos);
}

}  // namespace
}  // namespace vtas::arp
