#include "runtime/supervisor/runtime_dir.h"

#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>

namespace vtas {
namespace {

bool on_tmpfs(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

std::string unique_dir(const std::string& base) {
  return base + "/vtas-runtime-dir-test-" + std::to_string(::getpid());
}

TEST(RuntimeDir, ClaimCreatesAPrivateDirectoryAndLocksIt) {
  const std::string path = unique_dir("/dev/shm");
  auto dir = RuntimeDir::claim(path);
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(std::filesystem::status(path).permissions(), std::filesystem::perms::owner_all);
  auto second = RuntimeDir::claim(path);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("another vtas supervisor"), std::string::npos);
  dir->remove_all();
}

TEST(RuntimeDir, AMemoryFilesystemGivesNoStorageWarning) {
  if (!on_tmpfs("/dev/shm")) GTEST_SKIP() << "/dev/shm is not a tmpfs here";
  const std::string path = unique_dir("/dev/shm");
  auto dir = RuntimeDir::claim(path);
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(dir->storage_warning(), "");
  dir->remove_all();
}

TEST(RuntimeDir, ADiskFilesystemIsWarnedAboutWithTheFix) {
  // The build tree is on a disk wherever it is built from a checkout.
  const std::string base = std::filesystem::current_path().string();
  if (on_tmpfs(base)) GTEST_SKIP() << base << " is a tmpfs here";
  const std::string path = unique_dir(base);
  auto dir = RuntimeDir::claim(path);
  ASSERT_TRUE(dir) << dir.error().message;
  const std::string warning = dir->storage_warning();
  EXPECT_NE(warning.find(path), std::string::npos) << warning;
  EXPECT_NE(warning.find("not on a memory filesystem"), std::string::npos) << warning;
  EXPECT_NE(warning.find("mount -t tmpfs"), std::string::npos) << warning;
  dir->remove_all();
}

}  // namespace
}  // namespace vtas
