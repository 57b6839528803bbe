#include "runtime/shm/abi.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include "runtime/shm/tests/shm_test_helpers.h"

namespace vtas::shm {
namespace {

using testing::Contains;

struct alignas(64) Buffer {
  unsigned char bytes[4096];
};

TEST(RegionHeader, InitThenCheckSucceedsAndRecordsTheFields) {
  Buffer buf{};
  ASSERT_TRUE(init_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kFlowTable, 7,
                                 kRegionFlagHugepages));
  auto* h = reinterpret_cast<const RegionHeader*>(buf.bytes);
  EXPECT_EQ(h->magic, kRegionMagic);
  EXPECT_EQ(std::memcmp(buf.bytes, "VTAS-SHM", 8), 0) << "magic reads as a tag in a hexdump";
  EXPECT_EQ(h->layout_version, 7u);
  EXPECT_EQ(h->header_size, 64u);
  EXPECT_EQ(h->region_size, sizeof(buf.bytes));
  EXPECT_EQ(h->kind, static_cast<uint32_t>(RegionKind::kFlowTable));
  EXPECT_EQ(h->flags, kRegionFlagHugepages);
  EXPECT_EQ(h->creator_pid, static_cast<uint32_t>(getpid()));
  Status s = check_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kFlowTable, 7);
  EXPECT_TRUE(s) << s.error().message;
}

TEST(RegionHeader, InitRejectsTooSmallOrNullRegions) {
  Buffer buf{};
  Status small = init_region_header(buf.bytes, 63, RegionKind::kTest, 1);
  ASSERT_FALSE(small);
  EXPECT_TRUE(Contains(small.error().message, "63"));
  EXPECT_FALSE(init_region_header(nullptr, 4096, RegionKind::kTest, 1));
}

TEST(RegionHeader, ForeignBytesAreNotAVtasRegion) {
  Buffer buf{};
  std::memcpy(buf.bytes, "hello world, I am a text file\n", 30);
  Status s = check_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kTest, 1);
  ASSERT_FALSE(s);
  EXPECT_TRUE(Contains(s.error().message, "not a vtas region"));
}

TEST(RegionHeader, MappingSmallerThanTheHeaderIsRejected) {
  Buffer buf{};
  ASSERT_TRUE(init_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kTest, 1));
  Status s = check_region_header(buf.bytes, 32, RegionKind::kTest, 1);
  ASSERT_FALSE(s);
  EXPECT_TRUE(Contains(s.error().message, "not a vtas region"));
  EXPECT_TRUE(Contains(s.error().message, "32"));
  EXPECT_FALSE(check_region_header(nullptr, 4096, RegionKind::kTest, 1));
}

TEST(RegionHeader, VersionMismatchNamesBothVersionsAndSaysToRestart) {
  Buffer buf{};
  ASSERT_TRUE(init_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kAppContext, 3));
  Status s = check_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kAppContext, 4);
  ASSERT_FALSE(s);
  EXPECT_TRUE(Contains(s.error().message, "version 3"));
  EXPECT_TRUE(Contains(s.error().message, "version 4"));
  EXPECT_TRUE(Contains(s.error().message, "restart"));
  EXPECT_TRUE(Contains(s.error().message, "app-context"));
}

TEST(RegionHeader, KindMismatchNamesBothKinds) {
  Buffer buf{};
  ASSERT_TRUE(init_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kCcState, 1));
  Status s = check_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kFlowTable, 1);
  ASSERT_FALSE(s);
  EXPECT_TRUE(Contains(s.error().message, "cc-state"));
  EXPECT_TRUE(Contains(s.error().message, "flow-table"));
}

TEST(RegionHeader, RegionSizeLargerThanTheMappingIsCorruption) {
  Buffer buf{};
  ASSERT_TRUE(init_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kTest, 1));
  reinterpret_cast<RegionHeader*>(buf.bytes)->region_size = uint64_t{1} << 40;
  Status s = check_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kTest, 1);
  ASSERT_FALSE(s);
  EXPECT_TRUE(Contains(s.error().message, "corrupted"));
  EXPECT_TRUE(Contains(s.error().message, std::to_string(uint64_t{1} << 40)));
  EXPECT_TRUE(Contains(s.error().message, "4096"));
}

TEST(RegionHeader, GarbageHeaderSizeIsCorruption) {
  Buffer buf{};
  ASSERT_TRUE(init_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kTest, 1));
  auto* h = reinterpret_cast<RegionHeader*>(buf.bytes);
  for (uint32_t bad : {0u, 63u, 5000u, UINT32_MAX}) {
    h->header_size = bad;
    Status s = check_region_header(buf.bytes, sizeof(buf.bytes), RegionKind::kTest, 1);
    ASSERT_FALSE(s) << bad;
    EXPECT_TRUE(Contains(s.error().message, "corrupted")) << bad;
  }
}

TEST(RegionHeader, UnknownKindHasAName) {
  EXPECT_STREQ(region_kind_name(static_cast<RegionKind>(9999)), "unknown");
  EXPECT_STREQ(region_kind_name(RegionKind::kConnRegistry), "conn-registry");
}

}  // namespace
}  // namespace vtas::shm
