// OffsetAllocator: hands out 64-byte aligned [offset, offset + size) ranges of a region's heap
// (app queue blocks and connection buffers). First fit over an address-ordered free list,
// coalescing on free. Control-thread only (installs and removals, never per packet).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace vtas::fastpath {

class OffsetAllocator {
 public:
  static constexpr uint64_t kAlignment = 64;

  OffsetAllocator(uint64_t base, uint64_t size);

  // An aligned range of at least `size` bytes, or nullopt when no free range is big enough.
  std::optional<uint64_t> allocate(uint64_t size);
  // Returns a range from allocate(). Freeing anything else is a programming error and is
  // ignored (returns false) rather than corrupting the free list.
  bool free(uint64_t offset);

  uint64_t free_bytes() const { return free_bytes_; }
  uint64_t used_bytes() const { return size_ - free_bytes_; }
  size_t allocations() const { return allocated_.size(); }

 private:
  uint64_t base_;
  uint64_t size_;
  uint64_t free_bytes_;
  std::map<uint64_t, uint64_t> free_;       // offset -> length, address order
  std::map<uint64_t, uint64_t> allocated_;  // offset -> length
};

}  // namespace vtas::fastpath
