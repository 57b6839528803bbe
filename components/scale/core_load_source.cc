#include "components/scale/core_load_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>

namespace vtas::scale {

Status FlowTableLoadSource::open() {
  close();
  auto region = shm::Region::open_file(path_, shm::Access::kReadOnly);
  if (!region) return region.error();
  region_.emplace(std::move(*region));
  auto table = fastpath::FlowTable::attach(*region_);
  if (!table) {
    region_.reset();
    return table.error();
  }
  table_.emplace(std::move(*table));
  return Status();
}

void FlowTableLoadSource::close() {
  table_.reset();
  region_.reset();
}

bool FlowTableLoadSource::is_current() const {
  if (!region_) return false;
  struct stat now_at_path {};
  struct stat ours {};
  if (::stat(path_.c_str(), &now_at_path) != 0) return false;
  if (region_->fd() < 0 || ::fstat(region_->fd(), &ours) != 0) return false;
  return now_at_path.st_dev == ours.st_dev && now_at_path.st_ino == ours.st_ino;
}

CoreLoad FlowTableLoadSource::read() const {
  CoreLoad load;
  if (!table_) return load;
  // Untrusted shared memory: clamp everything read from it.
  const abi::FlowTableHeader* h = table_->header();
  const uint32_t slots = std::min<uint32_t>(h->max_cores, abi::kMaxFastPathCores);
  load.cores_active = std::atomic_ref<uint32_t>(const_cast<uint32_t&>(h->cores_active))
                          .load(std::memory_order_acquire);
  load.cores_active = std::min(load.cores_active, slots);
  for (uint32_t c = 0; c < slots; ++c) {
    const abi::CoreCounters* counters = table_->core_counters(c);
    if (counters == nullptr) break;
    load.busy_ns += std::atomic_ref<uint64_t>(const_cast<uint64_t&>(counters->busy_cycles))
                        .load(std::memory_order_relaxed);
  }
  return load;
}

}  // namespace vtas::scale
