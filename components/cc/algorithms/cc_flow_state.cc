#include "components/cc/algorithms/cc_flow_state.h"

#include <cstring>

#include "components/cc/algorithms/params.h"

namespace vtas::cc {

uint32_t state_checksum(const CcFlowState& state) {
  unsigned char bytes[sizeof(CcFlowState)];
  std::memcpy(bytes, &state, sizeof bytes);
  std::memset(bytes + offsetof(CcFlowState, checksum), 0, sizeof(state.checksum));
  uint32_t hash = 2166136261u;  // FNV-1a: cheap, and enough to catch a torn 128-byte write
  for (unsigned char b : bytes) {
    hash ^= b;
    hash *= 16777619u;
  }
  return hash;
}

void seal(CcFlowState& state) {
  state.magic = kCcStateMagic;
  state.version = kCcStateVersion;
  state.checksum = state_checksum(state);
}

ResumeCheck check_resumable(const CcFlowState& state, uint64_t flow_key) {
  if (state.magic == 0) return ResumeCheck::kBlank;
  if (state.magic != kCcStateMagic || state.version != kCcStateVersion) {
    return ResumeCheck::kForeignLayout;
  }
  if (state.checksum != state_checksum(state)) return ResumeCheck::kTorn;
  if (!algorithm_from_byte(state.algorithm)) return ResumeCheck::kUnknownAlgorithm;
  if (state.flow_key != flow_key) return ResumeCheck::kOtherFlow;
  return ResumeCheck::kResumable;
}

std::string_view describe(ResumeCheck check) {
  switch (check) {
    case ResumeCheck::kResumable:
      return "resumable";
    case ResumeCheck::kBlank:
      return "blank slot";
    case ResumeCheck::kForeignLayout:
      return "another magic or layout version";
    case ResumeCheck::kUnknownAlgorithm:
      return "unknown algorithm byte";
    case ResumeCheck::kOtherFlow:
      return "state of another flow";
    case ResumeCheck::kTorn:
      return "checksum mismatch (torn write or corruption)";
  }
  return "unknown";
}

}  // namespace vtas::cc
