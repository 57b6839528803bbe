#include "runtime/supervisor/runtime_dir.h"

#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace vtas {
namespace {

std::string errno_text() { return ::strerror(errno); }

}  // namespace

RuntimeDir::~RuntimeDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

RuntimeDir::RuntimeDir(RuntimeDir&& other) noexcept
    : path_(std::move(other.path_)), lock_fd_(other.lock_fd_) {
  other.lock_fd_ = -1;
}

Result<RuntimeDir> RuntimeDir::claim(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error("cannot create runtime directory " + path + ": " + errno_text() +
                      " (run as root, or choose another directory with --runtime-dir)");
  }
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error("runtime directory " + path + " is not a directory");
  }
  if (st.st_uid != ::geteuid()) {
    return make_error("runtime directory " + path + " belongs to uid " +
                      std::to_string(st.st_uid) + ", not to this user: refusing to use it");
  }
  ::chmod(path.c_str(), 0700);
  RuntimeDir dir;
  dir.path_ = path;
  std::string lock_path = path + "/supervisor.lock";
  dir.lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (dir.lock_fd_ < 0) return make_error("cannot open " + lock_path + ": " + errno_text());
  if (::flock(dir.lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    [[maybe_unused]] auto n = ::pread(dir.lock_fd_, buf, sizeof(buf) - 1, 0);
    return make_error("another vtas supervisor (pid " + std::string(buf[0] ? buf : "?") +
                      ") is already running in " + path +
                      "; stop it first or use a different --instance");
  }
  std::string pid = std::to_string(::getpid());
  [[maybe_unused]] auto t = ::ftruncate(dir.lock_fd_, 0);
  [[maybe_unused]] auto w = ::pwrite(dir.lock_fd_, pid.data(), pid.size(), 0);
  return dir;
}

std::string RuntimeDir::storage_warning() const {
  struct statfs fs {};
  if (::statfs(path_.c_str(), &fs) != 0) return "";
  if (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC || fs.f_type == HUGETLBFS_MAGIC) return "";
  // The flow table, the conn registry and the cc state are shared-memory files here. On a
  // disk, the kernel writes their dirty pages back, and the next write to such a page waits
  // for the filesystem (a journal commit, a slow virtual disk): the actors stand still.
  char type[32];
  std::snprintf(type, sizeof(type), "0x%lx", static_cast<unsigned long>(fs.f_type));
  return "runtime directory " + path_ + " is not on a memory filesystem (filesystem type " +
         type + "): its shared-memory files will be written back to the disk, and actors can "
         "stall for as long as a disk write takes. Use a tmpfs: mount one there "
         "(mount -t tmpfs -o mode=0755 tmpfs " + std::filesystem::path(path_).parent_path().string() +
         ") or choose one under /dev/shm (--runtime-dir, or runtime_dir in the manifest)";
}

Status RuntimeDir::write_file(const std::string& name, const std::string& content) const {
  std::string final_path = path_ + "/" + name;
  std::string tmp = final_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("cannot write " + tmp + ": " + errno_text());
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return make_error("cannot write " + tmp + ": " + errno_text());
    }
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0600);
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    return make_error("cannot rename " + tmp + ": " + errno_text());
  }
  return Status();
}

void RuntimeDir::remove_all() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace vtas
