// CcActor: the `cc` actor (congestion control). It maps the fast path's flow table
// (`<runtime_dir>/flows`), finds the flows in it (slot_sweep.h), and runs TAS's control loop
// over them with the algorithms of components/cc/algorithms: every --cc-control-interval RTTs
// per flow, in rounds at most one per --cc-control-granularity us, it reads the flow's
// counters (ACKs, acknowledged and ECN-echoed bytes, loss events, RTT) and writes the rate
// the algorithm decides into FlowState::tx_rate_kbps, which the fast path enforces by pacing.
// The actor sleeps until the earliest flow is due (control_schedule.h); with no flows it only
// wakes for its sweep tick.
//
// State and restart: each flow's algorithm state (CcFlowState) lives in the actor's own
// shared-memory file `<runtime_dir>/cc.state` (cc_state_region.h), one record per flow-table
// slot, rewritten whole after every step. A new incarnation (after kill -9 or an upgrade of
// the same layout) maps the file, and its first full sweep resumes every flow whose record is
// intact and belongs to the flow now in the slot; any other flow is adopted at the rate it
// has now (resume_or_adopt). Rates never collapse to the initial rate on a restart.
//
// A flow found later (a new connection) starts as TAS starts one: the initial rate of the
// algorithm of new flows, slow start. A new connection in a reused slot is told apart by its
// identity (4-tuple + the app's opaque, flow_view.h) and starts fresh too. Rates are written
// only when a step decided one (dctcp-rate gathering ACKs, or timely without an RTT sample,
// leaves the flow's rate alone: the fast path may have halved it on a loss since).
//
// Policy at run time, through proto/cc.proto (vtasctl call cc ...): SetAlgorithm, SetParams,
// PolicyQuery, FlowQuery. The policy in effect is kept in the state file too, with the
// identity of the flow table: a cc restarted within the same instance keeps what an operator
// set; a new instance (a new flow table) starts from the manifest. Stats: flows controlled, rounds,
// steps, rates written, a rate histogram and the flows with the highest rates.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "components/cc/actor/cc_config.h"
#include "components/cc/actor/cc_state_region.h"
#include "components/cc/actor/flow_roster.h"
#include "components/cc/actor/flow_table_source.h"
#include "components/cc/actor/slot_sweep.h"
#include "components/fastpath/followed_flow_table.h"
#include "proto/cc.pb.h"
#include "runtime/actor.h"
#include "runtime/actor_registry.h"
#include "runtime/log.h"
#include "runtime/shm/region.h"

namespace vtas::cc {

// Counters reported by fill_stats (monotonic).
struct CcCounters {
  uint64_t rounds = 0;
  uint64_t rounds_cut_short = 0;  // max_steps_per_round reached, the rest went to the next round
  uint64_t steps = 0;             // control steps run
  uint64_t rates_written = 0;     // steps that decided a rate (written to the flow)
  uint64_t undecided_steps = 0;   // steps that decided nothing (gathering ACKs, no RTT yet)
  uint64_t idle_checks = 0;       // looks at a flow whose counters had not moved
  uint64_t flows_started = 0;     // new connections (initial rate, slow start)
  uint64_t flows_resumed = 0;     // taken over from a previous incarnation's record
  uint64_t flows_adopted = 0;     // running flows without a usable record
  uint64_t flows_ended = 0;
  uint64_t slot_reuses = 0;       // a new connection found in a tracked flow's slot
  uint64_t records_repaired = 0;  // a tracked flow's record was not ours any more: adopted
  uint64_t attaches = 0;
  uint64_t state_files_created = 0;
  uint64_t policy_changes = 0;
  uint64_t policy_rejects = 0;
  uint64_t policy_restored = 0;  // the previous incarnation's run-time policy was taken over
};

class CcActor final : public Actor {
 public:
  CcActor(std::string name, CcConfig config, std::unique_ptr<FlowTableSource> source);
  // From the manifest; a bad manifest makes on_start() fail with the reason.
  CcActor(std::string name, Result<CcConfig> config);
  ~CcActor() override;

  Status on_start() override;
  void on_stop() override;
  void fill_stats(supervisor::StatsReport* report) override;

  const CcCounters& counters() const { return counters_; }
  bool attached() const { return flows_.attached() && state_.has_value(); }
  uint32_t flows_controlled() const { return roster_ ? roster_->size() : 0; }
  const Params& params() const { return config_.params; }
  // When the next round is due (nullopt: no flow is scheduled).
  std::optional<uint64_t> wakeup_at_us() const { return wakeup_at_us_; }
  // Whether the first full sweep since attaching (the one that resumes flows) is done.
  bool initial_sweep_done() const { return sweep_ && sweep_->initial_cycle_done(); }

 private:
  void handle_set_algorithm(const SetAlgorithm& m, const Incoming& in);
  void handle_set_params(const SetParams& m, const Incoming& in);
  void handle_policy_query(const PolicyQuery& m, const Incoming& in);
  void handle_flow_query(const FlowQuery& m, const Incoming& in);
  void handle_actor_event(const supervisor::ActorEvent& m, const Incoming& in);

  uint64_t now_us() const;

  // ---- the flow table and the state file
  // FollowedFlowTable callbacks: a table was mapped (opens the state file) / is about to go.
  Status on_table_attached();
  void on_table_detaching();
  uint64_t exceptions_seen() const;

  // ---- finding flows
  void sweep_tick();
  void look_at_slot(uint32_t id, bool initial, uint64_t now);
  void start_new_flow(uint32_t id, uint64_t key, uint64_t now);
  void take_over_flow(uint32_t id, uint64_t key, uint64_t now);
  void end_flow(uint32_t id);

  // ---- control rounds
  void schedule_wakeup();
  void on_wakeup();
  void control(uint32_t id, uint64_t now);
  // Writes `rate` into the flow if the slot still holds the flow `key`.
  bool write_rate_if_same(uint32_t id, uint64_t key, uint32_t rate_kbps);

  // ---- policy
  void restore_policy();
  void save_policy();
  Policy policy_answer(uint32_t flows_changed) const;
  void refuse(const Incoming& in, const std::string& why);
  // Applies `change` to the record of every tracked flow (or one), writing changed rates.
  template <class Change>
  uint32_t change_flows(std::optional<uint32_t> only, Change change);

  std::string init_error_;
  CcConfig config_;
  CcCounters counters_;

  fastpath::FollowedFlowTable flows_;
  std::optional<CcStateRegion> state_;
  std::optional<FlowRoster> roster_;
  std::optional<SlotSweep> sweep_;

  std::optional<uint64_t> last_round_us_;
  TimerQueue::Id wakeup_timer_ = 0;
  std::optional<uint64_t> wakeup_at_us_;
  int wakeup_fd_ = -1;  // timerfd for precise wake-ups
  TimerQueue::Id sweep_timer_ = 0;
  bool attached_before_ = false;  // in this incarnation
  TableIdentity table_identity_{};

  log::RateLimit warn_limit_{5, 1000000000ull};
};

void register_actors(ActorRegistry& registry);

}  // namespace vtas::cc
