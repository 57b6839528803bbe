// Region: one mapping of shared memory (a memfd, a hugetlbfs or tmpfs file, or an fd received
// from another process), owned RAII-style (munmap + close). Creators (fast path, conn, the VM
// proxy) use create_*; attachers (apps, actors, the guest proxy) use open_file or map_fd and then
// check the region header (runtime/shm/abi.h) before they use anything in it.
//
// Everything inside a region is addressed by offset from base(), never by pointer, and an offset
// read from shared memory is untrusted: resolve it with at<T>(), which returns nullptr when the
// object would not lie entirely inside the mapping or would be misaligned.
//
// Not thread-safe to move or destroy while another thread uses it; reading through base() from
// several threads is fine.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/result.h"

namespace vtas::shm {

enum class Access { kReadOnly, kReadWrite };

// offset_of() of a pointer outside the region.
inline constexpr uint64_t kNoOffset = UINT64_MAX;

class Region {
 public:
  // An anonymous region (memfd_create, MFD_CLOEXEC) to hand to other processes by fd. `size` is
  // rounded up to the page size (2 MiB with hugepages). Its size is sealed (F_SEAL_SHRINK |
  // F_SEAL_GROW | F_SEAL_SEAL): a process holding the fd cannot truncate it under our mapping
  // (which would turn our next access into SIGBUS). `name` shows in /proc/PID/fd and in errors.
  static Result<Region> create_memfd(const std::string& name, size_t size, bool hugepages);

  // A named region on hugetlbfs (/dev/hugepages/...) or tmpfs (/run/..., /dev/shm/...) that
  // outlives its creator (so state survives a restart). A stale file at `path` is unlinked and
  // replaced by a new, zeroed one; symlinks at `path` are never followed. The file gets exactly
  // `mode` (fchmod, so the umask neither widens nor narrows it). `size` is rounded up to the
  // filesystem's page size (the hugepage size on hugetlbfs). The file stays until someone
  // unlinks it.
  static Result<Region> create_file(const std::string& path, size_t size, mode_t mode = 0600);

  // Maps an existing file in full.
  static Result<Region> open_file(const std::string& path, Access access);

  // Maps all of `fd` (size from fstat, which works on hugetlbfs where lseek may not). Takes
  // ownership of `fd`: it is closed when the Region goes, or at once if mapping fails.
  static Result<Region> map_fd(int fd, Access access);

  Region(Region&& other) noexcept;
  Region& operator=(Region&& other) noexcept;
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  ~Region();

  void* base() const { return base_; }
  size_t size() const { return size_; }
  int fd() const { return fd_; }
  Access access() const { return access_; }
  // The memfd name or file path, for messages.
  const std::string& name() const { return name_; }

  // True if [offset, offset + length) lies inside the mapping. Overflow-safe: any offset or
  // length near UINT64_MAX gives false, never a wrapped-around yes. An empty range at size()
  // is inside.
  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }

  // The object of type T at `offset`, or nullptr if it would not lie entirely inside the
  // mapping or would be misaligned for T. On a read-only region, writing through it faults.
  template <class T>
  T* at(uint64_t offset) const {
    if (!contains(offset, sizeof(T))) return nullptr;
    char* p = static_cast<char*>(base_) + offset;
    if (reinterpret_cast<uintptr_t>(p) % alignof(T) != 0) return nullptr;
    return reinterpret_cast<T*>(p);
  }

  // The offset of `p` from base() (to publish in shared memory), or kNoOffset if `p` is not in
  // [base(), base() + size()].
  uint64_t offset_of(const void* p) const;

  // True if the size of the backing file cannot change (memfd seals). Files on tmpfs and
  // hugetlbfs cannot be sealed: protect those with their mode (0600) instead.
  bool size_sealed() const;

 private:
  Region(void* base, size_t size, int fd, Access access, std::string name);
  void reset();

  void* base_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
  Access access_ = Access::kReadOnly;
  std::string name_;
};

}  // namespace vtas::shm
