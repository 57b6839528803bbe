#include "components/wire/address.h"

#include <gtest/gtest.h>

namespace vtas::wire {
namespace {

TEST(MacAddr, FormatsLowerCaseHexWithColons) {
  const MacAddr mac{{0x02, 0x00, 0xab, 0xcd, 0xef, 0x01}};
  EXPECT_EQ(to_string(mac), "02:00:ab:cd:ef:01");
  EXPECT_EQ(to_string(MacAddr::broadcast()), "ff:ff:ff:ff:ff:ff");
}

TEST(MacAddr, ParsesEitherCaseAndRoundTrips) {
  auto mac = parse_mac("02:00:AB:cd:Ef:01");
  ASSERT_TRUE(mac.ok()) << mac.error().message;
  EXPECT_EQ(*mac, (MacAddr{{0x02, 0x00, 0xab, 0xcd, 0xef, 0x01}}));
  EXPECT_EQ(to_string(*parse_mac(to_string(*mac))), "02:00:ab:cd:ef:01");
}

TEST(MacAddr, RejectsMalformedTextWithTheOffendingValue) {
  for (const char* bad :
       {"", "02:00:00:00:00", "02:00:00:00:00:0g", "02-00-00-00-00-01", "02:00:00:00:00:001",
        "2:00:00:00:00:01:", " 02:00:00:00:00:01", "02:00:00:00:00:01 ", "0200.0000.0001"}) {
    auto mac = parse_mac(bad);
    ASSERT_FALSE(mac.ok()) << bad;
    EXPECT_NE(mac.error().message.find(std::string("'") + bad + "'"), std::string::npos)
        << mac.error().message;
  }
}

TEST(MacAddr, ClassifiesBroadcastMulticastAndZero) {
  EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddr::broadcast().is_multicast());
  EXPECT_TRUE((MacAddr{{0x01, 0x00, 0x5e, 0, 0, 1}}).is_multicast());
  EXPECT_FALSE((MacAddr{{0x02, 0, 0, 0, 0, 1}}).is_multicast());
  EXPECT_TRUE(MacAddr{}.is_zero());
  EXPECT_FALSE((MacAddr{{0x02, 0, 0, 0, 0, 1}}).is_zero());
}

TEST(Ipv4Addr, FormatsDottedQuad) {
  EXPECT_EQ(to_string(Ipv4Addr::from_octets(10, 0, 0, 1)), "10.0.0.1");
  EXPECT_EQ(to_string(Ipv4Addr{0xffffffffu}), "255.255.255.255");
  EXPECT_EQ(to_string(Ipv4Addr{}), "0.0.0.0");
}

TEST(Ipv4Addr, ParsesDottedQuadInHostOrder) {
  auto ip = parse_ipv4("10.0.0.1");
  ASSERT_TRUE(ip.ok()) << ip.error().message;
  EXPECT_EQ(ip->value, 0x0a000001u);
  EXPECT_EQ(parse_ipv4("255.255.255.255")->value, 0xffffffffu);
  EXPECT_EQ(parse_ipv4("0.0.0.0")->value, 0u);
  EXPECT_EQ(parse_ipv4("192.168.100.200")->value, 0xc0a864c8u);
}

TEST(Ipv4Addr, RejectsMalformedTextWithTheOffendingValue) {
  for (const char* bad : {"", "10.0.0", "10.0.0.1.", "10.0.0.256", "10.0.0.1000", "010.0.0.1",
                          "10.0.0.01", "10..0.1", " 10.0.0.1", "10.0.0.1 ", "10.0.0.-1",
                          "10.0.0.1/24", "a.b.c.d", "1e1.0.0.1", "4294967295"}) {
    auto ip = parse_ipv4(bad);
    ASSERT_FALSE(ip.ok()) << bad;
    EXPECT_NE(ip.error().message.find(std::string("'") + bad + "'"), std::string::npos)
        << ip.error().message;
  }
}

TEST(Ipv4Addr, OrdersByNumericValue) {
  EXPECT_LT(Ipv4Addr::from_octets(9, 255, 255, 255), Ipv4Addr::from_octets(10, 0, 0, 0));
  EXPECT_TRUE(Ipv4Addr::from_octets(224, 0, 0, 1).is_multicast());
  EXPECT_FALSE(Ipv4Addr::from_octets(10, 0, 0, 1).is_multicast());
}

}  // namespace
}  // namespace vtas::wire
