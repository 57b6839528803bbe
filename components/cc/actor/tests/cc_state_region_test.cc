#include "components/cc/actor/cc_state_region.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "runtime/shm/abi.h"

namespace vtas::cc {
namespace {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/cc-state-test-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

CcFlowState record(uint64_t key, uint32_t rate) {
  CcFlowState s{};
  s.algorithm = 1;
  s.flow_key = key;
  s.rate_kbps = rate;
  seal(s);
  return s;
}

TEST(CcStateRegionTest, ANewFileIsBlankAndRecordsRoundTrip) {
  TempDir dir;
  auto r = CcStateRegion::open_or_create(dir.file("cc.state"), 64, 1234);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->reused());
  EXPECT_FALSE(r->fresh_reason().empty());
  EXPECT_EQ(r->slots(), 64u);
  EXPECT_EQ(check_resumable(r->read(5), 0), ResumeCheck::kBlank);
  r->write(5, record(0xabc, 7000));
  EXPECT_EQ(r->read(5).rate_kbps, 7000u);
  EXPECT_EQ(check_resumable(r->read(5), 0xabc), ResumeCheck::kResumable);
  // Out of range: blank on read, ignored on write.
  r->write(64, record(1, 1));
  EXPECT_EQ(r->read(64).magic, 0u);
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("cc.state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(CcStateRegionTest, ASecondIncarnationFindsTheRecordsOfTheFirst) {
  TempDir dir;
  {
    auto first = CcStateRegion::open_or_create(dir.file("cc.state"), 32, 1);
    ASSERT_TRUE(first);
    first->write(3, record(0x33, 33000));
    first->write(4, record(0x44, 44000));
    first->clear(4);
  }
  auto second = CcStateRegion::open_or_create(dir.file("cc.state"), 32, 2);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->reused());
  EXPECT_EQ(check_resumable(second->read(3), 0x33), ResumeCheck::kResumable);
  EXPECT_EQ(second->read(3).rate_kbps, 33000u);
  EXPECT_EQ(check_resumable(second->read(4), 0x44), ResumeCheck::kBlank);
}

TEST(CcStateRegionTest, ThePolicyIsKeptForTheTableItWasSetUnder) {
  TempDir dir;
  const TableIdentity table{1, 2, 3, 0};
  const TableIdentity other{1, 5, 3, 0};
  {
    auto first = CcStateRegion::open_or_create(dir.file("cc.state"), 8, 1);
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->read_policy(table));
    ASSERT_TRUE(first->write_policy("policy-bytes", table));
    EXPECT_FALSE(first->write_policy(std::string(kCcPolicyMaxBytes + 1, 'x'), table));
  }
  auto second = CcStateRegion::open_or_create(dir.file("cc.state"), 8, 2);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->read_policy(table), "policy-bytes");
  EXPECT_FALSE(second->read_policy(other));
  // A torn policy block is not used.
  const int fd = ::open(dir.file("cc.state").c_str(), O_RDWR);
  const char junk = 'Z';
  ASSERT_EQ(::pwrite(fd, &junk, 1, static_cast<off_t>(kCcPolicyOffset + 64 + 3)), 1);
  ::close(fd);
  EXPECT_FALSE(second->read_policy(table));
}

TEST(CcStateRegionTest, AFileForAnotherTableSizeIsReplaced) {
  TempDir dir;
  {
    auto first = CcStateRegion::open_or_create(dir.file("cc.state"), 32, 1);
    ASSERT_TRUE(first);
    first->write(3, record(0x33, 33000));
  }
  auto second = CcStateRegion::open_or_create(dir.file("cc.state"), 64, 2);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->reused());
  EXPECT_NE(second->fresh_reason().find("32"), std::string::npos) << second->fresh_reason();
  EXPECT_EQ(check_resumable(second->read(3), 0x33), ResumeCheck::kBlank);
}

TEST(CcStateRegionTest, GarbageAtThePathIsReplacedNotTrusted) {
  TempDir dir;
  {
    std::ofstream junk(dir.file("cc.state"));
    junk << std::string(100000, 'x');
  }
  auto r = CcStateRegion::open_or_create(dir.file("cc.state"), 16, 1);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->reused());
  EXPECT_EQ(check_resumable(r->read(0), 0), ResumeCheck::kBlank);
}

TEST(CcStateRegionTest, RefusesImpossibleSizesAndUnwritableDirectories) {
  TempDir dir;
  EXPECT_FALSE(CcStateRegion::open_or_create(dir.file("cc.state"), 0, 1));
  auto bad = CcStateRegion::open_or_create("/nonexistent-dir/cc.state", 16, 1);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("/nonexistent-dir/cc.state"), std::string::npos);
}

}  // namespace
}  // namespace vtas::cc
