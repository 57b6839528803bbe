#include "tools/vtas-relay/relay_config.h"

#include <gtest/gtest.h>

namespace vtas::relay {
namespace {

TEST(RelayConfigTest, OptionsApplyToBothDirectionsUnlessPrefixed) {
  auto c = parse_arguments({"--a=ra", "--b", "rb", "--loss=2", "--a2b-rate-mbps=100",
                            "--b2a-delay-us", "500", "--cwr-unmarked", "--seed=42"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->interface_a, "ra");
  EXPECT_EQ(c->interface_b, "rb");
  EXPECT_EQ(c->seed, 42u);
  EXPECT_DOUBLE_EQ(c->a2b.loss_pct, 2);
  EXPECT_DOUBLE_EQ(c->b2a.loss_pct, 2);
  EXPECT_DOUBLE_EQ(c->a2b.rate_mbps, 100);
  EXPECT_DOUBLE_EQ(c->b2a.rate_mbps, 0);
  EXPECT_EQ(c->a2b.delay_us, 0u);
  EXPECT_EQ(c->b2a.delay_us, 500u);
  EXPECT_TRUE(c->a2b.cwr_unmarked);
  EXPECT_TRUE(c->b2a.cwr_unmarked);
}

TEST(RelayConfigTest, BadValuesNameTheOptionTheValueAndTheRange) {
  auto c = parse_arguments({"--a=x", "--b=y", "--loss=101"});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("--loss=101"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("0..100"), std::string::npos) << c.error().message;
  EXPECT_FALSE(parse_arguments({"--a=x", "--b=y", "--delay-us=-5"}));
  EXPECT_FALSE(parse_arguments({"--a=x", "--b=y", "--delay-us=5ms"}));
  EXPECT_FALSE(parse_arguments({"--a=x", "--b=y", "--rate-mbps=nan"}));
  EXPECT_FALSE(parse_arguments({"--a=x", "--b=y", "--queue-frames=0"}));
  EXPECT_FALSE(parse_arguments({"--a=x", "--b=y", "--cwr-unmarked=maybe"}));
  auto unknown = parse_arguments({"--a=x", "--b=y", "--netem"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("--netem"), std::string::npos);
  EXPECT_FALSE(parse_arguments({"--a=x", "--b=y", "--c2d-loss=1"}));
  EXPECT_FALSE(parse_arguments({"--a=x", "--b=y", "stray"}));
  EXPECT_FALSE(parse_arguments({"--a=x", "--b=y", "--loss"}));  // value missing
}

TEST(RelayConfigTest, BothInterfacesAreRequiredAndDifferent) {
  EXPECT_FALSE(parse_arguments({"--a=x"}));
  EXPECT_FALSE(parse_arguments({"--a=x", "--b=x"}));
  EXPECT_FALSE(parse_arguments({"--a=this-name-is-too-long", "--b=x"}));
}

TEST(RelayConfigTest, RunTimeChangesUseTheSameNames) {
  RelayConfig c;
  ASSERT_TRUE(apply_option(c, "a2b-delay-us", "4000"));
  ASSERT_TRUE(apply_option(c, "ce-threshold", "20"));
  EXPECT_EQ(c.a2b.delay_us, 4000u);
  EXPECT_EQ(c.b2a.delay_us, 0u);
  EXPECT_EQ(c.b2a.ce_threshold, 20u);
  EXPECT_FALSE(apply_option(c, "a2b-delay-us", ""));
}

TEST(RelayConfigTest, DescribeSaysWhatIsOn) {
  Impairments i;
  EXPECT_EQ(describe(i), "none");
  i.loss_pct = 2;
  i.rate_mbps = 100;
  i.ce_threshold = 20;
  const std::string text = describe(i);
  EXPECT_NE(text.find("loss=2%"), std::string::npos) << text;
  EXPECT_NE(text.find("rate=100Mbit/s"), std::string::npos) << text;
  EXPECT_NE(text.find("ce-threshold=20"), std::string::npos) << text;
}

}  // namespace
}  // namespace vtas::relay
