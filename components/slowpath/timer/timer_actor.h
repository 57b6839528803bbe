// TimerActor: the `timer` actor. Two duties, one timing wheel (TimerWheel, 1 tick = 1 us):
//
// 1. Explicit timers for other actors. ArmTimer{key, delay_us, kind} from an actor (the owner
//    is the envelope's sender) arms a one-shot timer; re-arming the same (owner, key) replaces
//    its deadline; CancelTimer{key} drops it; at expiry the owner gets TimerFired{key, kind,
//    late_us}. Timers fire no earlier than delay_us after the ArmTimer arrived. An owner that
//    restarts still gets its timers (it decides what a late or unknown key means).
//
// 2. Retransmission timeouts and zero-window probes, derived from the fast path's flow table
//    (`<runtime_dir>/flows`, mapped read-write; the actor writes FlowState::rto_backoff and
//    nothing else). A sweep walks the table round robin (TimerConfig::sweep_*), and every flow
//    it finds with data in flight or a closed peer window is then watched on the wheel: checked
//    at its RTO deadline (FlowWatch / RtoPolicy), which sends `Retransmit{flow_id}` or
//    `WindowProbe{flow_id}` to the fast path when no progress was made, backing off
//    exponentially, or re-arms for the new deadline after progress. If the table is not there
//    at start (the fast path starts later or is restarting), the actor retries attaching every
//    100 ms and says so once; when the fast path re-creates the table it re-attaches (both
//    through fastpath::FollowedFlowTable, shared with the cc actor).
//
// Restart contract (what a new incarnation of `timer` rebuilds, and from where):
//   - RTO and persist state: from the flow table alone. Flows in flight are found by the
//     first sweep cycle after start and resume the backoff stored in FlowState::rto_backoff.
//   - Explicit timers: NOT kept. Every owner re-arms its pending timers (with what is left of
//     each) when it receives `ActorEvent{actor: <timer's name>, kind: STARTED}` from the
//     supervisor. conn does this for handshake timers; any new user of ArmTimer must too.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "components/fastpath/followed_flow_table.h"
#include "components/slowpath/timer/explicit_timers.h"
#include "components/slowpath/timer/flow_table_source.h"
#include "components/slowpath/timer/flow_watch.h"
#include "components/slowpath/timer/timer_config.h"
#include "components/slowpath/timer/timer_wheel.h"
#include "proto/timer.pb.h"
#include "runtime/actor.h"
#include "runtime/actor_registry.h"
#include "runtime/log.h"
#include "runtime/shm/region.h"

namespace vtas::timer {

// Counters reported by fill_stats (monotonic unless noted).
struct TimerCounters {
  uint64_t timers_armed = 0;
  uint64_t timers_rearmed = 0;  // ArmTimer for a (owner, key) that was pending
  uint64_t timers_cancelled = 0;
  uint64_t timers_fired = 0;
  uint64_t timers_refused = 0;      // table full
  uint64_t fire_send_failures = 0;  // TimerFired could not be queued to its owner
  uint64_t retransmits_sent = 0;
  uint64_t probes_sent = 0;
  uint64_t fastpath_send_failures = 0;
  uint64_t flow_checks = 0;  // flows looked at on their deadline
  uint64_t slots_swept = 0;  // flow-table slots the sweep looked at
  uint64_t sweep_cycles = 0;
  uint64_t sweep_ticks_idle = 0;  // ticks that started no cycle: the fast path sent nothing
  uint64_t attaches = 0;
  uint64_t checks_deferred = 0;  // due checks pushed to the next wake-up (burst limit)
};

class TimerActor final : public Actor {
 public:
  TimerActor(std::string name, TimerConfig config, std::unique_ptr<FlowTableSource> source);
  // From the manifest; a bad manifest makes on_start() fail with the reason.
  TimerActor(std::string name, Result<TimerConfig> config);

  Status on_start() override;
  void on_stop() override;
  void fill_stats(supervisor::StatsReport* report) override;

  const TimerCounters& counters() const { return counters_; }
  bool attached() const { return flows_.attached(); }
  size_t explicit_timers() const { return explicit_ ? explicit_->size() : 0; }
  // Flows currently watched on the wheel (in flight or in a zero window).
  size_t watched_flows() const { return watched_; }
  // Slots the sweep looked at per second, over the last whole second.
  uint64_t slots_swept_per_second() const { return swept_per_second_; }

 private:
  static constexpr uint64_t kFlowCookie = uint64_t{1} << 63;
  static constexpr uint64_t kLongestSleepUs = 86400ull * 1000000;

  void handle_arm_timer(const ArmTimer& m, const Incoming& in);
  void handle_cancel_timer(const CancelTimer& m, const Incoming& in);
  void handle_actor_event(const supervisor::ActorEvent& m, const Incoming& in);

  uint64_t now_us() const;
  // Makes the loop wake at the wheel's next event (or at once if checks are waiting).
  void schedule_wakeup();
  void on_wakeup();
  void on_expired(const TimerWheel::Expired& e);

  // FollowedFlowTable callbacks: a table was mapped / is about to go.
  Status on_table_attached();
  void on_table_detaching();
  void sweep_step();
  // Looks at the next slots of the current cycle (or starts one); returns how many.
  uint32_t sweep_slots(uint64_t now_us);
  // Packets the fast-path cores sent so far (their CoreCounters::tx_packets).
  uint64_t packets_sent() const;
  // Looks at flow `id` now and carries out the verdict.
  void check(uint32_t id);
  void watch(uint32_t id, std::optional<uint64_t> recheck_at_us);

  std::string init_error_;
  TimerConfig config_;
  TimerCounters counters_;

  std::optional<TimerWheel> wheel_;
  std::optional<ExplicitTimers> explicit_;
  std::deque<TimerWheel::Expired> due_;
  std::vector<TimerWheel::Expired> expired_scratch_;
  TimerQueue::Id wakeup_timer_ = 0;
  std::optional<uint64_t> wakeup_at_us_;

  // The flow table, when attached. watches_/handles_ are indexed by flow id.
  fastpath::FollowedFlowTable flows_;
  std::vector<FlowWatch> watches_;
  std::vector<TimerWheel::Handle> handles_;
  size_t watched_ = 0;
  uint32_t sweep_cursor_ = 0;
  bool first_cycle_ = true;  // the sweep has not been all round the table since attaching
  uint64_t packets_at_cycle_start_ = 0;
  uint64_t cycle_started_us_ = 0;

  // Sweep rate over whole seconds.
  uint64_t rate_window_start_us_ = 0;
  uint64_t rate_window_slots_ = 0;
  uint64_t swept_per_second_ = 0;

  log::RateLimit send_failure_log_{5, 1000000000ull};
};

void register_actors(ActorRegistry& registry);

}  // namespace vtas::timer
