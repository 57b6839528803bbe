// Group steering without a NIC: the steering table spreads groups evenly, keeps the groups one
// RETA entry serves on one core, and the RETA computed from it sends every entry where the
// steering table says.
#include "components/fastpath/group_steering.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace vtas::fastpath {
namespace {

constexpr uint32_t kRetaSizes[] = {64, 128, 256, 512, 1024};

std::vector<uint32_t> groups_per_core(const GroupCores& cores, uint32_t active) {
  std::vector<uint32_t> counts(active, 0);
  for (uint8_t c : cores) ++counts.at(c);
  return counts;
}

TEST(GroupSteering, OnlyPowersOfTwoAreFollowed) {
  for (uint32_t size : kRetaSizes) EXPECT_TRUE(reta_follows_groups(size)) << size;
  EXPECT_TRUE(reta_follows_groups(8));
  EXPECT_FALSE(reta_follows_groups(0));
  EXPECT_FALSE(reta_follows_groups(96));
  EXPECT_FALSE(reta_follows_groups(520));
}

TEST(GroupSteering, EveryGroupGetsAnActiveCoreAndAllActiveCoresServe) {
  for (uint32_t reta : {0u, 64u, 128u, 256u, 512u, 1024u, 96u}) {
    for (uint32_t active = 1; active <= 8; ++active) {
      GroupCores cores = spread_groups(active, reta);
      for (uint32_t g = 0; g < abi::kFlowGroups; ++g)
        ASSERT_LT(cores[g], active) << "reta " << reta << " group " << g;
      for (uint32_t n : groups_per_core(cores, active))
        EXPECT_GT(n, 0u) << "reta " << reta << " active " << active;
    }
  }
}

TEST(GroupSteering, WithoutAUsableRetaLoadsDifferByAtMostOneGroup) {
  for (uint32_t reta : {0u, 96u, 512u, 1024u}) {
    for (uint32_t active = 1; active <= 8; ++active) {
      auto counts = groups_per_core(spread_groups(active, reta), active);
      auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
      EXPECT_LE(*hi - *lo, 1u) << "reta " << reta << " active " << active;
    }
  }
}

TEST(GroupSteering, NonPowerOfTwoRetaKeepsPlainRoundRobin) {
  GroupCores cores = spread_groups(3, 96);
  for (uint32_t g = 0; g < abi::kFlowGroups; ++g) EXPECT_EQ(cores[g], g % 3) << g;
  EXPECT_EQ(spread_groups(3, 96), spread_groups(3, 0));
}

TEST(GroupSteering, GroupsOfOneRetaEntryShareACore) {
  for (uint32_t reta : kRetaSizes) {
    uint32_t period = std::min(reta, abi::kFlowGroups);
    for (uint32_t active = 1; active <= 4; ++active) {
      GroupCores cores = spread_groups(active, reta);
      for (uint32_t g = period; g < abi::kFlowGroups; ++g) {
        ASSERT_EQ(cores[g], cores[g % period])
            << "reta " << reta << " active " << active << " group " << g;
      }
    }
  }
}

TEST(GroupSteering, LoadsAreAsEvenAsWholeRetaEntriesAllow) {
  for (uint32_t reta : kRetaSizes) {
    uint32_t groups_per_entry = abi::kFlowGroups / std::min(reta, abi::kFlowGroups);
    for (uint32_t active = 1; active <= 4; ++active) {
      auto counts = groups_per_core(spread_groups(active, reta), active);
      auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
      EXPECT_LE(*hi - *lo, groups_per_entry) << "reta " << reta << " active " << active;
    }
  }
  // The case that broke plain round robin: 128 entries, 3 cores. Entries split 43/43/42.
  EXPECT_EQ(groups_per_core(spread_groups(3, 128), 3), (std::vector<uint32_t>{172, 172, 168}));
}

TEST(GroupSteering, RetaSendsEveryEntryToItsGroupsCore) {
  for (uint32_t reta : kRetaSizes) {
    for (uint32_t active = 1; active <= 4; ++active) {
      GroupCores cores = spread_groups(active, reta);
      std::vector<uint16_t> entries = reta_entries(cores, reta, static_cast<uint16_t>(active));
      ASSERT_EQ(entries.size(), reta);
      for (uint32_t e = 0; e < reta; ++e)
        ASSERT_EQ(entries[e], cores[e % abi::kFlowGroups]) << "entry " << e;
      // What the NIC does with a hash must agree with what the fast path does with it.
      for (uint32_t hash : {0u, 1u, 127u, 128u, 511u, 512u, 1023u, 0x9e3779b9u, 0xffffffffu}) {
        ASSERT_EQ(entries[hash % reta], cores[hash % abi::kFlowGroups])
            << "reta " << reta << " hash " << hash;
      }
    }
  }
}

TEST(GroupSteering, CoresWithoutAQueueAreNeverInTheReta) {
  GroupCores cores = spread_groups(4, 128);
  std::vector<uint16_t> entries = reta_entries(cores, 128, 2);  // cores 2 and 3 poll no queue
  for (uint32_t e = 0; e < 128; ++e) {
    ASSERT_LT(entries[e], 2u);
    EXPECT_EQ(entries[e], cores[e] % 2) << e;
  }
}

}  // namespace
}  // namespace vtas::fastpath
