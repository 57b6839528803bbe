#include "components/fastpath/group_steering.h"

#include <algorithm>

namespace vtas::fastpath {

bool reta_follows_groups(uint32_t reta_size) {
  return reta_size != 0 && (reta_size & (reta_size - 1)) == 0;
}

GroupCores spread_groups(uint32_t active, uint32_t reta_size) {
  active = std::max<uint32_t>(active, 1);
  // Round robin over the RETA entries rather than the groups: every group of an entry then
  // lands on the entry's core. Without a usable RETA (or with one at least as large as the
  // group count) this is round robin over the groups themselves.
  uint32_t classes =
      reta_follows_groups(reta_size) ? std::min(reta_size, abi::kFlowGroups) : abi::kFlowGroups;
  GroupCores cores{};
  for (uint32_t g = 0; g < abi::kFlowGroups; ++g) {
    cores[g] = static_cast<uint8_t>(g % classes % active);
  }
  return cores;
}

std::vector<uint16_t> reta_entries(const GroupCores& group_cores, uint32_t reta_size,
                                   uint16_t queues) {
  queues = std::max<uint16_t>(queues, 1);
  std::vector<uint16_t> entries(reta_size);
  for (uint32_t e = 0; e < reta_size; ++e) {
    entries[e] = static_cast<uint16_t>(group_cores[e % abi::kFlowGroups] % queues);
  }
  return entries;
}

}  // namespace vtas::fastpath
