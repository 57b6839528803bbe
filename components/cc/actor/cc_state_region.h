// CcStateRegion: the cc actor's mapping of its own state file (`<runtime_dir>/cc.state`,
// layout in cc_state_layout.h). A new incarnation of cc maps the file the previous one left
// and finds every flow's record there; if the file is missing, of another layout, or sized
// for another flow table, it is replaced by a zeroed one (all slots blank: flows are adopted
// at their current rates, see congestion_control.h resume_or_adopt()).
//
// Only the cc actor uses this class, from its own thread. Records are copied in and out
// whole; a record torn by a crash in the middle of write() fails its checksum next time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "components/cc/actor/cc_state_layout.h"
#include "runtime/result.h"
#include "runtime/shm/region.h"

namespace vtas::cc {

class CcStateRegion {
 public:
  // Maps `path` for a flow table of `slots` slots (1 .. 2^24), creating or replacing the
  // file (mode 0600) when it cannot be reused. `now_us` is stamped into a new header.
  static Result<CcStateRegion> open_or_create(const std::string& path, uint32_t slots,
                                              uint64_t now_us);

  CcStateRegion(CcStateRegion&&) noexcept = default;
  CcStateRegion& operator=(CcStateRegion&&) noexcept = default;

  // True when the previous incarnation's file was taken as it was.
  bool reused() const { return reused_; }
  // Why the file was (re)created, when it was; empty when reused.
  const std::string& fresh_reason() const { return fresh_reason_; }
  uint32_t slots() const { return slots_; }
  const std::string& path() const { return region_.name(); }

  // The record of `slot` (a copy; blank for slots out of range).
  CcFlowState read(uint32_t slot) const;
  // Stores `state` as the record of `slot` (ignored out of range).
  void write(uint32_t slot, const CcFlowState& state);
  // Blanks a record (its flow has gone), so no later flow in the slot can mistake it.
  void clear(uint32_t slot);

  // The serialized policy stored under flow table `table`; nullopt if none is stored, it is
  // damaged, or it was set under another table.
  std::optional<std::string> read_policy(const TableIdentity& table) const;
  // Stores `policy` (at most kCcPolicyMaxBytes) for `table`. False if it is too long.
  bool write_policy(std::string_view policy, const TableIdentity& table);

 private:
  CcStateRegion(shm::Region region, uint32_t slots, bool reused, std::string fresh_reason);

  shm::Region region_;
  CcPolicyBlock* policy_ = nullptr;
  CcFlowState* records_ = nullptr;
  uint32_t slots_ = 0;
  bool reused_ = false;
  std::string fresh_reason_;
};

}  // namespace vtas::cc
