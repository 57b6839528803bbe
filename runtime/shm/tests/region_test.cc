#include "runtime/shm/region.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/shm/abi.h"
#include "runtime/shm/tests/shm_test_helpers.h"

namespace vtas::shm {
namespace {

using testing::Contains;

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

// A private temporary directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vtas-shm-test-XXXXXX";
    char* made = mkdtemp(tmpl);
    EXPECT_NE(made, nullptr);
    if (made != nullptr) path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Restores the process umask when the test ends.
class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : old_(umask(mask)) {}
  ~UmaskGuard() { umask(old_); }

 private:
  mode_t old_;
};

mode_t file_mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

uint64_t hugepages_free() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t value = 0;
  while (meminfo >> key) {
    if (key == "HugePages_Free:") {
      meminfo >> value;
      return value;
    }
  }
  return 0;
}

TEST(Region, MemfdIsRoundedToPagesZeroedWritableAndSizeSealed) {
  auto r = Region::create_memfd("region-test", 100, false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->size(), kPage);
  EXPECT_NE(r->base(), nullptr);
  EXPECT_GE(r->fd(), 0);
  EXPECT_EQ(r->access(), Access::kReadWrite);
  EXPECT_TRUE(Contains(r->name(), "region-test"));
  auto* bytes = static_cast<unsigned char*>(r->base());
  for (size_t i = 0; i < r->size(); ++i) ASSERT_EQ(bytes[i], 0) << i;
  bytes[r->size() - 1] = 0xAB;
  EXPECT_TRUE(r->size_sealed());
  EXPECT_NE(ftruncate(r->fd(), 0), 0) << "a sealed memfd cannot be shrunk under our mapping";
}

TEST(Region, RejectsZeroAndAbsurdSizes) {
  auto zero = Region::create_memfd("zero", 0, false);
  ASSERT_FALSE(zero);
  EXPECT_TRUE(Contains(zero.error().message, "size 0"));
  auto huge = Region::create_memfd("absurd", SIZE_MAX - 5, false);
  ASSERT_FALSE(huge);
  EXPECT_TRUE(Contains(huge.error().message, "too large"));
}

TEST(Region, HugepageMemfdWorksOrExplainsHowToGetHugepages) {
  auto r = Region::create_memfd("huge-test", 1, true);
  if (hugepages_free() == 0) {
    ASSERT_FALSE(r);
    EXPECT_TRUE(Contains(r.error().message, "echo 256 > /proc/sys/vm/nr_hugepages"));
    EXPECT_TRUE(Contains(r.error().message, "--fp-no-hugepages"));
    EXPECT_TRUE(Contains(r.error().message, "huge-test"));
  } else {
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->size(), size_t{2} << 20);
  }
}

TEST(Region, MapFdSeesTheSameBytesAtAnotherAddress) {
  auto creator = Region::create_memfd("shared", 3 * kPage, false);
  ASSERT_TRUE(creator) << creator.error().message;
  auto attacher = Region::map_fd(dup(creator->fd()), Access::kReadWrite);
  ASSERT_TRUE(attacher) << attacher.error().message;
  EXPECT_EQ(attacher->size(), creator->size());
  EXPECT_NE(attacher->base(), creator->base());
  uint64_t* written = creator->at<uint64_t>(kPage);
  const uint64_t* seen = attacher->at<uint64_t>(kPage);
  ASSERT_NE(written, nullptr);
  ASSERT_NE(seen, nullptr);
  *written = 0x1122334455667788ull;
  EXPECT_EQ(*seen, 0x1122334455667788ull);
  uint32_t* back = attacher->at<uint32_t>(8);
  const uint32_t* back_seen = creator->at<uint32_t>(8);
  ASSERT_NE(back, nullptr);
  ASSERT_NE(back_seen, nullptr);
  *back = 42;
  EXPECT_EQ(*back_seen, 42u);
}

TEST(Region, ReadOnlyMappingFaultsOnWrite) {
  auto creator = Region::create_memfd("ro", kPage, false);
  ASSERT_TRUE(creator) << creator.error().message;
  auto ro = Region::map_fd(dup(creator->fd()), Access::kReadOnly);
  ASSERT_TRUE(ro) << ro.error().message;
  EXPECT_EQ(ro->access(), Access::kReadOnly);
  uint32_t* writable = creator->at<uint32_t>(0);
  volatile uint32_t* readonly = ro->at<uint32_t>(0);
  ASSERT_NE(writable, nullptr);
  ASSERT_NE(readonly, nullptr);
  *writable = 7;
  EXPECT_EQ(*readonly, 7u);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(*readonly = 1, "");
}

TEST(Region, MapFdRejectsBadAndEmptyFds) {
  auto bad = Region::map_fd(-1, Access::kReadWrite);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(Contains(bad.error().message, "-1"));

  TempDir dir;
  const std::string path = dir.file("empty");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  auto empty = Region::map_fd(fd, Access::kReadWrite);  // takes fd, closes it on failure
  ASSERT_FALSE(empty);
  EXPECT_TRUE(Contains(empty.error().message, "empty"));
  EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "map_fd must close the fd it was given when it fails";
}

TEST(Region, ContainsIsOverflowSafe) {
  auto r = Region::create_memfd("bounds", kPage, false);
  ASSERT_TRUE(r) << r.error().message;
  const uint64_t size = r->size();
  EXPECT_TRUE(r->contains(0, size));
  EXPECT_TRUE(r->contains(size - 8, 8));
  EXPECT_TRUE(r->contains(size, 0));
  EXPECT_FALSE(r->contains(size, 1));
  EXPECT_FALSE(r->contains(size + 1, 0));
  EXPECT_FALSE(r->contains(1, size));
  EXPECT_FALSE(r->contains(size - 8, 9));
  EXPECT_FALSE(r->contains(UINT64_MAX, 0));
  EXPECT_FALSE(r->contains(UINT64_MAX, 1));
  EXPECT_FALSE(r->contains(1, UINT64_MAX));
  EXPECT_FALSE(r->contains(UINT64_MAX - 7, 16)) << "offset + length wraps to 8";
  EXPECT_FALSE(r->contains(16, UINT64_MAX - 15)) << "offset + length wraps to 0";
}

TEST(Region, AtChecksBoundsAndAlignment) {
  auto r = Region::create_memfd("at", kPage, false);
  ASSERT_TRUE(r) << r.error().message;
  auto* base = static_cast<char*>(r->base());
  const uint64_t size = r->size();
  EXPECT_EQ(r->at<uint64_t>(0), reinterpret_cast<uint64_t*>(base));
  EXPECT_EQ(r->at<uint64_t>(size - 8), reinterpret_cast<uint64_t*>(base + size - 8));
  EXPECT_EQ(r->at<uint64_t>(size - 4), nullptr) << "would run 4 bytes past the end";
  EXPECT_EQ(r->at<uint64_t>(size), nullptr);
  EXPECT_EQ(r->at<uint64_t>(4), nullptr) << "misaligned for uint64_t";
  EXPECT_NE(r->at<uint32_t>(4), nullptr);
  EXPECT_NE(r->at<char>(size - 1), nullptr);
  EXPECT_EQ(r->at<char>(size), nullptr);
  for (uint64_t off : {UINT64_MAX, UINT64_MAX - 7, UINT64_MAX - 8, UINT64_MAX - size}) {
    EXPECT_EQ(r->at<uint64_t>(off), nullptr) << off;
    EXPECT_EQ(r->at<char>(off), nullptr) << off;
  }
  struct alignas(64) Line {
    char bytes[64];
  };
  EXPECT_NE(r->at<Line>(64), nullptr);
  EXPECT_EQ(r->at<Line>(32), nullptr);
  EXPECT_EQ(r->at<Line>(size - 32), nullptr);
}

TEST(Region, OffsetOfRoundTripsAndRejectsForeignPointers) {
  auto r = Region::create_memfd("offsets", kPage, false);
  ASSERT_TRUE(r) << r.error().message;
  auto* base = static_cast<char*>(r->base());
  EXPECT_EQ(r->offset_of(base), 0u);
  EXPECT_EQ(r->offset_of(base + 100), 100u);
  EXPECT_EQ(r->at<char>(r->offset_of(base + 100)), base + 100);
  EXPECT_EQ(r->offset_of(base + r->size()), r->size());
  EXPECT_EQ(r->offset_of(base + r->size() + 1), kNoOffset);
  int local = 0;
  EXPECT_EQ(r->offset_of(&local), kNoOffset);
  EXPECT_EQ(r->offset_of(nullptr), kNoOffset);
}

TEST(Region, MoveTransfersOwnership) {
  auto r = Region::create_memfd("move", kPage, false);
  ASSERT_TRUE(r) << r.error().message;
  void* base = r->base();
  const int fd = r->fd();
  Region moved = std::move(r.value());
  EXPECT_EQ(moved.base(), base);
  EXPECT_EQ(moved.fd(), fd);
  EXPECT_EQ(r->base(), nullptr);  // NOLINT: checking the moved-from state on purpose
  EXPECT_EQ(r->fd(), -1);
  EXPECT_EQ(r->offset_of(base), kNoOffset);
  EXPECT_FALSE(r->contains(0, 1));
}

TEST(Region, CreateFileHasExactlyTheModeWhateverTheUmask) {
  TempDir dir;
  {
    UmaskGuard open_umask(0);
    auto r = Region::create_file(dir.file("umask0"), 100);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(file_mode(dir.file("umask0")), 0600u);
    EXPECT_EQ(r->size(), kPage);
  }
  {
    UmaskGuard strict_umask(077);
    auto r = Region::create_file(dir.file("umask077"), 100, 0640);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(file_mode(dir.file("umask077")), 0640u);
  }
}

TEST(Region, CreateFileReplacesAStaleFile) {
  TempDir dir;
  const std::string path = dir.file("stale");
  {
    std::ofstream stale(path);
    stale << "left over from a crashed run";
  }
  struct stat before {};
  ASSERT_EQ(stat(path.c_str(), &before), 0);
  auto r = Region::create_file(path, 2 * kPage);
  ASSERT_TRUE(r) << r.error().message;
  struct stat after {};
  ASSERT_EQ(stat(path.c_str(), &after), 0);
  EXPECT_EQ(static_cast<size_t>(after.st_size), 2 * kPage);
  EXPECT_EQ(static_cast<const char*>(r->base())[0], 0) << "the old content is gone";
}

TEST(Region, CreateFileDoesNotFollowASymlink) {
  TempDir dir;
  const std::string victim = dir.file("victim");
  {
    std::ofstream out(victim);
    out << "precious";
  }
  ASSERT_EQ(symlink(victim.c_str(), dir.file("link").c_str()), 0);
  auto r = Region::create_file(dir.file("link"), kPage);
  ASSERT_TRUE(r) << r.error().message;
  std::ifstream in(victim);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST(Region, OpenFileSharesTheCreatorsBytes) {
  TempDir dir;
  const std::string path = dir.file("shared");
  auto creator = Region::create_file(path, kPage);
  ASSERT_TRUE(creator) << creator.error().message;
  ASSERT_TRUE(init_region_header(creator->base(), creator->size(), RegionKind::kTest, 2));
  auto attacher = Region::open_file(path, Access::kReadOnly);
  ASSERT_TRUE(attacher) << attacher.error().message;
  EXPECT_EQ(attacher->name(), path);
  Status s = check_region_header(attacher->base(), attacher->size(), RegionKind::kTest, 2);
  EXPECT_TRUE(s) << s.error().message;
}

TEST(Region, OpenFileOfANonVtasFileFailsTheHeaderCheck) {
  TempDir dir;
  const std::string path = dir.file("notes.txt");
  {
    std::ofstream out(path);
    for (int i = 0; i < 200; ++i) out << "this is just a text file, line " << i << "\n";
  }
  auto r = Region::open_file(path, Access::kReadOnly);
  ASSERT_TRUE(r) << r.error().message;
  Status s = check_region_header(r->base(), r->size(), RegionKind::kTest, 1);
  ASSERT_FALSE(s);
  EXPECT_TRUE(Contains(s.error().message, "not a vtas region"));
}

TEST(Region, OpenFileOfAMissingPathNamesIt) {
  auto r = Region::open_file("/nonexistent/vtas/region", Access::kReadWrite);
  ASSERT_FALSE(r);
  EXPECT_TRUE(Contains(r.error().message, "/nonexistent/vtas/region"));
  EXPECT_TRUE(Contains(r.error().message, "No such file"));
}

}  // namespace
}  // namespace vtas::shm
