#include "components/fastpath/offset_allocator.h"

namespace vtas::fastpath {

OffsetAllocator::OffsetAllocator(uint64_t base, uint64_t size) {
  uint64_t aligned = (base + kAlignment - 1) / kAlignment * kAlignment;
  uint64_t lost = aligned - base;
  base_ = aligned;
  size_ = size > lost ? (size - lost) / kAlignment * kAlignment : 0;
  free_bytes_ = size_;
  if (size_ > 0) free_.emplace(base_, size_);
}

std::optional<uint64_t> OffsetAllocator::allocate(uint64_t size) {
  if (size == 0 || size > size_) return std::nullopt;
  uint64_t need = (size + kAlignment - 1) / kAlignment * kAlignment;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < need) continue;
    uint64_t offset = it->first;
    uint64_t rest = it->second - need;
    free_.erase(it);
    if (rest > 0) free_.emplace(offset + need, rest);
    allocated_.emplace(offset, need);
    free_bytes_ -= need;
    return offset;
  }
  return std::nullopt;
}

bool OffsetAllocator::free(uint64_t offset) {
  auto found = allocated_.find(offset);
  if (found == allocated_.end()) return false;
  uint64_t length = found->second;
  allocated_.erase(found);
  free_bytes_ += length;
  auto next = free_.lower_bound(offset);
  // Merge with the following free range.
  if (next != free_.end() && offset + length == next->first) {
    length += next->second;
    next = free_.erase(next);
  }
  // Merge with the preceding free range.
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == offset) {
      prev->second += length;
      return true;
    }
  }
  free_.emplace(offset, length);
  return true;
}

}  // namespace vtas::fastpath
