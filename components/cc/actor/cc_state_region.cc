#include "components/cc/actor/cc_state_region.h"

#include <sys/stat.h>

#include <cstring>

#include "runtime/shm/abi.h"

namespace vtas::cc {
namespace {

constexpr uint32_t kMaxSlots = 1u << 24;  // the flow table's own limit

// Why the mapped file cannot be reused, or "" if it can.
std::string unusable_because(const shm::Region& region, uint32_t slots) {
  if (Status s = shm::check_region_header(region.base(), region.size(), shm::RegionKind::kCcState,
                                          kCcStateLayoutVersion);
      !s) {
    return s.error().message;
  }
  const auto* h = region.at<CcStateHeader>(kCcStateHeaderOffset);
  if (h == nullptr) return "too small for its header";
  if (h->slots != slots) {
    return "sized for " + std::to_string(h->slots) + " flows, the flow table has " +
           std::to_string(slots);
  }
  if (h->record_size != sizeof(CcFlowState) || h->records_offset != kCcStateRecordsOffset) {
    return "record size " + std::to_string(h->record_size) + " at offset " +
           std::to_string(h->records_offset) + " is not this build's";
  }
  if (!region.contains(0, cc_state_bytes(slots))) return "shorter than its records";
  return "";
}

uint32_t policy_checksum(const TableIdentity& table, const uint8_t* bytes, uint32_t length) {
  uint32_t hash = 2166136261u;
  auto mix = [&](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      hash ^= p[i];
      hash *= 16777619u;
    }
  };
  mix(reinterpret_cast<const uint8_t*>(&table), sizeof table);
  mix(bytes, length);
  return hash;
}

}  // namespace

CcStateRegion::CcStateRegion(shm::Region region, uint32_t slots, bool reused,
                             std::string fresh_reason)
    : region_(std::move(region)),
      policy_(region_.at<CcPolicyBlock>(kCcPolicyOffset)),
      records_(region_.at<CcFlowState>(kCcStateRecordsOffset)),
      slots_(slots),
      reused_(reused),
      fresh_reason_(std::move(fresh_reason)) {}

Result<CcStateRegion> CcStateRegion::open_or_create(const std::string& path, uint32_t slots,
                                                    uint64_t now_us) {
  if (slots == 0 || slots > kMaxSlots) {
    return make_error("cc state " + path + ": " + std::to_string(slots) +
                      " slots is out of range (1.." + std::to_string(kMaxSlots) + ")");
  }
  std::string reason;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    reason = "no state file yet";
  } else if (auto existing = shm::Region::open_file(path, shm::Access::kReadWrite)) {
    reason = unusable_because(*existing, slots);
    if (reason.empty()) return CcStateRegion(std::move(*existing), slots, true, "");
  } else {
    reason = existing.error().message;
  }

  const uint64_t bytes = cc_state_bytes(slots);
  auto created = shm::Region::create_file(path, bytes, 0600);
  if (!created) {
    return make_error("cc state " + path + ": cannot create it (" + created.error().message +
                      "); check that the runtime directory is writable");
  }
  auto* h = created->at<CcStateHeader>(kCcStateHeaderOffset);
  if (h == nullptr || !created->contains(0, bytes)) {
    return make_error("cc state " + path + ": the new mapping is smaller than " +
                      std::to_string(bytes) + " bytes");
  }
  h->slots = slots;
  h->record_size = sizeof(CcFlowState);
  h->records_offset = kCcStateRecordsOffset;
  h->created_us = now_us;
  if (Status s = shm::init_region_header(created->base(), bytes, shm::RegionKind::kCcState,
                                         kCcStateLayoutVersion);
      !s) {
    return make_error("cc state " + path + ": " + s.error().message);
  }
  return CcStateRegion(std::move(*created), slots, false, std::move(reason));
}

CcFlowState CcStateRegion::read(uint32_t slot) const {
  CcFlowState s{};
  if (slot < slots_) std::memcpy(&s, &records_[slot], sizeof s);
  return s;
}

void CcStateRegion::write(uint32_t slot, const CcFlowState& state) {
  if (slot < slots_) std::memcpy(&records_[slot], &state, sizeof state);
}

std::optional<std::string> CcStateRegion::read_policy(const TableIdentity& table) const {
  CcPolicyBlock block;
  std::memcpy(&block, policy_, sizeof block);
  if (block.magic != kCcPolicyMagic || block.length > kCcPolicyMaxBytes) return std::nullopt;
  if (block.checksum != policy_checksum(block.table, block.policy, block.length)) {
    return std::nullopt;
  }
  if (!(block.table == table)) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(block.policy), block.length);
}

bool CcStateRegion::write_policy(std::string_view policy, const TableIdentity& table) {
  if (policy.size() > kCcPolicyMaxBytes) return false;
  CcPolicyBlock block{};
  block.magic = kCcPolicyMagic;
  block.length = static_cast<uint32_t>(policy.size());
  block.table = table;
  std::memcpy(block.policy, policy.data(), policy.size());
  block.checksum = policy_checksum(block.table, block.policy, block.length);
  std::memcpy(policy_, &block, sizeof block);
  return true;
}

void CcStateRegion::clear(uint32_t slot) {
  if (slot < slots_) std::memset(static_cast<void*>(&records_[slot]), 0, sizeof(CcFlowState));
}

}  // namespace vtas::cc
