#include "components/cc/actor/cc_policy.h"

#include <gtest/gtest.h>

namespace vtas::cc {
namespace {

TEST(CcPolicyTest, CcFieldsOfSetsEveryCcFieldAndNothingElse) {
  manifest::TasParameters tas;
  tas.set_cc_const_rate(5000);
  tas.set_tcp_rxbuf_len(1 << 20);
  tas.set_cc_rexmit_ints(9);
  const manifest::TasParameters cc = cc_fields_of(tas);
  EXPECT_TRUE(cc.has_cc());
  EXPECT_EQ(cc.cc(), manifest::CONGESTION_CONTROL_DCTCP_RATE);  // the default, now set
  EXPECT_TRUE(cc.has_cc_timely_beta());
  EXPECT_DOUBLE_EQ(cc.cc_timely_beta(), 0.8);
  EXPECT_EQ(cc.cc_const_rate(), 5000u);
  EXPECT_TRUE(cc.has_tcp_rtt_init());
  EXPECT_FALSE(cc.has_tcp_rxbuf_len());
  EXPECT_FALSE(cc.has_cc_rexmit_ints());  // the timer's
  // The result converts to the same Params as the original.
  EXPECT_EQ(*params_from_proto(cc), *params_from_proto(tas));
}

TEST(CcPolicyTest, MergeTakesOnlyTheFieldsSet) {
  const manifest::TasParameters current = cc_fields_of(manifest::TasParameters{});
  manifest::TasParameters update;
  update.set_cc_dctcp_step(20000);
  update.set_cc(manifest::CONGESTION_CONTROL_TIMELY);
  auto merged = merge_cc_fields(current, update);
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(merged->cc_dctcp_step(), 20000u);
  EXPECT_EQ(merged->cc(), manifest::CONGESTION_CONTROL_TIMELY);
  EXPECT_EQ(merged->cc_dctcp_init(), 10000u);
  EXPECT_TRUE(merged->has_cc_timely_tlow());
}

TEST(CcPolicyTest, MergeRefusesFieldsThatAreNotCongestionControl) {
  manifest::TasParameters update;
  update.set_cc_dctcp_step(20000);
  update.set_tcp_txbuf_len(4096);
  auto merged = merge_cc_fields(cc_fields_of({}), update);
  ASSERT_FALSE(merged);
  EXPECT_NE(merged.error().message.find("tas.tcp_txbuf_len"), std::string::npos);
  EXPECT_NE(merged.error().message.find("cc_const_rate"), std::string::npos);  // lists them
  manifest::TasParameters timer_field;
  timer_field.set_cc_rexmit_ints(3);
  EXPECT_FALSE(merge_cc_fields(cc_fields_of({}), timer_field));
}

TEST(CcPolicyTest, AlgorithmNamesAreTheTasSpellings) {
  EXPECT_EQ(algorithm_from_name("dctcp-rate"), Algorithm::kDctcpRate);
  EXPECT_EQ(algorithm_from_name("dctcp-win"), Algorithm::kDctcpWin);
  EXPECT_EQ(algorithm_from_name("timely"), Algorithm::kTimely);
  EXPECT_EQ(algorithm_from_name("const-rate"), Algorithm::kConstRate);
  EXPECT_FALSE(algorithm_from_name("cubic"));
  EXPECT_FALSE(algorithm_from_name(""));
  EXPECT_EQ(to_proto(Algorithm::kTimely), manifest::CONGESTION_CONTROL_TIMELY);
}

TEST(CcPolicyTest, EndpointsPrintInDottedQuadAndHostOrderPort) {
  // 10.0.0.1 and port 80 as they are stored (network order) on a little-endian host.
  EXPECT_EQ(endpoint_text(0x0100000a, 0x5000), "10.0.0.1:80");
}

}  // namespace
}  // namespace vtas::cc
