// The runtime directory of an instance (/run/vtas/<instance>): created 0700, locked by the one
// supervisor that owns it (flock, so a crashed supervisor never blocks the next one), holding
// the control and trace sockets, the resolved manifest, and shared-memory files.
#pragma once

#include <string>

#include "runtime/result.h"

namespace vtas {

class RuntimeDir {
 public:
  RuntimeDir() = default;
  ~RuntimeDir();
  RuntimeDir(RuntimeDir&& other) noexcept;
  RuntimeDir& operator=(RuntimeDir&&) = delete;
  RuntimeDir(const RuntimeDir&) = delete;

  // Creates (if needed) and locks `path`. Fails with the owner's pid when another
  // supervisor holds it.
  static Result<RuntimeDir> claim(const std::string& path);

  const std::string& path() const { return path_; }
  // Empty when the directory is on a memory filesystem (tmpfs, ramfs, hugetlbfs), as it
  // should be; otherwise a warning naming the filesystem, the consequence and the fix.
  std::string storage_warning() const;
  // Writes `content` to path()/name with mode 0600, atomically (write + rename).
  Status write_file(const std::string& name, const std::string& content) const;
  // Removes everything in the directory and the directory itself (at clean shutdown).
  void remove_all();

 private:
  std::string path_;
  int lock_fd_ = -1;
};

}  // namespace vtas
