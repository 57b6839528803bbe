// IPv4 address, prefix and route parsing shared by the manifest and the command line.
#include "runtime/manifest/ipv4.h"

#include <gtest/gtest.h>

namespace vtas {
namespace {

TEST(Ipv4Address, ParsesDottedQuads) {
  EXPECT_EQ(parse_ipv4_address("10.0.0.1"), 0x0a000001u);
  EXPECT_EQ(parse_ipv4_address("255.255.255.255"), 0xffffffffu);
  EXPECT_EQ(parse_ipv4_address("0.0.0.0"), 0u);
  EXPECT_EQ(format_ipv4_address(0xc0a80101u), "192.168.1.1");
}

TEST(Ipv4Address, RefusesWhatIsNotADottedQuad) {
  for (const char* bad :
       {"", "10.0.0", "10.0.0.1.2", "256.0.0.1", "10.0.0.-1", "10..0.1", "a.b.c.d", " 10.0.0.1",
        "10.0.0.1 ", "010.0.0.1", "10.0.0.1/24", "1000.0.0.1", "10.0.0."}) {
    EXPECT_FALSE(parse_ipv4_address(bad).has_value()) << bad;
  }
}

TEST(Ipv4Prefix, AppliesTheDefaultLengthOnlyWhenNoneIsWritten) {
  auto local = parse_local_address("10.0.0.1");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->length, kDefaultLocalPrefixLength);
  auto route = parse_route_destination("10.1.0.0");
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->length, 32);
  auto explicit_length = parse_local_address("10.0.0.1/24");
  ASSERT_TRUE(explicit_length.ok());
  EXPECT_EQ(explicit_length->address, 0x0a000001u);
  EXPECT_EQ(explicit_length->length, 24);
  EXPECT_EQ(explicit_length->mask(), 0xffffff00u);
}

TEST(Ipv4Prefix, ExplainsWhatIsWrong) {
  auto bad_address = parse_local_address("10.0.0/24");
  ASSERT_FALSE(bad_address.ok());
  EXPECT_EQ(bad_address.error().message,
            "\"10.0.0\" is not an IPv4 address (expected four numbers 0..255 like 10.0.0.1)");
  for (const char* bad :
       {"10.0.0.1/33", "10.0.0.1/", "10.0.0.1/x", "10.0.0.1/-1", "10.0.0.1/24/1"}) {
    auto parsed = parse_local_address(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message.find("prefix length"), std::string::npos) << bad;
  }
}

TEST(Ipv4Prefix, ContainsComparesTheNetworkPart) {
  Ipv4Prefix prefix{0x0a000001u, 24};
  EXPECT_TRUE(prefix.contains(0x0a0000feu));
  EXPECT_FALSE(prefix.contains(0x0a000101u));
  Ipv4Prefix everything{0x0a000001u, 0};
  EXPECT_TRUE(everything.contains(0xc0a80101u));
  EXPECT_EQ(everything.mask(), 0u);
}

TEST(Ipv4Unicast, NamesAddressesAHostCannotUse) {
  EXPECT_FALSE(why_not_unicast(0x0a000001u).has_value());
  EXPECT_EQ(why_not_unicast(0), "the unspecified address");
  EXPECT_EQ(why_not_unicast(0xffffffffu), "the broadcast address");
  EXPECT_EQ(why_not_unicast(0xe0000001u), "a multicast address");
  EXPECT_EQ(why_not_unicast(0xf0000001u), "a reserved address (240.0.0.0/4)");
}

}  // namespace
}  // namespace vtas
