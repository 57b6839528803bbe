#include "components/cc/actor/flow_table_source.h"

#include <sys/stat.h>

namespace vtas::cc {

Result<shm::Region> FileFlowTableSource::open() {
  return shm::Region::open_file(path_, shm::Access::kReadWrite);
}

bool FileFlowTableSource::is_current(const shm::Region& mapped) const {
  struct stat now_at_path {};
  struct stat ours {};
  if (::stat(path_.c_str(), &now_at_path) != 0) return false;
  if (mapped.fd() < 0 || ::fstat(mapped.fd(), &ours) != 0) return false;
  return now_at_path.st_dev == ours.st_dev && now_at_path.st_ino == ours.st_ino;
}

}  // namespace vtas::cc
