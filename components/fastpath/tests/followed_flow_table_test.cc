#include "components/fastpath/followed_flow_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/support/test_runner.h"

namespace vtas::fastpath {
namespace {

using std::chrono::milliseconds;
using vtas::testing::TestRunner;

// A flow table in a memfd, as the fast path lays it out; `replace()` plays a restarted fast
// path that created a new table in place of the old one.
struct FastPathTables {
  shm::Region make(uint32_t max_flows) {
    return *shm::Region::create_memfd("followed-test-flows", FlowTable::region_bytes(max_flows),
                                      false);
  }
  void create(uint32_t max_flows) {
    region.emplace(make(max_flows));
    table.emplace(*FlowTable::create(*region, max_flows));
    available = true;
  }
  void replace(uint32_t max_flows) {
    table.reset();
    create(max_flows);
    ++generation;
  }
  std::optional<shm::Region> region;
  std::optional<FlowTable> table;
  bool available = false;
  int generation = 0;
};

// Maps whatever table `tables` holds now; a mapping is current while its generation is.
class TestSource final : public shm::RegionSource {
 public:
  explicit TestSource(const FastPathTables* tables) : tables_(tables) {}
  Result<shm::Region> open() override {
    if (!tables_->available) return make_error("no such file (test)");
    mapped_generation_ = tables_->generation;
    return shm::Region::map_fd(::dup(tables_->region->fd()), shm::Access::kReadWrite);
  }
  bool is_current(const shm::Region&) const override {
    return mapped_generation_ == tables_->generation;
  }
  std::string describe() const override { return "test-memfd"; }

 private:
  const FastPathTables* tables_;
  int mapped_generation_ = -1;
};

// The smallest actor that follows a table, recording what its callbacks saw.
class FollowingActor final : public Actor {
 public:
  FollowingActor(const FastPathTables* tables, bool* refuse_attach)
      : Actor("follower"),
        flows(std::make_unique<TestSource>(tables)),
        refuse_attach_(refuse_attach) {
    on(&FollowingActor::handle_actor_event);
  }

  Status on_start() override {
    flows.start(io(), log(), FollowedFlowTable::Timing{milliseconds(100), milliseconds(1000)},
                {.attached =
                     [this]() -> Status {
                       if (*refuse_attach_) return make_error("state file unusable (test)");
                       attached_sizes.push_back(flows.max_flows());
                       return Status();
                     },
                 .detaching = [this](const char* why) { detach_reasons.emplace_back(why); }});
    return Status();
  }

  void handle_actor_event(const supervisor::ActorEvent& m, const Incoming&) {
    flows.on_actor_event(m, "fastpath");
  }

  FollowedFlowTable flows;
  std::vector<uint32_t> attached_sizes;
  std::vector<std::string> detach_reasons;

 private:
  bool* refuse_attach_;
};

supervisor::ActorEvent started(const std::string& actor) {
  supervisor::ActorEvent m;
  m.set_actor(actor);
  m.set_kind(supervisor::ActorEvent::KIND_STARTED);
  return m;
}

struct Fixture {
  FastPathTables tables;
  bool refuse_attach = false;
  FollowingActor actor{&tables, &refuse_attach};
  TestRunner runner{actor};
};

TEST(FollowedFlowTable, AttachesAtStartWhenTheTableIsThere) {
  Fixture f;
  f.tables.create(64);
  ASSERT_TRUE(f.runner.start());
  EXPECT_TRUE(f.actor.flows.attached());
  EXPECT_EQ(f.actor.flows.max_flows(), 64u);
  EXPECT_EQ(f.actor.attached_sizes, std::vector<uint32_t>{64});
  EXPECT_EQ(f.actor.flows.attaches(), 1u);
}

TEST(FollowedFlowTable, RetriesUntilTheFastPathCreatesTheTable) {
  Fixture f;
  ASSERT_TRUE(f.runner.start());
  EXPECT_FALSE(f.actor.flows.attached());
  EXPECT_EQ(f.actor.flows.core_counter_sum(&abi::CoreCounters::tx_packets), 0u);
  f.runner.advance(milliseconds(250));
  EXPECT_FALSE(f.actor.flows.attached());
  f.tables.create(32);
  f.runner.advance(milliseconds(49));  // the next retry is at 300 ms
  EXPECT_FALSE(f.actor.flows.attached());
  f.runner.advance(milliseconds(1));
  EXPECT_TRUE(f.actor.flows.attached());
  EXPECT_EQ(f.actor.attached_sizes, std::vector<uint32_t>{32});
  // Attached: the retries stop (no second attach while the table stays current).
  f.runner.advance(milliseconds(2000));
  EXPECT_EQ(f.actor.flows.attaches(), 1u);
}

TEST(FollowedFlowTable, AFailingAttachedCallbackGivesTheTableUpAndRetries) {
  Fixture f;
  f.tables.create(16);
  f.refuse_attach = true;
  ASSERT_TRUE(f.runner.start());
  EXPECT_FALSE(f.actor.flows.attached());
  f.refuse_attach = false;
  f.runner.advance(milliseconds(100));
  EXPECT_TRUE(f.actor.flows.attached());
  EXPECT_EQ(f.actor.attached_sizes, std::vector<uint32_t>{16});
}

TEST(FollowedFlowTable, FollowsATableReplacedByARestartedFastPathAtTheNextCheck) {
  Fixture f;
  f.tables.create(64);
  ASSERT_TRUE(f.runner.start());
  f.tables.replace(128);
  f.runner.advance(milliseconds(999));
  EXPECT_EQ(f.actor.flows.max_flows(), 64u);  // the old mapping until the check
  f.runner.advance(milliseconds(1));
  EXPECT_EQ(f.actor.flows.max_flows(), 128u);
  EXPECT_EQ(f.actor.attached_sizes, (std::vector<uint32_t>{64, 128}));
  EXPECT_EQ(f.actor.detach_reasons, std::vector<std::string>{"the fast path re-created it"});
}

TEST(FollowedFlowTable, FollowsAtOnceWhenTheFastPathReportsARestart) {
  Fixture f;
  f.tables.create(64);
  ASSERT_TRUE(f.runner.start());
  f.tables.replace(256);
  f.runner.deliver_event("supervisor", started("arp"));  // not the fast path: ignored
  EXPECT_EQ(f.actor.flows.max_flows(), 64u);
  f.runner.deliver_event("supervisor", started("fastpath"));
  EXPECT_EQ(f.actor.flows.max_flows(), 256u);
  EXPECT_EQ(f.actor.flows.attaches(), 2u);
}

TEST(FollowedFlowTable, DetachLeavesTheTableUntilTheNextFollow) {
  Fixture f;
  f.tables.create(8);
  ASSERT_TRUE(f.runner.start());
  f.actor.flows.detach("test");
  EXPECT_FALSE(f.actor.flows.attached());
  EXPECT_EQ(f.actor.detach_reasons, std::vector<std::string>{"test"});
  f.actor.flows.detach("twice");  // nothing mapped: no callback
  EXPECT_EQ(f.actor.detach_reasons.size(), 1u);
  f.runner.advance(milliseconds(1000));  // the periodic check maps it again
  EXPECT_TRUE(f.actor.flows.attached());
}

TEST(FollowedFlowTable, SumsOneCoreCounterOverEveryCore) {
  Fixture f;
  f.tables.create(8);
  ASSERT_TRUE(f.runner.start());
  f.tables.table->core_counters(0)->tx_packets = 5;
  f.tables.table->core_counters(abi::kMaxFastPathCores - 1)->tx_packets = 7;
  f.tables.table->core_counters(1)->exceptions = 100;
  EXPECT_EQ(f.actor.flows.core_counter_sum(&abi::CoreCounters::tx_packets), 12u);
  EXPECT_EQ(f.actor.flows.core_counter_sum(&abi::CoreCounters::exceptions), 100u);
}

}  // namespace
}  // namespace vtas::fastpath
