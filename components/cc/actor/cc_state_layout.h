// CcStateLayout: the `cc` actor's own shared-memory region (RegionKind::kCcState, the file
// `<runtime_dir>/cc.state`), which holds one CcFlowState record per flow-table slot so that a
// restarted cc resumes every flow where it was (components/cc/algorithms/cc_flow_state.h).
// Only the cc actor creates, maps and writes it; tools may map it read-only.
//
//   RegionHeader (64 B) | CcStateHeader (64 B) | CcPolicyBlock (1024 B)
//   | CcFlowState[slots] (128 B each)
//
// Record i belongs to flow-table slot i. Whose flow a record describes is in the record
// itself (CcFlowState::flow_key), so a record left by a flow that has gone is never applied
// to the next flow in the slot.
//
// The policy block keeps the run-time policy (the cc fields of TasParameters, serialized) and
// the identity of the flow table it was set under: a cc restarted within the same instance
// (same flow table) keeps the policy an operator set with vtasctl; a new instance (a new table)
// starts from its manifest.
#pragma once

#include <cstddef>
#include <cstdint>

#include "components/cc/algorithms/cc_flow_state.h"

namespace vtas::cc {

inline constexpr uint32_t kCcStateLayoutVersion = 1;  // bump on any change below

struct CcStateHeader {
  uint32_t slots;           // records; equals the flow table's max_flows when created
  uint32_t record_size;     // sizeof(CcFlowState)
  uint64_t records_offset;  // from the region base
  uint64_t created_us;      // CLOCK_MONOTONIC of creation, for diagnostics
  uint8_t reserved[40];
};
static_assert(sizeof(CcStateHeader) == 64);
static_assert(offsetof(CcStateHeader, slots) == 0);
static_assert(offsetof(CcStateHeader, record_size) == 4);
static_assert(offsetof(CcStateHeader, records_offset) == 8);
static_assert(offsetof(CcStateHeader, created_us) == 16);
static_assert(offsetof(CcStateHeader, reserved) == 24);

// Which flow table a policy was set under: the table file's device and inode, and the pid
// that created it (from its RegionHeader), so a re-created file at a recycled inode differs.
struct TableIdentity {
  uint64_t device;
  uint64_t inode;
  uint32_t creator_pid;
  uint32_t reserved;
  bool operator==(const TableIdentity&) const = default;
};
static_assert(sizeof(TableIdentity) == 24);

inline constexpr uint32_t kCcPolicyMagic = 0xCC90117C;
inline constexpr uint32_t kCcPolicyMaxBytes = 960;

struct CcPolicyBlock {
  uint32_t magic;     // kCcPolicyMagic when valid
  uint32_t length;    // bytes of `policy` in use (<= kCcPolicyMaxBytes)
  uint32_t checksum;  // FNV-1a over table and policy[0..length)
  uint32_t reserved0;
  TableIdentity table;
  uint8_t reserved1[24];
  uint8_t policy[kCcPolicyMaxBytes];  // manifest::TasParameters (cc fields), wire format
};
static_assert(sizeof(CcPolicyBlock) == 1024);
static_assert(offsetof(CcPolicyBlock, magic) == 0);
static_assert(offsetof(CcPolicyBlock, length) == 4);
static_assert(offsetof(CcPolicyBlock, checksum) == 8);
static_assert(offsetof(CcPolicyBlock, table) == 16);
static_assert(offsetof(CcPolicyBlock, policy) == 64);

inline constexpr uint64_t kCcStateHeaderOffset = 64;  // after the RegionHeader
inline constexpr uint64_t kCcPolicyOffset = 128;
inline constexpr uint64_t kCcStateRecordsOffset = kCcPolicyOffset + sizeof(CcPolicyBlock);
static_assert(kCcStateRecordsOffset % 64 == 0);

// Bytes a region with `slots` records needs.
constexpr uint64_t cc_state_bytes(uint32_t slots) {
  return kCcStateRecordsOffset + uint64_t{slots} * sizeof(CcFlowState);
}

}  // namespace vtas::cc
