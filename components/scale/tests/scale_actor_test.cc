// ScaleActor on the deterministic test runner: a fake clock and fake core counters stand in
// for the fast path. Checks what it sends the fast path as load rises and falls, that it
// waits for an answer before asking again, notices changes it did not make, follows a
// restarted fast path, and pins the maximum with --fp-no-autoscale.
#include "components/scale/scale_actor.h"

#include <gtest/gtest.h>

#include "runtime/manifest/manifest_loader.h"
#include "runtime/manifest/tests/test_rules.h"
#include "tests/support/test_runner.h"

namespace vtas::scale {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// Counters the test moves by hand; shared with the actor's source.
struct FakeCores {
  bool available = true;
  bool current = true;
  uint32_t cores_active = 1;
  uint64_t busy_ns = 0;
  int opens = 0;
};

class FakeSource final : public CoreLoadSource {
 public:
  explicit FakeSource(FakeCores& cores) : cores_(cores) {}
  Status open() override {
    if (!cores_.available) return make_error("no such file");
    ++cores_.opens;
    cores_.current = true;
    open_ = true;
    return Status();
  }
  bool is_open() const override { return open_; }
  void close() override { open_ = false; }
  bool is_current() const override { return cores_.current; }
  CoreLoad read() const override { return {cores_.cores_active, cores_.busy_ns}; }
  std::string describe() const override { return "fake"; }

 private:
  FakeCores& cores_;
  bool open_ = false;
};

class ScaleActorTest : public ::testing::Test {
 protected:
  void start(uint32_t max_cores, bool pinned = false) {
    ScaleConfig c;
    c.monitor.max_cores = max_cores;
    c.monitor.pinned = pinned;
    c.flow_table_path = "/nonexistent/flows";
    actor_ = std::make_unique<ScaleActor>("scale", c, std::make_unique<FakeSource>(fake_));
    runner_ = std::make_unique<testing::TestRunner>(*actor_);
    ASSERT_TRUE(runner_->start());
  }
  // `n` samples of 10 ms with the cores `load` cores busy in total.
  void run(int n, double load) {
    for (int i = 0; i < n; ++i) {
      fake_.busy_ns += static_cast<uint64_t>(load * 10'000'000);
      runner_->advance(milliseconds(10));
    }
  }
  std::vector<fastpath::SetCores> set_cores() const {
    return runner_->sent_of<fastpath::SetCores>("fastpath");
  }
  // Answers the last SetCores as the fast path does (and applies it).
  void answer_last(bool ok = true) {
    const Envelope* last = nullptr;
    for (const auto& e : runner_->sent) {
      if (e.has_set_cores()) last = &e;
    }
    ASSERT_NE(last, nullptr);
    if (ok) fake_.cores_active = last->set_cores().cores();
    supervisor::Ack ack;
    ack.set_ok(ok);
    if (!ok) ack.set_error("refused");
    runner_->respond(*last, ack);
  }

  FakeCores fake_;
  std::unique_ptr<ScaleActor> actor_;
  std::unique_ptr<testing::TestRunner> runner_;
};

TEST_F(ScaleActorTest, RisingLoadAsksForASecondCoreAndFallingLoadGivesItBack) {
  start(2);
  run(12, 1.0);  // baseline + hold + one decision
  auto sent = set_cores();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].cores(), 2u);
  EXPECT_TRUE(actor_->request_pending());
  answer_last();
  EXPECT_FALSE(actor_->request_pending());
  run(100, 1.0);  // the same load on two cores: stays
  EXPECT_EQ(set_cores().size(), 1u);
  run(30, 0.05);  // the transfer ended
  sent = set_cores();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].cores(), 1u);
  answer_last();
  run(200, 0.05);
  EXPECT_EQ(set_cores().size(), 2u) << "one core is the floor";
  EXPECT_EQ(actor_->counters().scale_ups, 1u);
  EXPECT_EQ(actor_->counters().scale_downs, 1u);
  EXPECT_EQ(actor_->counters().outside_changes, 0u);
}

TEST_F(ScaleActorTest, AsksOnceWhileARequestIsUnansweredAndRetriesAfterARefusal) {
  start(2);
  run(40, 1.0);
  EXPECT_EQ(set_cores().size(), 1u) << "no second request while the first is pending";
  answer_last(false);
  EXPECT_EQ(actor_->counters().set_cores_failed, 1u);
  run(12, 1.0);  // the monitor starts over (hold) and asks again
  EXPECT_EQ(set_cores().size(), 2u);
}

TEST_F(ScaleActorTest, AnUnansweredRequestTimesOutAndIsCounted) {
  start(2);
  run(12, 1.0);
  ASSERT_EQ(set_cores().size(), 1u);
  runner_->advance(std::chrono::seconds(2));
  EXPECT_FALSE(actor_->request_pending());
  EXPECT_EQ(actor_->counters().set_cores_failed, 1u);
}

TEST_F(ScaleActorTest, PinnedMakesEveryCoreServeAndNeverScalesDown) {
  fake_.cores_active = 1;
  start(2, /*pinned=*/true);
  run(2, 0.0);
  auto sent = set_cores();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].cores(), 2u);
  answer_last();
  run(300, 0.0);
  EXPECT_EQ(set_cores().size(), 1u);
}

TEST_F(ScaleActorTest, ACoreCountSetBySomeoneElseRestartsTheMeasurement) {
  start(2);
  run(12, 0.1);
  EXPECT_TRUE(set_cores().empty());
  fake_.cores_active = 2;  // vtasctl call fastpath set_cores
  run(1, 0.1);
  EXPECT_EQ(actor_->counters().outside_changes, 1u);
  EXPECT_EQ(actor_->monitor().holding(), 10u);
  run(11, 0.1);
  auto sent = set_cores();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].cores(), 1u);
}

TEST_F(ScaleActorTest, WaitsForTheFlowTableAndFollowsARestartedFastPath) {
  fake_.available = false;
  start(2);
  EXPECT_FALSE(actor_->attached());
  run(20, 1.0);
  EXPECT_TRUE(set_cores().empty());
  fake_.available = true;
  run(10, 1.0);  // the retry (every 100 ms) comes due
  EXPECT_TRUE(actor_->attached());
  EXPECT_EQ(fake_.opens, 1);
  // The fast path restarts: a new table, all counters from zero.
  supervisor::ActorEvent started;
  started.set_actor("fastpath");
  started.set_kind(supervisor::ActorEvent::KIND_STARTED);
  runner_->deliver_event("supervisor", started);
  EXPECT_EQ(fake_.opens, 2);
  fake_.busy_ns = 0;
  run(12, 1.0);
  ASSERT_EQ(set_cores().size(), 1u);
  EXPECT_EQ(set_cores()[0].cores(), 2u);
  // A replaced table is also noticed by the periodic check.
  fake_.current = false;
  run(100, 1.0);
  EXPECT_EQ(fake_.opens, 3);
}

TEST_F(ScaleActorTest, ABadManifestFailsTheStartWithTheReason) {
  manifest::Manifest m;
  m.mutable_tas()->set_fp_cores_max(40);
  m.set_runtime_dir("/tmp/x");
  ScaleActor actor("scale", config_from_manifest(m));
  testing::TestRunner runner(actor);
  Status s = runner.start();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("40"), std::string::npos) << s.error().message;
}

TEST(ScaleConfig, ComesFromTheManifest) {
  manifest::Manifest m;
  m.set_runtime_dir("/run/vtas/t");
  m.mutable_tas()->set_fp_cores_max(3);
  m.mutable_tas()->set_fp_no_autoscale(true);
  auto* a = m.add_actor();
  a->set_name("fp");
  a->set_kind("fastpath");
  auto c = config_from_manifest(m);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->monitor.max_cores, 3u);
  EXPECT_TRUE(c->monitor.pinned);
  EXPECT_EQ(c->fastpath, "fp");
  EXPECT_EQ(c->flow_table_path, "/run/vtas/t/flows");
  EXPECT_EQ(c->interval, milliseconds(10));
}

// scale { ... } in the scale actor's manifest entry: thresholds, sample period, hold.
TEST(ScaleConfig, TheScaleActorsSettingsReachTheMonitor) {
  auto loaded = load_manifest_text(
      "runtime_dir: \"/run/vtas/t\"\n"
      "actor { name: \"other\" kind: \"scale\" scale { up_below_idle_cores: 0.1 } }\n"
      "actor { name: \"sc\" kind: \"scale\" scale { up_below_idle_cores: 0.6 "
      "down_above_idle_cores: 1.7 sample_interval_us: 5000 hold_samples: 3 } }\n",
      "m.txtpb", testing_manifest::all_kinds());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto c = config_from_manifest(*loaded, "sc");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_DOUBLE_EQ(c->monitor.scale_up_idle_cores, 0.6);
  EXPECT_DOUBLE_EQ(c->monitor.scale_down_idle_cores, 1.7);
  EXPECT_EQ(c->monitor.hold_samples, 3u);
  EXPECT_EQ(c->interval, microseconds(5000));
  // Unset: TAS's values.
  auto d = config_from_manifest(manifest::Manifest());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_DOUBLE_EQ(d->monitor.scale_up_idle_cores, 0.2);
  EXPECT_DOUBLE_EQ(d->monitor.scale_down_idle_cores, 1.25);
  EXPECT_EQ(d->monitor.hold_samples, 10u);
}

TEST(ScaleConfig, BadSettingsAreReportedWhereTheyAre) {
  auto errors = [](const std::string& settings) {
    return testing_manifest::errors_of("actor { name: \"sc\" kind: \"scale\"\n  scale { " +
                                       settings + " } }\n");
  };
  EXPECT_EQ(errors("up_below_idle_cores: 0.6 down_above_idle_cores: 1.7"), "");
  EXPECT_EQ(errors("up_below_idle_cores: 1"),
            "m.txtpb:2:32: actor[0].scale.up_below_idle_cores: 1: out of range (allowed: 0 <= x < 1)");
  EXPECT_NE(errors("down_above_idle_cores: 1.1").find(
                "m.txtpb:2:34: actor[0].scale.down_above_idle_cores: 1.1 must be more than "
                "up_below_idle_cores + 1 (1.2)"),
            std::string::npos)
      << errors("down_above_idle_cores: 1.1");
  EXPECT_EQ(errors("sample_interval_us: 50"),
            "m.txtpb:2:31: actor[0].scale.sample_interval_us: 50: out of range (allowed: 100..1000000)");
  EXPECT_EQ(errors("hold_samples: 20000"),
            "m.txtpb:2:25: actor[0].scale.hold_samples: 20000: out of range (allowed: 0..10000)");
  EXPECT_EQ(testing_manifest::errors_of("actor { name: \"c\" kind: \"conn\" scale { } }\n"),
            "m.txtpb:1:32: actor[0].scale: only scale actors take scale settings (this one is "
            "\"conn\")");
}

}  // namespace
}  // namespace vtas::scale
