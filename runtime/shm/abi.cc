#include "runtime/shm/abi.h"

#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

namespace vtas::shm {
namespace {

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
  return buf;
}

std::string kind_text(uint32_t kind) {
  return std::string(region_kind_name(static_cast<RegionKind>(kind))) + " (" +
         std::to_string(kind) + ")";
}

}  // namespace

const char* region_kind_name(RegionKind kind) {
  switch (kind) {
    case RegionKind::kUnspecified:
      return "unspecified";
    case RegionKind::kTest:
      return "test";
    case RegionKind::kFlowTable:
      return "flow-table";
    case RegionKind::kAppContext:
      return "app-context";
    case RegionKind::kVmRegion:
      return "vm-region";
    case RegionKind::kCcState:
      return "cc-state";
    case RegionKind::kConnRegistry:
      return "conn-registry";
  }
  return "unknown";
}

Status init_region_header(void* base, uint64_t region_size, RegionKind kind,
                          uint32_t layout_version, uint32_t flags) {
  if (base == nullptr) return make_error("init_region_header: region base is null");
  if (reinterpret_cast<uintptr_t>(base) % alignof(RegionHeader) != 0) {
    return make_error("init_region_header: region base " +
                      hex64(reinterpret_cast<uintptr_t>(base)) + " is not 8-byte aligned");
  }
  if (region_size < sizeof(RegionHeader)) {
    return make_error("init_region_header: region of " + std::to_string(region_size) +
                      " bytes cannot hold the 64-byte vtas region header");
  }
  auto* header = static_cast<RegionHeader*>(base);
  // Clear the magic first so a concurrent attacher never sees an old magic with new fields.
  std::atomic_ref<uint64_t>(header->magic).store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  RegionHeader fresh{};
  fresh.layout_version = layout_version;
  fresh.header_size = sizeof(RegionHeader);
  fresh.region_size = region_size;
  fresh.kind = static_cast<uint32_t>(kind);
  fresh.flags = flags;
  fresh.creator_pid = static_cast<uint32_t>(getpid());
  std::memcpy(reinterpret_cast<char*>(header) + sizeof(uint64_t),
              reinterpret_cast<const char*>(&fresh) + sizeof(uint64_t),
              sizeof(RegionHeader) - sizeof(uint64_t));
  std::atomic_ref<uint64_t>(header->magic).store(kRegionMagic, std::memory_order_release);
  return Status::success();
}

Status check_region_header(const void* base, size_t mapped_size, RegionKind expected_kind,
                           uint32_t expected_version) {
  if (base == nullptr) return make_error("check_region_header: region base is null");
  if (reinterpret_cast<uintptr_t>(base) % alignof(RegionHeader) != 0) {
    return make_error("check_region_header: region base " +
                      hex64(reinterpret_cast<uintptr_t>(base)) + " is not 8-byte aligned");
  }
  if (mapped_size < sizeof(RegionHeader)) {
    return make_error("not a vtas region: only " + std::to_string(mapped_size) +
                      " bytes are mapped, the vtas region header alone is 64 bytes");
  }
  // One snapshot of the header: the other side may rewrite it while we check.
  auto* shared = static_cast<const RegionHeader*>(base);
  RegionHeader h;
  h.magic = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(shared->magic))
                .load(std::memory_order_acquire);
  std::memcpy(reinterpret_cast<char*>(&h) + sizeof(uint64_t),
              reinterpret_cast<const char*>(shared) + sizeof(uint64_t),
              sizeof(RegionHeader) - sizeof(uint64_t));

  if (h.magic != kRegionMagic) {
    return make_error("not a vtas region: magic " + hex64(h.magic) + " at offset 0, expected " +
                      hex64(kRegionMagic) +
                      " (wrong file or fd, or its creator has not initialised it yet)");
  }
  if (h.kind != static_cast<uint32_t>(expected_kind)) {
    return make_error("vtas region holds " + kind_text(h.kind) + " where " +
                      kind_text(static_cast<uint32_t>(expected_kind)) +
                      " was expected: wrong file or fd");
  }
  if (h.layout_version != expected_version) {
    return make_error("vtas " + std::string(region_kind_name(expected_kind)) +
                      " region has layout version " + std::to_string(h.layout_version) +
                      " but this binary expects version " + std::to_string(expected_version) +
                      ": the creator and this process come from different vtas builds; "
                      "restart the app/service after an upgrade so both use the same version");
  }
  if (h.header_size < sizeof(RegionHeader) || h.header_size > h.region_size) {
    return make_error("corrupted vtas region header: header_size " + std::to_string(h.header_size) +
                      " with region_size " + std::to_string(h.region_size) +
                      " (header is at least 64 bytes)");
  }
  if (h.region_size > mapped_size) {
    return make_error("corrupted vtas region: header says region_size " +
                      std::to_string(h.region_size) + " bytes but only " +
                      std::to_string(mapped_size) +
                      " bytes are mapped; recreate the region (restart its owner)");
  }
  return Status::success();
}

}  // namespace vtas::shm
