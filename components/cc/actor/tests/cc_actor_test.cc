#include "components/cc/actor/cc_actor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "components/cc/actor/cc_policy.h"
#include "components/cc/actor/cc_state_layout.h"
#include "components/fastpath/flow_table.h"
#include "tests/support/test_runner.h"

namespace vtas::cc {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using vtas::testing::TestRunner;

// A flow table in a memfd, as the fast path lays it out; the actor maps its own copy of the fd,
// like a separate process.
class MemfdTable {
 public:
  explicit MemfdTable(uint32_t max_flows)
      : region_(*shm::Region::create_memfd("cc-test-flows",
                                           fastpath::FlowTable::region_bytes(max_flows), false)),
        table_(*fastpath::FlowTable::create(region_, max_flows)) {}

  int fd() const { return region_.fd(); }
  abi::FlowState& flow(uint32_t id) { return *table_.flow(id); }

  // A flow installed as the fast path's control thread does it, after its handshake went
  // through the slow path (which the cores count as an exception).
  uint32_t install(uint16_t remote_port, uint32_t rtt_us = 100) {
    const uint32_t id = *table_.allocate_id();
    set_identity(id, remote_port);
    abi::FlowState& fs = flow(id);
    fs.mss = 1448;
    fs.tx_len = 262144;
    fs.rtt_us = rtt_us;
    fs.flags = abi::kFlowActive;
    handshake_seen();
    return id;
  }
  void set_identity(uint32_t id, uint16_t remote_port) {
    abi::FlowState& fs = flow(id);
    fs.local_ip = 0x0100000a;   // 10.0.0.1
    fs.remote_ip = 0x0200000a;  // 10.0.0.2
    fs.local_port = 0x5000;     // 80
    fs.remote_port = remote_port;
    fs.opaque = 0x1000 + remote_port;
  }
  void handshake_seen() { table_.core_counters(0)->exceptions++; }
  // ACKs arriving: `acks` segments acknowledging `bytes`, `ecn_bytes` of them with ECE.
  void ack(uint32_t id, uint32_t acks, uint32_t bytes, uint32_t ecn_bytes = 0) {
    abi::FlowState& fs = flow(id);
    fs.cnt_rx_acks += acks;
    fs.cnt_rx_ack_bytes += bytes;
    fs.cnt_rx_ecn_bytes += ecn_bytes;
  }

 private:
  shm::Region region_;
  fastpath::FlowTable table_;
};

// The table the actor gets instead of `<runtime_dir>/flows`: whatever memfd `*fd` names now.
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

class CcActorTest : public ::testing::Test {
 protected:
  CcActorTest() : table_(64), fd_(table_.fd()) {
    char pattern[] = "/tmp/cc-actor-test-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    config_.flow_table_path = "(test)";
    config_.state_path = dir_ + "/cc.state";
    config_.tas = cc_fields_of(manifest::TasParameters{});
    config_.precise_wakeups = false;
  }
  ~CcActorTest() override { std::filesystem::remove_all(dir_); }

  // A new incarnation of cc (the previous one, if any, is gone: as after kill -9).
  void start_actor(Nanos at = Nanos(0)) {
    runner_.reset();
    actor_ = std::make_unique<CcActor>("cc", config_,
                                       std::make_unique<TestSource>(&fd_, &available_, &current_));
    runner_ = std::make_unique<TestRunner>(*actor_);
    if (at != Nanos(0)) runner_->fake_clock.set(TimePoint(at));
    ASSERT_TRUE(runner_->start());
  }
  uint64_t now_us() const { return to_ns(runner_->fake_clock.now()) / 1000; }
  // Lets the sweep find flows installed since the last tick.
  void discover() { runner_->advance(config_.sweep_tick_idle); }
  uint32_t rate(uint32_t id) { return table_.flow(id).tx_rate_kbps; }
  CcFlowState record(uint32_t id) {
    CcFlowState s{};
    const int fd = ::open(config_.state_path.c_str(), O_RDONLY);
    EXPECT_EQ(::pread(fd, &s, sizeof s, static_cast<off_t>(kCcStateRecordsOffset + id * sizeof s)),
              static_cast<ssize_t>(sizeof s));
    ::close(fd);
    return s;
  }
  template <class Msg>
  Envelope ask(const Msg& m) {
    runner_->replies.clear();
    runner_->deliver_request("vtasctl", m);
    EXPECT_EQ(runner_->replies.size(), 1u);
    return runner_->replies.empty() ? Envelope{} : runner_->replies.back();
  }

  MemfdTable table_;
  int fd_;
  bool available_ = true;
  bool current_ = true;
  std::string dir_;
  CcConfig config_;
  std::unique_ptr<CcActor> actor_;
  std::unique_ptr<TestRunner> runner_;
};

// Enough acknowledged bytes per step that the 1.2x "used rate" clamp never binds.
constexpr uint32_t kLotsOfBytes = 50'000'000;

TEST_F(CcActorTest, NothingToDoWithoutFlows) {
  start_actor();
  EXPECT_TRUE(actor_->attached());
  runner_->advance(std::chrono::seconds(2));
  EXPECT_EQ(actor_->flows_controlled(), 0u);
  EXPECT_EQ(actor_->counters().rounds, 0u);
  EXPECT_FALSE(actor_->wakeup_at_us());
}

TEST_F(CcActorTest, ANewFlowStartsAtTheInitialRateAndIsSteppedEveryIntervalOfRtts) {
  start_actor();
  const uint32_t id = table_.install(0x1111, /*rtt_us=*/100);
  discover();
  ASSERT_EQ(actor_->counters().flows_started, 1u);
  EXPECT_EQ(rate(id), 10000u);  // --cc-dctcp-init
  const uint64_t started = now_us();
  EXPECT_EQ(actor_->wakeup_at_us(), started + 200);  // 2 RTTs

  table_.ack(id, 50, kLotsOfBytes);
  runner_->advance(microseconds(199));
  EXPECT_EQ(actor_->counters().steps, 0u);
  runner_->advance(microseconds(1));
  EXPECT_EQ(actor_->counters().steps, 1u);
  EXPECT_EQ(rate(id), 20000u);  // slow start doubles
  EXPECT_EQ(record(id).rate_kbps, 20000u);
  EXPECT_EQ(actor_->wakeup_at_us(), started + 400);
}

TEST_F(CcActorTest, RatesAreWrittenOnlyWhenAStepDecides) {
  start_actor();
  const uint32_t id = table_.install(0x2222);
  discover();
  ASSERT_EQ(rate(id), 10000u);
  // The fast path halves the rate on a loss of its own accord (go-back-N).
  table_.flow(id).tx_rate_kbps = 5000;
  table_.ack(id, 10, 14480);  // fewer than --cc-dctcp-minpkts ACKs: dctcp-rate gathers
  runner_->advance(microseconds(200));
  EXPECT_EQ(actor_->counters().steps, 1u);
  EXPECT_EQ(actor_->counters().undecided_steps, 1u);
  EXPECT_EQ(actor_->counters().rates_written, 0u);
  EXPECT_EQ(rate(id), 5000u);  // left alone
  table_.ack(id, 40, kLotsOfBytes);
  runner_->advance(microseconds(200));
  EXPECT_EQ(actor_->counters().rates_written, 1u);
  EXPECT_EQ(rate(id), 20000u);
}

TEST_F(CcActorTest, RoundsComeNoOftenerThanTheGranularity) {
  config_.params.control_granularity_us = 500;
  start_actor();
  const uint32_t a = table_.install(0x3331, 100);
  const uint32_t b = table_.install(0x3332, 100);
  discover();
  for (int i = 0; i < 20; ++i) {
    table_.ack(a, 60, kLotsOfBytes);
    table_.ack(b, 60, kLotsOfBytes);
    runner_->advance(microseconds(100));
  }
  // Due every 200 us, but one round per 500 us at most: 4 rounds in 2 ms, both flows each time.
  EXPECT_EQ(actor_->counters().rounds, 4u);
  EXPECT_EQ(actor_->counters().steps, 8u);
}

TEST_F(CcActorTest, ARestartedActorResumesEveryFlowFromItsStateFile) {
  start_actor();
  const uint32_t id = table_.install(0x4444, 100);
  discover();
  for (int i = 0; i < 3; ++i) {
    table_.ack(id, 50, kLotsOfBytes);
    runner_->advance(microseconds(200));
  }
  ASSERT_EQ(rate(id), 80000u);  // 10 -> 20 -> 40 -> 80 Mbit/s in slow start
  const Nanos crash_time = runner_->fake_clock.now().time_since_epoch();

  // kill -9, and the fast path halves the rate on a loss while cc is away.
  table_.flow(id).tx_rate_kbps = 40000;
  start_actor(crash_time + milliseconds(300));
  EXPECT_EQ(actor_->counters().flows_resumed, 1u);
  EXPECT_EQ(actor_->counters().flows_adopted, 0u);
  EXPECT_EQ(actor_->counters().flows_started, 0u);
  EXPECT_EQ(rate(id), 40000u);  // resuming writes nothing
  // The first step continues the slow start from the record (and sees the loss).
  table_.ack(id, 50, kLotsOfBytes);
  table_.flow(id).cnt_tx_drops += 1;
  runner_->advance(microseconds(200));
  EXPECT_EQ(actor_->counters().steps, 1u);
  EXPECT_EQ(rate(id), 40000u);  // 80 Mbit/s halved once for the loss, not back to 10
  EXPECT_FALSE(in_slow_start(record(id)));
}

TEST_F(CcActorTest, AFreshActorAdoptsRunningFlowsAtTheirCurrentRate) {
  const uint32_t id = table_.install(0x5555, 100);
  table_.flow(id).tx_rate_kbps = 300000;
  start_actor();  // no state file: nothing to resume
  EXPECT_EQ(actor_->counters().flows_adopted, 1u);
  EXPECT_EQ(rate(id), 300000u);
  table_.ack(id, 50, kLotsOfBytes);
  runner_->advance(microseconds(200));
  EXPECT_EQ(rate(id), 310000u);  // congestion avoidance: + --cc-dctcp-step, no slow start
}

TEST_F(CcActorTest, ATornRecordIsAdoptedNotTrusted) {
  start_actor();
  const uint32_t id = table_.install(0x6666, 100);
  discover();
  table_.ack(id, 50, kLotsOfBytes);
  runner_->advance(microseconds(200));
  runner_.reset();
  // A write torn by the crash: one byte of the record differs from what was sealed.
  const int fd = ::open(config_.state_path.c_str(), O_RDWR);
  const uint8_t junk = 0x5a;
  ASSERT_EQ(::pwrite(fd, &junk, 1, static_cast<off_t>(kCcStateRecordsOffset + id * 128 + 70)), 1);
  ::close(fd);
  start_actor(Nanos(std::chrono::seconds(2000)));
  EXPECT_EQ(actor_->counters().flows_resumed, 0u);
  EXPECT_EQ(actor_->counters().flows_adopted, 1u);
  EXPECT_EQ(rate(id), 20000u);
  EXPECT_EQ(check_resumable(record(id), record(id).flow_key), ResumeCheck::kResumable);
}

TEST_F(CcActorTest, ANewConnectionInAReusedSlotStartsFresh) {
  start_actor();
  const uint32_t id = table_.install(0x7777, 100);
  discover();
  for (int i = 0; i < 3; ++i) {
    table_.ack(id, 50, kLotsOfBytes);
    runner_->advance(microseconds(200));
  }
  ASSERT_EQ(rate(id), 80000u);
  const uint64_t old_key = record(id).flow_key;
  // The connection closes and another one gets the same slot (another port and opaque).
  table_.set_identity(id, 0x7778);
  table_.flow(id).tx_rate_kbps = 0;
  table_.handshake_seen();
  discover();
  EXPECT_EQ(actor_->counters().slot_reuses, 1u);
  EXPECT_EQ(actor_->counters().flows_started, 2u);
  EXPECT_EQ(rate(id), 10000u);
  EXPECT_NE(record(id).flow_key, old_key);
  EXPECT_TRUE(in_slow_start(record(id)));
}

TEST_F(CcActorTest, ASlotReuseFoundAtTheFlowsStepStartsFreshToo) {
  start_actor();
  const uint32_t id = table_.install(0x7a7a, 100);
  discover();
  table_.ack(id, 50, kLotsOfBytes);
  runner_->advance(microseconds(200));
  ASSERT_EQ(rate(id), 20000u);
  // No handshake counted (the sweep stays idle): the step itself notices the new identity.
  table_.set_identity(id, 0x7a7b);
  table_.ack(id, 50, kLotsOfBytes);
  runner_->advance(microseconds(200));
  EXPECT_EQ(actor_->counters().slot_reuses, 1u);
  EXPECT_EQ(rate(id), 10000u);
}

TEST_F(CcActorTest, AFlowThatEndedIsDroppedAndItsRecordCleared) {
  start_actor();
  const uint32_t id = table_.install(0x8888, 100);
  discover();
  table_.flow(id).flags = 0;  // removed by the fast path
  runner_->advance(microseconds(200));
  EXPECT_EQ(actor_->counters().flows_ended, 1u);
  EXPECT_EQ(actor_->flows_controlled(), 0u);
  EXPECT_EQ(record(id).magic, 0u);
  EXPECT_FALSE(actor_->wakeup_at_us());
}

TEST_F(CcActorTest, IdleFlowsAreLookedAtWithBackoffNotEveryRtt) {
  start_actor();
  const uint32_t id = table_.install(0x9999, 100);
  discover();
  const uint64_t t0 = now_us();
  runner_->advance(microseconds(200));  // due, but nothing was acknowledged
  EXPECT_EQ(actor_->counters().idle_checks, 1u);
  EXPECT_EQ(actor_->wakeup_at_us(), t0 + 200 + 1000);
  runner_->advance(microseconds(1000));
  EXPECT_EQ(actor_->wakeup_at_us(), t0 + 1200 + 2000);
  runner_->advance(milliseconds(200));
  EXPECT_EQ(actor_->counters().steps, 0u);
  EXPECT_LE(actor_->counters().idle_checks, 9u);  // 1, 2, 4 ... 64 ms, not 1000 RTTs
  // Traffic again: the next look steps it.
  table_.ack(id, 50, kLotsOfBytes);
  runner_->advance(milliseconds(64));
  EXPECT_EQ(actor_->counters().steps, 1u);
}

TEST_F(CcActorTest, PolicyChangesApplyToRunningAndNewFlows) {
  start_actor();
  const uint32_t a = table_.install(0xaaa1, 100);
  discover();
  ASSERT_EQ(rate(a), 10000u);

  SetParams params;
  params.mutable_tas()->set_cc_const_rate(50000);
  Envelope answer = ask(params);
  ASSERT_TRUE(answer.has_cc_policy()) << answer.ShortDebugString();
  EXPECT_EQ(answer.cc_policy().tas().cc_const_rate(), 50000u);
  EXPECT_EQ(rate(a), 10000u);  // dctcp-rate does not use the constant rate

  SetAlgorithm to_const;
  to_const.set_algorithm("const-rate");
  answer = ask(to_const);
  ASSERT_TRUE(answer.has_cc_policy());
  EXPECT_EQ(answer.cc_policy().algorithm(), "const-rate");
  EXPECT_EQ(answer.cc_policy().flows_changed(), 1u);
  EXPECT_EQ(rate(a), 50000u);  // at once, not at the next step

  params.mutable_tas()->set_cc_const_rate(70000);
  answer = ask(params);
  EXPECT_EQ(answer.cc_policy().flows_changed(), 1u);
  EXPECT_EQ(rate(a), 70000u);

  // New flows only: a keeps const-rate, the next connection starts under timely.
  SetAlgorithm to_timely;
  to_timely.set_algorithm("timely");
  to_timely.set_scope(SCOPE_NEW_FLOWS);
  answer = ask(to_timely);
  EXPECT_EQ(answer.cc_policy().flows_changed(), 0u);
  EXPECT_EQ(actor_->params().algorithm, Algorithm::kTimely);
  const uint32_t b = table_.install(0xaaa2, 100);
  discover();
  EXPECT_EQ(rate(b), 10000u);  // --cc-timely-init
  EXPECT_EQ(record(b).algorithm, static_cast<uint8_t>(Algorithm::kTimely));
  EXPECT_EQ(record(a).algorithm, static_cast<uint8_t>(Algorithm::kConstRate));

  // One flow only.
  SetAlgorithm one;
  one.set_algorithm("dctcp-win");
  one.set_scope(SCOPE_ONE_FLOW);
  one.set_flow_id(b);
  answer = ask(one);
  EXPECT_EQ(answer.cc_policy().flows_changed(), 1u);
  EXPECT_EQ(record(b).algorithm, static_cast<uint8_t>(Algorithm::kDctcpWin));
  EXPECT_EQ(actor_->counters().policy_changes, 5u);
}

TEST_F(CcActorTest, ARestartedActorKeepsTheRunTimePolicyOfItsInstance) {
  start_actor();
  SetAlgorithm to_const;
  to_const.set_algorithm("const-rate");
  ask(to_const);
  SetParams params;
  params.mutable_tas()->set_cc_const_rate(50000);
  ask(params);
  start_actor(Nanos(std::chrono::seconds(2000)));  // kill -9 and restart, same fast path
  EXPECT_EQ(actor_->counters().policy_restored, 1u);
  EXPECT_EQ(actor_->params().algorithm, Algorithm::kConstRate);
  EXPECT_EQ(actor_->params().const_rate_kbps, 50000u);
  const uint32_t id = table_.install(0xeee1, 100);
  discover();
  EXPECT_EQ(rate(id), 50000u);
  const Envelope answer = ask(PolicyQuery{});
  EXPECT_EQ(answer.cc_policy().algorithm(), "const-rate");
  EXPECT_EQ(answer.cc_policy().tas().cc_const_rate(), 50000u);
}

TEST_F(CcActorTest, ANewInstanceStartsFromTheManifestPolicy) {
  start_actor();
  SetAlgorithm to_timely;
  to_timely.set_algorithm("timely");
  ask(to_timely);
  // A new instance: the fast path made a new flow table; the state file is still there.
  MemfdTable fresh(64);
  fd_ = fresh.fd();
  start_actor(Nanos(std::chrono::seconds(3000)));
  EXPECT_EQ(actor_->counters().policy_restored, 0u);
  EXPECT_EQ(actor_->params().algorithm, Algorithm::kDctcpRate);
}

TEST_F(CcActorTest, BadPolicyRequestsAreRefusedAndChangeNothing) {
  start_actor();
  const Params before = actor_->params();

  SetParams not_cc;
  not_cc.mutable_tas()->set_tcp_txbuf_len(4096);
  Envelope answer = ask(not_cc);
  ASSERT_TRUE(answer.has_ack());
  EXPECT_FALSE(answer.ack().ok());
  EXPECT_NE(answer.ack().error().find("tcp_txbuf_len"), std::string::npos);

  SetParams out_of_range;
  out_of_range.mutable_tas()->set_cc_timely_tlow(500);  // above thigh (150)
  answer = ask(out_of_range);
  ASSERT_TRUE(answer.has_ack());
  EXPECT_NE(answer.ack().error().find("cc_timely_tlow"), std::string::npos);

  SetAlgorithm unknown;
  unknown.set_algorithm("cubic");
  answer = ask(unknown);
  ASSERT_TRUE(answer.has_ack());
  EXPECT_NE(answer.ack().error().find("cubic"), std::string::npos);

  SetAlgorithm no_such_flow;
  no_such_flow.set_algorithm("timely");
  no_such_flow.set_scope(SCOPE_ONE_FLOW);
  no_such_flow.set_flow_id(42);
  answer = ask(no_such_flow);
  ASSERT_TRUE(answer.has_ack());
  EXPECT_FALSE(answer.ack().ok());

  EXPECT_EQ(actor_->params(), before);
  EXPECT_EQ(actor_->counters().policy_rejects, 4u);
  EXPECT_EQ(actor_->counters().policy_changes, 0u);
}

TEST_F(CcActorTest, FlowQueriesDescribeOneFlowOrTheFastest) {
  start_actor();
  const uint32_t slow = table_.install(0xbbb1, 100);
  const uint32_t fast = table_.install(0xbbb2, 100);
  discover();
  table_.ack(fast, 50, kLotsOfBytes);
  runner_->advance(microseconds(200));

  FlowQuery one;
  one.set_flow_id(fast);
  Envelope answer = ask(one);
  ASSERT_TRUE(answer.has_cc_flow_report()) << answer.ShortDebugString();
  ASSERT_EQ(answer.cc_flow_report().flows_size(), 1);
  const FlowInfo& f = answer.cc_flow_report().flows(0);
  EXPECT_EQ(f.flow_id(), fast);
  EXPECT_EQ(f.algorithm(), "dctcp-rate");
  EXPECT_EQ(f.rate_kbps(), 20000u);
  EXPECT_EQ(f.tx_rate_kbps(), 20000u);
  EXPECT_EQ(f.local(), "10.0.0.1:80");
  EXPECT_EQ(f.steps(), 1u);
  EXPECT_TRUE(f.slow_start());

  FlowQuery top;
  top.set_limit(1);
  answer = ask(top);
  ASSERT_EQ(answer.cc_flow_report().flows_size(), 1);
  EXPECT_EQ(answer.cc_flow_report().flows(0).flow_id(), fast);
  EXPECT_EQ(answer.cc_flow_report().flows_controlled(), 2u);

  FlowQuery missing;
  missing.set_flow_id(slow + 10);
  answer = ask(missing);
  ASSERT_TRUE(answer.has_ack());
  EXPECT_FALSE(answer.ack().ok());
}

TEST_F(CcActorTest, StatsReportCountersHistogramAndTopFlows) {
  start_actor();
  table_.install(0xccc1, 100);
  discover();
  supervisor::StatsReport report;
  actor_->fill_stats(&report);
  bool found = false;
  for (const auto& c : report.counters()) {
    if (c.name() == "flows_controlled") {
      found = true;
      EXPECT_EQ(c.value(), 1u);
    }
  }
  EXPECT_TRUE(found);
  ASSERT_EQ(report.tables_size(), 2);
  EXPECT_EQ(report.tables(0).name(), "rate_histogram");
  EXPECT_EQ(report.tables(0).rows(3).cells(1), "1");  // 10 Mbit/s falls in 10-100Mbps
  EXPECT_EQ(report.tables(1).name(), "top_flows");
  EXPECT_EQ(report.tables(1).rows_size(), 1);
}

TEST_F(CcActorTest, WaitsForTheTableAndFollowsAReCreatedOne) {
  available_ = false;
  start_actor();
  EXPECT_FALSE(actor_->attached());
  available_ = true;
  runner_->advance(milliseconds(100));
  ASSERT_TRUE(actor_->attached());
  EXPECT_EQ(actor_->counters().attaches, 1u);
  table_.install(0xddd1, 100);
  discover();
  EXPECT_EQ(actor_->flows_controlled(), 1u);

  // The fast path restarts with a new (empty but for one new flow) table.
  MemfdTable second(64);
  const uint32_t id = second.install(0xddd2, 100);
  fd_ = second.fd();
  current_ = false;
  runner_->advance(std::chrono::seconds(1));
  current_ = true;
  EXPECT_EQ(actor_->counters().attaches, 2u);
  EXPECT_EQ(actor_->flows_controlled(), 1u);
  EXPECT_EQ(actor_->counters().flows_adopted, 1u);
  EXPECT_EQ(second.flow(id).tx_rate_kbps, 0u);  // adopted as it was: unlimited until measured
}

}  // namespace
}  // namespace vtas::cc
