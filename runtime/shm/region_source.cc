#include "runtime/shm/region_source.h"

#include <sys/stat.h>

namespace vtas::shm {

Result<Region> FileRegionSource::open() { return Region::open_file(path_, Access::kReadWrite); }

bool FileRegionSource::is_current(const Region& mapped) const {
  struct stat now_at_path {};
  struct stat ours {};
  if (::stat(path_.c_str(), &now_at_path) != 0) return false;
  if (mapped.fd() < 0 || ::fstat(mapped.fd(), &ours) != 0) return false;
  return now_at_path.st_dev == ours.st_dev && now_at_path.st_ino == ours.st_ino;
}

}  // namespace vtas::shm
