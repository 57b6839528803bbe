#include "components/slowpath/conn_registry.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include "components/slowpath/tests/conn_test_support.h"

namespace vtas::conn {
namespace {

using testing::TempDir;

RegistryCapacity small() {
  RegistryCapacity c;
  c.apps = 4;
  c.listeners = 4;
  c.accepts = 4;
  c.conns = 8;
  c.time_wait = 4;
  c.request_log = 4;
  c.handshakes = 4;
  return c;
}

ListenerRecord listener(uint32_t id, uint16_t port) {
  ListenerRecord r{};
  r.listener_id = id;
  r.app_id = 3;
  r.local_port = port;
  r.backlog = 8;
  r.order = id;
  return r;
}

TEST(ConnRegistry, FreshRegistryIsEmptyWithAFile) {
  TempDir dir;
  const std::string path = dir.path() + "/r";
  auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kResume);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->resumed());
  EXPECT_EQ(access(path.c_str(), R_OK | W_OK), 0);
  auto contents = r->take_contents();
  EXPECT_FALSE(contents.has_meta);
  EXPECT_TRUE(contents.listeners.empty());
  EXPECT_EQ(r->listeners().used(), 0u);
  EXPECT_EQ(r->listeners().capacity(), 4u);
}

TEST(ConnRegistry, ResumeReturnsWhatWasWritten) {
  TempDir dir;
  const std::string path = dir.path() + "/r";
  SlotId erased = kNoSlot;
  {
    auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kFresh);
    ASSERT_TRUE(r);
    MetaRecord meta{};
    meta.isn_key0 = 77;
    meta.next_conn_id = 9;
    r->store_meta(meta);
    meta.next_conn_id = 10;  // an update of the meta slot
    r->store_meta(meta);
    auto a = r->listeners().insert(listener(1, 80));
    auto b = r->listeners().insert(listener(2, 81));
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, 0u);  // lowest slot first
    EXPECT_EQ(*b, 1u);
    ListenerRecord changed = listener(2, 8080);
    r->listeners().update(*b, changed);
    erased = *a;
    r->listeners().erase(*a);
    ConnRecord c{};
    c.conn_id = 4;
    c.state = static_cast<uint8_t>(ConnState::kSynSent);
    ASSERT_TRUE(r->conns().insert(c));
  }
  auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kResume);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->resumed());
  auto contents = r->take_contents();
  ASSERT_TRUE(contents.has_meta);
  EXPECT_EQ(contents.meta.isn_key0, 77u);
  EXPECT_EQ(contents.meta.next_conn_id, 10u);
  ASSERT_EQ(contents.listeners.size(), 1u);
  EXPECT_EQ(contents.listeners[0].second.listener_id, 2u);
  EXPECT_EQ(contents.listeners[0].second.local_port, 8080);
  ASSERT_EQ(contents.conns.size(), 1u);
  EXPECT_EQ(contents.conns[0].second.conn_id, 4u);
  EXPECT_EQ(contents.dropped_corrupt(), 0u);
  // The erased slot is free again and is the first to be reused.
  auto again = r->listeners().insert(listener(5, 90));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, erased);
}

TEST(ConnRegistry, FreshModeIgnoresTheFile) {
  TempDir dir;
  const std::string path = dir.path() + "/r";
  {
    auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kFresh);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->listeners().insert(listener(1, 80)));
  }
  auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kFresh);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->resumed());
  EXPECT_TRUE(r->take_contents().listeners.empty());
}

TEST(ConnRegistry, TornWriteKeepsThePreviousVersion) {
  TempDir dir;
  const std::string path = dir.path() + "/r";
  {
    auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kFresh);
    ASSERT_TRUE(r);
    auto slot = r->listeners().insert(listener(1, 80));
    ASSERT_TRUE(slot);
    r->listeners().update(*slot, listener(1, 81));  // goes to the other copy
    // Simulate a crash in the middle of the second write: half of its record is garbage.
    auto* raw = r->listeners().raw_slot(*slot);
    SlotCopy<ListenerRecord>* newest =
        raw->copies[0].generation > raw->copies[1].generation ? &raw->copies[0] : &raw->copies[1];
    newest->record.local_port = 9999;
  }
  auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kResume);
  ASSERT_TRUE(r);
  auto contents = r->take_contents();
  ASSERT_EQ(contents.listeners.size(), 1u);
  EXPECT_EQ(contents.listeners[0].second.local_port, 80);
  bool counted = false;
  for (const auto& [name, stats] : contents.stats) {
    if (name == "listeners") counted = stats.recovered_older == 1 && stats.dropped_corrupt == 0;
  }
  EXPECT_TRUE(counted);
}

TEST(ConnRegistry, SlotWithNoValidCopyIsDroppedAndCounted) {
  TempDir dir;
  const std::string path = dir.path() + "/r";
  {
    auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kFresh);
    ASSERT_TRUE(r);
    auto a = r->listeners().insert(listener(1, 80));
    auto b = r->listeners().insert(listener(2, 81));
    ASSERT_TRUE(a && b);
    auto* raw = r->listeners().raw_slot(*a);
    raw->copies[0].checksum ^= 1;
    raw->copies[1].checksum ^= 1;  // never written: generation 0 stays "empty"
    raw->copies[1].generation = 5;
  }
  auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kResume);
  ASSERT_TRUE(r);
  auto contents = r->take_contents();
  ASSERT_EQ(contents.listeners.size(), 1u);
  EXPECT_EQ(contents.listeners[0].second.listener_id, 2u);
  EXPECT_EQ(contents.dropped_corrupt(), 1u);
  // The dropped slot is free for new records.
  EXPECT_EQ(r->listeners().used(), 1u);
}

TEST(ConnRegistry, RecordCopiedToAnotherSlotDoesNotValidate) {
  TempDir dir;
  const std::string path = dir.path() + "/r";
  {
    auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kFresh);
    ASSERT_TRUE(r);
    auto a = r->listeners().insert(listener(1, 80));
    ASSERT_TRUE(a);
    auto* from = r->listeners().raw_slot(*a);
    auto* to = r->listeners().raw_slot(3);
    std::memcpy(to, from, sizeof *to);
  }
  auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kResume);
  ASSERT_TRUE(r);
  auto contents = r->take_contents();
  EXPECT_EQ(contents.listeners.size(), 1u);
  EXPECT_EQ(contents.dropped_corrupt(), 1u);
}

TEST(ConnRegistry, GarbageFileIsReplacedWithAReason) {
  TempDir dir;
  const std::string path = dir.path() + "/r";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  std::string junk(8192, 'x');
  ASSERT_EQ(write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  ::close(fd);
  auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kResume);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->resumed());
  EXPECT_NE(r->fresh_reason().find("not resumed"), std::string::npos);
  EXPECT_TRUE(r->listeners().insert(listener(1, 80)));
}

TEST(ConnRegistry, CorruptCapacitiesInTheHeaderAreNotTrusted) {
  TempDir dir;
  const std::string path = dir.path() + "/r";
  {
    auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kFresh);
    ASSERT_TRUE(r);
  }
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const uint32_t huge = 0xffffffffu;
  ASSERT_EQ(pwrite(fd, &huge, sizeof huge, kRegistryHeaderOffset + offsetof(RegistryHeader, conns)),
            4);
  ::close(fd);
  auto r = ConnRegistry::open(path, small(), ConnRegistry::Mode::kResume);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->resumed());
  EXPECT_NE(r->fresh_reason().find("conns"), std::string::npos);
}

TEST(ConnRegistry, FullTableIsAnError) {
  TempDir dir;
  auto r = ConnRegistry::open(dir.path() + "/r", small(), ConnRegistry::Mode::kFresh);
  ASSERT_TRUE(r);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(r->listeners().insert(listener(i + 1, 80)));
  EXPECT_TRUE(r->listeners().full());
  auto fifth = r->listeners().insert(listener(9, 80));
  ASSERT_FALSE(fifth);
  EXPECT_NE(fifth.error().message.find("full"), std::string::npos);
}

TEST(ConnRegistry, BadCapacityOrPathIsAnError) {
  TempDir dir;
  RegistryCapacity c = small();
  c.conns = 0;
  EXPECT_FALSE(ConnRegistry::open(dir.path() + "/r", c, ConnRegistry::Mode::kFresh));
  EXPECT_FALSE(
      ConnRegistry::open(dir.path() + "/no/such/dir/r", small(), ConnRegistry::Mode::kFresh));
}

}  // namespace
}  // namespace vtas::conn
