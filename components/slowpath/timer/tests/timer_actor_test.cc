#include "components/slowpath/timer/timer_actor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "components/fastpath/flow_table.h"
#include "proto/fastpath.pb.h"
#include "tests/support/test_runner.h"

namespace vtas::timer {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using vtas::testing::TestRunner;

// A flow table in a memfd, as the fast path would lay it out. Actors get their own mapping of
// the same memory (a dup of the fd), like a separate process would.
class MemfdTable {
 public:
  explicit MemfdTable(uint32_t max_flows)
      : region_(*shm::Region::create_memfd("timer-test-flows",
                                           fastpath::FlowTable::region_bytes(max_flows), false)),
        table_(*fastpath::FlowTable::create(region_, max_flows)) {}

  int fd() const { return region_.fd(); }
  fastpath::FlowTable& table() { return table_; }
  abi::FlowState& flow(uint32_t id) { return *table_.flow(id); }

  // A flow installed the way the fast path's control thread does it, RTT 1 ms (RTO 8 ms).
  uint32_t install(uint16_t port) {
    uint32_t id = *table_.allocate_id();
    abi::FlowState& fs = flow(id);
    fs.local_ip = 0x0100000a;
    fs.remote_ip = 0x0200000a;
    fs.local_port = 80;
    fs.remote_port = port;
    fs.rx_remote_avail = 65535;
    fs.tx_next_seq = 1000;
    fs.rtt_us = 1000;
    fs.flags = abi::kFlowActive;
    return id;
  }

 private:
  shm::Region region_;
  fastpath::FlowTable table_;
};

// What the tests hand the actor instead of `<runtime_dir>/flows`: whatever memfd `*fd` names
// now (a test swaps it to play a fast path that re-created its table).
class TestSource final : public FlowTableSource {
 public:
  TestSource(const int* fd, const bool* available, const bool* current)
      : fd_(fd), available_(available), current_(current) {}
  Result<shm::Region> open() override {
    if (!*available_) return make_error("no such file (test)");
    return shm::Region::map_fd(::dup(*fd_), shm::Access::kReadWrite);
  }
  bool is_current(const shm::Region&) const override { return *current_; }
  std::string describe() const override { return "test-memfd"; }

 private:
  const int* fd_;
  const bool* available_;
  const bool* current_;
};

TimerConfig test_config() {
  TimerConfig c;
  // Look at every slot every 1 ms so the tests can state exact times.
  c.sweep_tick = milliseconds(1);
  c.sweep_cycle = milliseconds(1);
  return c;
}

struct Fixture {
  explicit Fixture(uint32_t max_flows = 64, TimerConfig timer_config = test_config())
      : table(max_flows), config(std::move(timer_config)), fd(table.fd()) {}

  std::unique_ptr<TimerActor> make_actor() {
    return std::make_unique<TimerActor>("timer", config,
                                        std::make_unique<TestSource>(&fd, &available, &current));
  }

  MemfdTable table;
  TimerConfig config;
  int fd;
  bool available = true;
  bool current = true;
};

std::vector<uint32_t> retransmitted(const TestRunner& r) {
  std::vector<uint32_t> out;
  for (const auto& m : r.sent_of<fastpath::Retransmit>("fastpath")) out.push_back(m.flow_id());
  return out;
}

std::vector<uint32_t> probed(const TestRunner& r) {
  std::vector<uint32_t> out;
  for (const auto& m : r.sent_of<fastpath::WindowProbe>("fastpath")) out.push_back(m.flow_id());
  return out;
}

uint32_t fake_us(const TestRunner& r) {
  return static_cast<uint32_t>(to_ns(r.fake_clock.now()) / 1000);
}

// ---- explicit timers ---------------------------------------------------------------------------

ArmTimer arm(uint64_t key, uint64_t delay_us, uint32_t kind) {
  ArmTimer m;
  m.set_key(key);
  m.set_delay_us(delay_us);
  m.set_kind(kind);
  return m;
}

TEST(TimerActor, ExplicitTimerFiresToItsOwnerAfterTheDelay) {
  Fixture f;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.deliver_event("conn", arm(9, 1500, 1));
  r.advance(microseconds(1499));
  EXPECT_TRUE(r.sent_of<TimerFired>().empty());
  r.advance(microseconds(1));
  auto fired = r.sent_of<TimerFired>("conn");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].key(), 9u);
  EXPECT_EQ(fired[0].kind(), 1u);
  EXPECT_EQ(fired[0].late_us(), 0u);
  r.advance(milliseconds(100));
  EXPECT_EQ(r.sent_of<TimerFired>().size(), 1u);  // one-shot
  EXPECT_EQ(actor->counters().timers_fired, 1u);
}

TEST(TimerActor, ArrivalInsideAMicrosecondNeverFiresEarly) {
  Fixture f;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.advance(std::chrono::nanoseconds(400));  // arrival at x.400 us
  r.deliver_event("conn", arm(1, 1, 0));
  r.advance(std::chrono::nanoseconds(999));  // 0.999 us later: too early
  EXPECT_TRUE(r.sent_of<TimerFired>().empty());
  r.advance(std::chrono::nanoseconds(601));
  EXPECT_EQ(r.sent_of<TimerFired>().size(), 1u);
}

TEST(TimerActor, RearmReplacesTheDeadlineAndCancelStopsIt) {
  Fixture f;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.deliver_event("conn", arm(1, 1000, 1));
  r.deliver_event("conn", arm(1, 5000, 2));  // replaces
  r.deliver_event("conn", arm(2, 2000, 1));
  r.deliver_event("conn", [] {
    CancelTimer c;
    c.set_key(2);
    return c;
  }());
  r.advance(milliseconds(4));
  EXPECT_TRUE(r.sent_of<TimerFired>().empty());
  r.advance(milliseconds(1));
  auto fired = r.sent_of<TimerFired>("conn");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].key(), 1u);
  EXPECT_EQ(fired[0].kind(), 2u);
  EXPECT_EQ(actor->counters().timers_rearmed, 1u);
  EXPECT_EQ(actor->counters().timers_cancelled, 1u);
}

TEST(TimerActor, SameKeyFromTwoOwnersIsTwoTimers) {
  Fixture f;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.deliver_event("conn", arm(1, 1000, 1));
  r.deliver_event("scale", arm(1, 1000, 1));
  r.advance(milliseconds(1));
  EXPECT_EQ(r.sent_of<TimerFired>("conn").size(), 1u);
  EXPECT_EQ(r.sent_of<TimerFired>("scale").size(), 1u);
}

TEST(TimerActor, FarFutureTimersFireOnTimeAfterTas28BitWrap) {
  Fixture f;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.deliver_event("conn", arm(1, 300ull * 1000000, 1));  // 300 s > 2^28 us
  r.deliver_event("conn", arm(2, UINT64_MAX, 1));        // never, and no overflow
  r.advance(std::chrono::seconds(299));
  EXPECT_TRUE(r.sent_of<TimerFired>().empty());
  r.advance(std::chrono::seconds(1));
  auto fired = r.sent_of<TimerFired>("conn");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].key(), 1u);
  EXPECT_EQ(actor->explicit_timers(), 1u);
}

TEST(TimerActor, TimersOfARestartedOwnerStillFire) {
  Fixture f;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.deliver_event("conn", arm(1, 1000, 1));
  supervisor::ActorEvent restarted;
  restarted.set_actor("conn");
  restarted.set_kind(supervisor::ActorEvent::KIND_STARTED);
  r.deliver_event("supervisor", restarted);
  r.advance(milliseconds(1));
  EXPECT_EQ(r.sent_of<TimerFired>("conn").size(), 1u);
}

TEST(TimerActor, RefusesTimersBeyondItsLimit) {
  TimerConfig c = test_config();
  c.max_explicit_timers = 2;
  Fixture f(64, c);
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  for (uint64_t k = 0; k < 3; ++k) r.deliver_event("conn", arm(k, 1000, 1));
  EXPECT_EQ(actor->counters().timers_refused, 1u);
  r.advance(milliseconds(1));
  EXPECT_EQ(r.sent_of<TimerFired>().size(), 2u);
}

// ---- retransmission timeouts --------------------------------------------------------------------

TEST(TimerActor, RetransmitAfterTheRtoThenBackOff) {
  Fixture f;
  uint32_t id = f.table.install(1);
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  f.table.flow(id).tx_sent = 1460;  // data goes out at t = 0
  f.table.flow(id).tx_next_seq += 1460;
  r.advance(milliseconds(1));  // sweep finds it: RTO 8 ms from here
  EXPECT_EQ(actor->watched_flows(), 1u);
  r.advance(microseconds(7999));
  EXPECT_TRUE(retransmitted(r).empty());
  r.advance(microseconds(1));  // t = 9 ms
  EXPECT_EQ(retransmitted(r), std::vector<uint32_t>{id});
  EXPECT_EQ(f.table.flow(id).rto_backoff, 1u);
  r.advance(microseconds(15999));  // backoff: 16 ms
  EXPECT_EQ(retransmitted(r).size(), 1u);
  r.advance(microseconds(1));
  EXPECT_EQ(retransmitted(r).size(), 2u);
  EXPECT_EQ(f.table.flow(id).rto_backoff, 2u);
  r.advance(milliseconds(32));  // 32 ms
  EXPECT_EQ(retransmitted(r).size(), 3u);
  EXPECT_EQ(actor->counters().retransmits_sent, 3u);
}

TEST(TimerActor, BackoffStopsAtTheCeiling) {
  Fixture f;
  uint32_t id = f.table.install(1);
  f.table.flow(id).tx_sent = 100;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.advance(std::chrono::seconds(10));
  // 8, 16, ..., 512 ms (7 timeouts within 1.017 s), then one per second.
  const size_t n = retransmitted(r).size();
  r.advance(std::chrono::seconds(5));
  EXPECT_EQ(retransmitted(r).size(), n + 5);
}

TEST(TimerActor, AckProgressResetsTheBackoff) {
  Fixture f;
  uint32_t id = f.table.install(1);
  abi::FlowState& fs = f.table.flow(id);
  fs.tx_sent = 3000;
  fs.tx_next_seq += 3000;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.advance(milliseconds(1 + 8 + 16));  // two timeouts: at 9 and 25 ms
  ASSERT_EQ(retransmitted(r).size(), 2u);
  ASSERT_EQ(fs.rto_backoff, 2u);
  // The fast path resent; an ACK for 1000 bytes arrives at t = 30 ms, the rest stays out.
  r.advance(milliseconds(5));
  fs.cnt_rx_ack_bytes += 1000;
  fs.tx_sent = 2000;
  fs.last_ack_us = fake_us(r);
  // The flow is looked at next when its backed-off timeout ends (25 + 32 = 57 ms). It sees the
  // ACK: progress, backoff back to 0, a plain RTO counted from the ACK (30 + 8 = 38 ms) has
  // passed too, so it times out at once as the first timeout of a new series.
  r.advance(microseconds(26999));
  EXPECT_EQ(retransmitted(r).size(), 2u);
  r.advance(microseconds(1));  // t = 57 ms
  EXPECT_EQ(retransmitted(r).size(), 3u);
  EXPECT_EQ(fs.rto_backoff, 1u);
  r.advance(milliseconds(16));  // next: 57 + 16 (backoff 1), not 57 + 64 (backoff 3)
  EXPECT_EQ(retransmitted(r).size(), 4u);
}

TEST(TimerActor, ContinuousProgressNeverTimesOut) {
  Fixture f;
  uint32_t id = f.table.install(1);
  abi::FlowState& fs = f.table.flow(id);
  fs.tx_sent = 100000;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  for (int i = 0; i < 200; ++i) {
    r.advance(milliseconds(3));  // an ACK every 3 ms (< RTO 8 ms), the pipe never drains
    fs.cnt_rx_ack_bytes += 1460;
    fs.tx_next_seq += 1460;
    fs.last_ack_us = fake_us(r);
  }
  EXPECT_TRUE(retransmitted(r).empty());
  EXPECT_EQ(fs.rto_backoff, 0u);
  // The ACKs stop: one RTO after the last one, a timeout.
  r.advance(milliseconds(8));
  EXPECT_EQ(retransmitted(r).size(), 1u);
}

TEST(TimerActor, IdleFlowsCostNoMessages) {
  Fixture f;
  for (uint16_t p = 1; p <= 20; ++p) f.table.install(p);
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.advance(std::chrono::seconds(5));
  EXPECT_TRUE(r.sent.empty());
  EXPECT_EQ(actor->watched_flows(), 0u);
  EXPECT_GT(actor->counters().slots_swept, 0u);
}

TEST(TimerActor, SweepsOnlyAfterTheFastPathSentSomething) {
  Fixture f;
  uint32_t id = f.table.install(1);
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.advance(milliseconds(1));  // the first cycle looks at everything
  const uint64_t after_first = actor->counters().slots_swept;
  EXPECT_EQ(after_first, 64u);
  r.advance(milliseconds(100));
  EXPECT_EQ(actor->counters().slots_swept, after_first);  // nothing sent: no cycle

  // Data goes out on flow `id` (core 0 counts the packet): the next tick starts a cycle.
  f.table.flow(id).tx_sent = 1000;
  f.table.table().core_counters(0)->tx_packets += 1;
  r.advance(milliseconds(1));
  EXPECT_EQ(actor->counters().slots_swept, after_first + 64);
  EXPECT_EQ(actor->watched_flows(), 1u);
  r.advance(milliseconds(8));
  EXPECT_EQ(retransmitted(r), std::vector<uint32_t>{id});

  // A window that closes with nothing sent is still found within sweep_idle_max (1 s).
  uint32_t closed = f.table.install(2);
  f.table.flow(closed).tx_avail = 10;
  f.table.flow(closed).rx_remote_avail = 0;
  r.advance(std::chrono::seconds(1));
  EXPECT_EQ(actor->watched_flows(), 2u);
}

TEST(TimerActor, AFlowThatGoesAwayIsForgotten) {
  Fixture f;
  uint32_t id = f.table.install(1);
  f.table.flow(id).tx_sent = 10;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.advance(milliseconds(1));
  ASSERT_EQ(actor->watched_flows(), 1u);
  f.table.flow(id).flags = 0;  // removed by the fast path
  r.advance(milliseconds(100));
  EXPECT_TRUE(retransmitted(r).empty());
  EXPECT_EQ(actor->watched_flows(), 0u);
}

// ---- zero-window probes -------------------------------------------------------------------------

TEST(TimerActor, ZeroWindowGetsProbesWithBackoffUntilItOpens) {
  Fixture f;
  uint32_t id = f.table.install(1);
  abi::FlowState& fs = f.table.flow(id);
  fs.tx_avail = 5000;
  fs.rx_remote_avail = 0;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.advance(milliseconds(1 + 8));
  EXPECT_EQ(probed(r), std::vector<uint32_t>{id});
  r.advance(milliseconds(16));
  EXPECT_EQ(probed(r).size(), 2u);
  r.advance(milliseconds(32));
  EXPECT_EQ(probed(r).size(), 3u);
  EXPECT_TRUE(retransmitted(r).empty());
  // The peer opens its window; everything is sent and acknowledged.
  fs.rx_remote_avail = 65535;
  fs.tx_avail = 0;
  fs.cnt_rx_ack_bytes += 5000;
  r.advance(std::chrono::seconds(2));
  EXPECT_EQ(probed(r).size(), 3u);
  EXPECT_EQ(fs.rto_backoff, 0u);
  EXPECT_EQ(actor->counters().probes_sent, 3u);
}

// ---- restart and attach -------------------------------------------------------------------------

TEST(TimerActor, ANewInstanceResumesFromTheRegion) {
  Fixture f;
  uint32_t stuck = f.table.install(1);
  uint32_t closed = f.table.install(2);
  f.table.flow(stuck).tx_sent = 500;
  f.table.flow(closed).tx_avail = 100;
  f.table.flow(closed).rx_remote_avail = 0;
  {
    auto first = f.make_actor();
    TestRunner r(*first);
    ASSERT_TRUE(r.start());
    r.advance(milliseconds(1 + 8 + 16));  // two timeouts each
    ASSERT_EQ(retransmitted(r).size(), 2u);
    ASSERT_EQ(probed(r).size(), 2u);
    first->on_stop();
  }  // killed: its wheel and memory are gone
  EXPECT_EQ(f.table.flow(stuck).rto_backoff, 2u);
  EXPECT_EQ(f.table.flow(closed).rto_backoff, 2u);

  auto second = f.make_actor();
  TestRunner r(*second, 2);
  ASSERT_TRUE(r.start());
  r.advance(milliseconds(1));  // found by the first sweep, backoff 2: next in 32 ms
  EXPECT_EQ(second->watched_flows(), 2u);
  r.advance(microseconds(31999));
  EXPECT_TRUE(retransmitted(r).empty());
  EXPECT_TRUE(probed(r).empty());
  r.advance(microseconds(1));
  EXPECT_EQ(retransmitted(r), std::vector<uint32_t>{stuck});
  EXPECT_EQ(probed(r), std::vector<uint32_t>{closed});
  EXPECT_EQ(f.table.flow(stuck).rto_backoff, 3u);
}

TEST(TimerActor, RetriesAttachingUntilTheTableExists) {
  Fixture f;
  uint32_t id = f.table.install(1);
  f.table.flow(id).tx_sent = 10;
  f.available = false;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());  // not fatal
  EXPECT_FALSE(actor->attached());
  r.deliver_event("conn", arm(1, 1000, 1));  // explicit timers work meanwhile
  r.advance(milliseconds(250));
  EXPECT_FALSE(actor->attached());
  EXPECT_EQ(r.sent_of<TimerFired>().size(), 1u);
  f.available = true;
  r.advance(milliseconds(50));  // the next retry, t = 300 ms
  EXPECT_TRUE(actor->attached());
  EXPECT_TRUE(retransmitted(r).empty());
  r.advance(milliseconds(1 + 8));  // found by the next sweep, one RTO later a timeout
  EXPECT_EQ(retransmitted(r), std::vector<uint32_t>{id});
}

TEST(TimerActor, FollowsAFastPathRestartToItsNewTable) {
  Fixture f;
  uint32_t old_flow = f.table.install(1);
  f.table.flow(old_flow).tx_sent = 10;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.advance(milliseconds(1));
  ASSERT_EQ(actor->watched_flows(), 1u);

  // The fast path restarts and lays out a new table; the supervisor announces it.
  MemfdTable replacement(32);
  uint32_t new_flow = replacement.install(7);
  replacement.flow(new_flow).tx_sent = 10;
  f.fd = replacement.fd();
  f.current = false;
  supervisor::ActorEvent started;
  started.set_actor("fastpath");
  started.set_kind(supervisor::ActorEvent::KIND_STARTED);
  r.deliver_event("supervisor", started);
  f.current = true;
  EXPECT_TRUE(actor->attached());
  EXPECT_EQ(actor->counters().attaches, 2u);
  EXPECT_EQ(actor->watched_flows(), 0u);  // the old table's flows are not ours any more

  r.advance(milliseconds(1 + 8));
  EXPECT_EQ(retransmitted(r), std::vector<uint32_t>{new_flow});
  EXPECT_EQ(replacement.flow(new_flow).rto_backoff, 1u);
  EXPECT_EQ(f.table.flow(old_flow).rto_backoff, 0u);
}

TEST(TimerActor, NoticesAReplacedTableWithoutTheEvent) {
  Fixture f;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  MemfdTable replacement(16);
  f.fd = replacement.fd();
  f.current = false;
  r.advance(std::chrono::seconds(1));  // the periodic check
  f.current = true;
  EXPECT_EQ(actor->counters().attaches, 2u);
  EXPECT_TRUE(actor->attached());
}

TEST(TimerActor, AManifestWithoutAFlowTableStillServesExplicitTimers) {
  manifest::Manifest m;
  m.set_runtime_dir("/nonexistent-vtas-timer-test");
  auto config = config_from_manifest(m);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->flow_table_path, "/nonexistent-vtas-timer-test/flows");
  EXPECT_EQ(config->rto.rexmit_intervals, 4u);
  EXPECT_EQ(config->rto.control_interval_rtts, 2u);
  EXPECT_EQ(config->rto.rtt_init_us, 50u);
  TimerActor actor("timer", std::move(config));
  TestRunner r(actor);
  ASSERT_TRUE(r.start());
  EXPECT_FALSE(actor.attached());
  r.deliver_event("conn", arm(3, 10, 1));
  r.advance(milliseconds(1));
  EXPECT_EQ(r.sent_of<TimerFired>("conn").size(), 1u);
}

TEST(TimerActor, ABadManifestFailsTheStartWithTheReason) {
  manifest::Manifest m;
  m.mutable_tas()->set_cc_rexmit_ints(0);
  TimerActor actor("timer", config_from_manifest(m));
  TestRunner r(actor);
  Status s = r.start();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("cc_rexmit_ints"), std::string::npos);
}

TEST(TimerActor, StatsNameTheCounters) {
  Fixture f;
  uint32_t id = f.table.install(1);
  f.table.flow(id).tx_sent = 10;
  auto actor = f.make_actor();
  TestRunner r(*actor);
  ASSERT_TRUE(r.start());
  r.deliver_event("conn", arm(1, 100000, 1));
  r.advance(std::chrono::milliseconds(1100));
  supervisor::StatsReport report;
  actor->fill_stats(&report);
  std::map<std::string, uint64_t> c;
  for (const auto& counter : report.counters()) c[counter.name()] = counter.value();
  EXPECT_EQ(c["timers_armed"], 1u);
  EXPECT_EQ(c["timers_fired"], 1u);
  EXPECT_EQ(c["retransmits_sent"], retransmitted(r).size());
  EXPECT_EQ(c["flow_table_attached"], 1u);
  // The fast path sent nothing: one cycle of 64 slots at 1 ms, the next only at 1 s.
  EXPECT_EQ(c["slots_swept"], 128u);
  EXPECT_EQ(c["slots_swept_per_second"], 128u);
  EXPECT_GT(c["sweep_ticks_idle"], 900u);
  ASSERT_EQ(report.tables_size(), 1);
  EXPECT_EQ(report.tables(0).name(), "timers_by_owner");
}

}  // namespace
}  // namespace vtas::timer
