// Group steering: which fast-path core serves each flow group, and the contents of the NIC's
// RSS redirection table (RETA) that delivers each group's frames to that core directly. Pure
// functions of the core count and the device's table size, so the control thread
// (FastPathActor::steer_groups) and the port (DpdkPort::program_reta) agree by construction
// and unit tests check them without a NIC.
//
// A frame's group is its RSS hash % kFlowGroups; the NIC picks RETA entry hash % reta_size.
// With a power-of-two reta_size both are low bits of the same hash: below kFlowGroups entries
// one entry serves every group congruent to it modulo reta_size, so those groups must share a
// core for the table to match the steering table; from kFlowGroups entries up, entry e serves
// group e % kFlowGroups alone. Correctness never depends on the RETA (a core hands a frame it
// does not own to the owner, decision 15); a matching RETA only saves that hand-over.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "components/fastpath/abi/flow_table_layout.h"

namespace vtas::fastpath {

// The core of every flow group: the shared steering table's contents.
using GroupCores = std::array<uint8_t, abi::kFlowGroups>;

// True when a RETA of `reta_size` entries can follow the steering table exactly. Only powers of
// two can: we cannot know which hash bits a device indexes another size with, so such a table
// (and 0: none) is left as the device set it and software steering does all the work.
bool reta_follows_groups(uint32_t reta_size);

// Groups round robin over cores 0 .. active-1 (active 0 counts as 1), as evenly as the RETA
// allows: with a usable RETA of fewer than kFlowGroups entries, groups congruent modulo
// reta_size share a core, so core loads differ by at most kFlowGroups / reta_size groups
// instead of one. Without a usable RETA: plain g % active.
GroupCores spread_groups(uint32_t active, uint32_t reta_size);

// The RETA (reta_size entries) for `group_cores`: entry e -> the queue of the core of group
// e % kFlowGroups. A core without a NIC queue (core >= queues, more cores than the device has
// queues) is never written: its entries go to queue core % queues, and the core polling that
// queue hands the frames over.
std::vector<uint16_t> reta_entries(const GroupCores& group_cores, uint32_t reta_size,
                                   uint16_t queues);

}  // namespace vtas::fastpath
