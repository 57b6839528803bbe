#include "runtime/shm/region.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <utility>

namespace vtas::shm {
namespace {

constexpr size_t kHugePageSize = size_t{2} << 20;
// MFD_HUGE_2MB from <linux/memfd.h> (log2(2 MiB) << MFD_HUGE_SHIFT), spelled out because that
// header clashes with glibc's <sys/mman.h>. Asks for 2 MiB pages even where the default
// hugepage size is 1 GiB.
constexpr unsigned kMfdHuge2Mb = 21u << 26;

std::string errno_text(int err) {
  return std::string(std::strerror(err));
}

size_t base_page_size() {
  return static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// Rounds `size` up to a multiple of `page` (a power of two); false on overflow.
bool round_up(size_t size, size_t page, size_t& out) {
  if (size > std::numeric_limits<size_t>::max() - (page - 1)) return false;
  out = (size + page - 1) & ~(page - 1);
  return out <= static_cast<size_t>(std::numeric_limits<off_t>::max());
}

bool on_hugetlbfs(int fd, size_t* page_size) {
  struct statfs sfs {};
  if (fstatfs(fd, &sfs) != 0) return false;
  if (static_cast<unsigned long>(sfs.f_type) != HUGETLBFS_MAGIC) return false;
  if (page_size != nullptr) *page_size = static_cast<size_t>(sfs.f_bsize);
  return true;
}

std::string hugepages_free_text() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("HugePages_Free:", 0) == 0) {
      auto pos = line.find_first_not_of(" \t", sizeof("HugePages_Free:") - 1);
      return pos == std::string::npos ? "?" : line.substr(pos);
    }
  }
  return "?";
}

Error no_hugepages_error(const std::string& what, size_t bytes, int err) {
  return make_error(what + ": cannot get " + std::to_string(bytes / kHugePageSize) +
                    " free 2 MiB hugepage(s) (" + errno_text(err) +
                    "; HugePages_Free: " + hugepages_free_text() +
                    "). Reserve hugepages with `echo 256 > /proc/sys/vm/nr_hugepages` (as root), "
                    "or run without hugepages (--fp-no-hugepages)");
}

std::string fd_description(int fd) {
  char link[256];
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(proc.c_str(), link, sizeof(link) - 1);
  if (n <= 0) return "fd " + std::to_string(fd);
  return "fd " + std::to_string(fd) + " (" + std::string(link, static_cast<size_t>(n)) + ")";
}

}  // namespace

Region::Region(void* base, size_t size, int fd, Access access, std::string name)
    : base_(base), size_(size), fd_(fd), access_(access), name_(std::move(name)) {}

Region::Region(Region&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      fd_(std::exchange(other.fd_, -1)),
      access_(other.access_),
      name_(std::move(other.name_)) {}

Region& Region::operator=(Region&& other) noexcept {
  if (this != &other) {
    reset();
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
    access_ = other.access_;
    name_ = std::move(other.name_);
  }
  return *this;
}

Region::~Region() {
  reset();
}

void Region::reset() {
  if (base_ != nullptr) munmap(base_, size_);
  if (fd_ >= 0) close(fd_);
  base_ = nullptr;
  size_ = 0;
  fd_ = -1;
}

Result<Region> Region::create_memfd(const std::string& name, size_t size, bool hugepages) {
  const std::string what = "shared memory '" + name + "'";
  if (size == 0) return make_error(what + ": size 0 requested; a region needs at least 1 byte");
  size_t rounded = 0;
  if (!round_up(size, hugepages ? kHugePageSize : base_page_size(), rounded)) {
    return make_error(what + ": size " + std::to_string(size) + " is too large to map");
  }
  unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
  if (hugepages) flags |= MFD_HUGETLB | kMfdHuge2Mb;
  int fd = memfd_create(name.c_str(), flags);
  if (fd < 0) {
    int err = errno;
    if (hugepages)
      return no_hugepages_error(what + ": memfd_create(MFD_HUGETLB) failed", rounded, err);
    return make_error(what + ": memfd_create failed: " + errno_text(err));
  }
  if (ftruncate(fd, static_cast<off_t>(rounded)) != 0) {
    int err = errno;
    close(fd);
    if (hugepages) return no_hugepages_error(what, rounded, err);
    return make_error(what + ": ftruncate to " + std::to_string(rounded) +
                      " bytes failed: " + errno_text(err));
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    int err = errno;
    close(fd);
    return make_error(what + ": sealing its size failed (F_ADD_SEALS): " + errno_text(err));
  }
  // MAP_SHARED on hugetlbfs reserves the hugepages now: no SIGBUS later when touching them.
  void* base = mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int err = errno;
    close(fd);
    if (hugepages) return no_hugepages_error(what, rounded, err);
    return make_error(what + ": mmap of " + std::to_string(rounded) +
                      " bytes failed: " + errno_text(err));
  }
  return Region(base, rounded, fd, Access::kReadWrite, "memfd:" + name);
}

Result<Region> Region::create_file(const std::string& path, size_t size, mode_t mode) {
  const std::string what = "shared memory file " + path;
  if (size == 0) return make_error(what + ": size 0 requested; a region needs at least 1 byte");
  const int open_flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = open(path.c_str(), open_flags, mode & 07777);
  if (fd < 0 && errno == EEXIST) {
    // A leftover from an earlier run (or a symlink planted there): replace it, never reuse it.
    if (unlink(path.c_str()) != 0) {
      return make_error(what +
                        ": a stale file is in the way and cannot be removed: " + errno_text(errno));
    }
    fd = open(path.c_str(), open_flags, mode & 07777);
  }
  if (fd < 0) return make_error(what + ": cannot create: " + errno_text(errno));

  auto fail = [&](std::string message) -> Result<Region> {
    close(fd);
    unlink(path.c_str());
    return make_error(std::move(message));
  };
  if (fchmod(fd, mode & 07777) != 0) {
    return fail(what + ": fchmod to " + std::to_string(mode & 07777) +
                " failed: " + errno_text(errno));
  }
  size_t page = base_page_size();
  const bool huge = on_hugetlbfs(fd, &page);
  size_t rounded = 0;
  if (!round_up(size, page, rounded)) {
    return fail(what + ": size " + std::to_string(size) + " is too large to map");
  }
  if (ftruncate(fd, static_cast<off_t>(rounded)) != 0) {
    int err = errno;
    if (huge) return fail(no_hugepages_error(what, rounded, err).message);
    return fail(what + ": ftruncate to " + std::to_string(rounded) +
                " bytes failed: " + errno_text(err));
  }
  void* base = mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int err = errno;
    if (huge) return fail(no_hugepages_error(what, rounded, err).message);
    return fail(what + ": mmap of " + std::to_string(rounded) +
                " bytes failed: " + errno_text(err));
  }
  return Region(base, rounded, fd, Access::kReadWrite, path);
}

Result<Region> Region::open_file(const std::string& path, Access access) {
  int fd = open(path.c_str(), (access == Access::kReadOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0)
    return make_error("shared memory file " + path + ": cannot open: " + errno_text(errno));
  auto region = map_fd(fd, access);
  if (!region) return make_error("shared memory file " + path + ": " + region.error().message);
  region->name_ = path;
  return region;
}

Result<Region> Region::map_fd(int fd, Access access) {
  if (fd < 0) return make_error("cannot map shared memory: invalid fd " + std::to_string(fd));
  std::string what = fd_description(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return make_error(what + ": fstat failed: " + errno_text(err));
  }
  if (st.st_size <= 0) {
    close(fd);
    return make_error(what + ": is empty (size " + std::to_string(st.st_size) +
                      "): nothing to map; was the region created and sized?");
  }
  const auto size = static_cast<size_t>(st.st_size);
  const int prot = access == Access::kReadOnly ? PROT_READ : PROT_READ | PROT_WRITE;
  void* base = mmap(nullptr, size, prot, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int err = errno;
    close(fd);
    return make_error(what + ": mmap of " + std::to_string(size) +
                      " bytes failed: " + errno_text(err) +
                      (err == EACCES ? " (opened read-only but mapped read-write?)" : ""));
  }
  return Region(base, size, fd, access, std::move(what));
}

uint64_t Region::offset_of(const void* p) const {
  const auto addr = reinterpret_cast<uintptr_t>(p);
  const auto start = reinterpret_cast<uintptr_t>(base_);
  if (base_ == nullptr || addr < start || addr - start > size_) return kNoOffset;
  return addr - start;
}

bool Region::size_sealed() const {
  if (fd_ < 0) return false;
  int seals = fcntl(fd_, F_GET_SEALS);
  if (seals < 0) return false;
  return (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) == (F_SEAL_SHRINK | F_SEAL_GROW);
}

}  // namespace vtas::shm
