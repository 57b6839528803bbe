#include "components/cc/actor/cc_actor.h"

#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "components/cc/actor/cc_policy.h"
#include "components/cc/actor/cc_report.h"
#include "components/cc/actor/flow_view.h"
#include "components/cc/algorithms/congestion_control.h"
#include "components/cc/algorithms/control_schedule.h"
#include "runtime/shm/abi.h"

namespace vtas::cc {
namespace {

constexpr uint32_t kDefaultQueryLimit = 16;
constexpr uint32_t kMaxQueryLimit = 1024;
constexpr size_t kTopFlowsInStats = 16;

TableIdentity identity_of(const shm::Region& table) {
  TableIdentity id{};
  struct stat st {};
  if (table.fd() >= 0 && ::fstat(table.fd(), &st) == 0) {
    id.device = static_cast<uint64_t>(st.st_dev);
    id.inode = static_cast<uint64_t>(st.st_ino);
  }
  if (const auto* h = table.at<shm::RegionHeader>(0)) id.creator_pid = h->creator_pid;
  return id;
}

void add_counter(supervisor::StatsReport* report, const char* name, uint64_t value) {
  auto* c = report->add_counters();
  c->set_name(name);
  c->set_value(value);
}

}  // namespace

CcActor::CcActor(std::string name, CcConfig config, std::unique_ptr<FlowTableSource> source)
    : Actor(std::move(name)), config_(std::move(config)), flows_(std::move(source)) {
  on(&CcActor::handle_set_algorithm);
  on(&CcActor::handle_set_params);
  on(&CcActor::handle_policy_query);
  on(&CcActor::handle_flow_query);
  on(&CcActor::handle_actor_event);
}

CcActor::CcActor(std::string name, Result<CcConfig> config)
    : CcActor(std::move(name), config ? *config : CcConfig{},
              config ? std::make_unique<FileFlowTableSource>(config->flow_table_path) : nullptr) {
  if (!config) init_error_ = config.error().message;
}

CcActor::~CcActor() {
  if (wakeup_fd_ >= 0) ::close(wakeup_fd_);
}

uint64_t CcActor::now_us() const {
  return to_ns(now()) / 1000;
}

Status CcActor::on_start() {
  if (!init_error_.empty()) return make_error(init_error_);
  if (Status s = validate(config_); !s) return s;
  if (!flows_.has_source()) return make_error("cc: no flow table source configured");
  if (config_.precise_wakeups) {
    wakeup_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (wakeup_fd_ < 0) {
      return make_error("cc: timerfd_create failed (" + std::to_string(errno) +
                        "); set precise_wakeups off or check the process's fd limit");
    }
    watch_fd(wakeup_fd_, [this] {
      uint64_t expirations = 0;
      [[maybe_unused]] ssize_t n = ::read(wakeup_fd_, &expirations, sizeof expirations);
      // The loop would run the round's timer on this pass anyway once its deadline passed;
      // running it here keeps the two paths to one.
      if (wakeup_at_us_ && now_us() >= *wakeup_at_us_) {
        if (wakeup_timer_ != 0) cancel_timer(wakeup_timer_);
        wakeup_timer_ = 0;
        wakeup_at_us_.reset();
        on_wakeup();
      }
    });
  }
  flows_.start(io(), log(), {.retry = config_.attach_retry, .check = config_.table_check},
               {.attached = [this] { return on_table_attached(); },
                .detaching = [this](const char*) { on_table_detaching(); }});
  log().info(
      "congestion control ready: new flows under {}, control every {} RTT(s), rounds at "
      "most every {} us",
      algorithm_name(config_.params.algorithm), config_.params.control_interval_rtts,
      config_.params.control_granularity_us);
  return Status();
}

void CcActor::on_stop() {
  log().info("stopping: {} flow(s) under control; their state stays in {}", flows_controlled(),
             config_.state_path);
}

// ---- the flow table and the state file ---------------------------------------------------------

Status CcActor::on_table_attached() {
  auto state = CcStateRegion::open_or_create(config_.state_path, flows_.max_flows(), now_us());
  if (!state) return state.error();
  state_.emplace(std::move(*state));
  ++counters_.attaches;
  if (!state_->reused()) ++counters_.state_files_created;
  roster_.emplace(flows_.max_flows());
  sweep_.emplace(flows_.max_flows(), config_.sweep);
  last_round_us_.reset();
  table_identity_ = identity_of(flows_.region());
  // Only a new incarnation takes over a stored policy; after a re-attach (the fast path
  // re-created its table) the policy in memory is the one in effect.
  if (!attached_before_) restore_policy();
  attached_before_ = true;
  save_policy();
  if (state_->reused()) {
    log().info("attached flow table {} ({} slots); resuming from the state in {}",
               flows_.describe(), flows_.max_flows(), state_->path());
  } else {
    log().info("attached flow table {} ({} slots); new state file {} ({})", flows_.describe(),
               flows_.max_flows(), state_->path(), state_->fresh_reason());
  }
  sweep_tick();
  return Status();
}

void CcActor::on_table_detaching() {
  if (wakeup_timer_ != 0) cancel_timer(wakeup_timer_);
  wakeup_timer_ = 0;
  wakeup_at_us_.reset();
  if (sweep_timer_ != 0) cancel_timer(sweep_timer_);
  sweep_timer_ = 0;
  sweep_.reset();
  roster_.reset();
  state_.reset();
}

void CcActor::handle_actor_event(const supervisor::ActorEvent& m, const Incoming&) {
  flows_.on_actor_event(m, config_.fastpath);
}

uint64_t CcActor::exceptions_seen() const {
  return flows_.core_counter_sum(&abi::CoreCounters::exceptions);
}

// ---- finding flows
// --------------------------------------------------------------------------------

void CcActor::sweep_tick() {
  sweep_timer_ = 0;
  if (!flows_.attached()) return;
  const uint64_t now = now_us();
  const SlotSweep::Range range = sweep_->next(now, exceptions_seen());
  for (uint32_t id = range.begin; id < range.end; ++id) look_at_slot(id, range.initial, now);
  if (!range.empty()) schedule_wakeup();
  sweep_timer_ =
      after(sweep_->busy(now) ? config_.sweep_tick_busy : config_.sweep_tick_idle, [this] {
        sweep_timer_ = 0;
        sweep_tick();
      });
}

void CcActor::look_at_slot(uint32_t id, bool initial, uint64_t now) {
  abi::FlowState& fs = *flows_.table().flow(id);
  // A free slot costs this one load (one cache line).
  if (!controllable(read_flags(fs))) return;
  sweep_->saw_flow(id);
  const uint64_t key = flow_identity(fs);
  const TrackedFlow* tracked = roster_->find(id);
  if (tracked && tracked->key == key) return;
  if (tracked) {
    ++counters_.slot_reuses;
    start_new_flow(id, key, now);
  } else if (initial) {
    take_over_flow(id, key, now);
  } else {
    start_new_flow(id, key, now);
  }
}

void CcActor::start_new_flow(uint32_t id, uint64_t key, uint64_t now) {
  const abi::FlowState& fs = *flows_.table().flow(id);
  const FlowSample sample = read_sample(fs);
  const CcFlowState record = start_flow(config_.params, config_.params.algorithm, key, sample, now);
  state_->write(id, record);
  // Starting is a decision: TAS sets the initial rate when the connection opens.
  write_rate_if_same(id, key, record.rate_kbps);
  roster_->track(id, key, flow_due_at_us(config_.params, now, sample.rtt_us), false);
  ++counters_.flows_started;
}

void CcActor::take_over_flow(uint32_t id, uint64_t key, uint64_t now) {
  const abi::FlowState& fs = *flows_.table().flow(id);
  const FlowSample sample = read_sample(fs);
  const Attached found =
      resume_or_adopt(config_.params, state_->read(id), key, read_rate(fs), sample, now);
  uint64_t due = 0;
  if (found.resumed()) {
    // The record's snapshot is from its last step: the next step covers everything since.
    due = flow_due_at_us(config_.params, found.state.last_step_us, sample.rtt_us);
    ++counters_.flows_resumed;
  } else {
    // Adopted at the rate the flow has now; nothing is written to the flow.
    state_->write(id, found.state);
    due = flow_due_at_us(config_.params, now, sample.rtt_us);
    ++counters_.flows_adopted;
    log().debug("flow {} adopted at {} kbps: {}", id, found.state.rate_kbps, describe(found.found));
  }
  roster_->track(id, key, due, found.resumed());
}

void CcActor::end_flow(uint32_t id) {
  roster_->untrack(id);
  state_->clear(id);
  ++counters_.flows_ended;
}

bool CcActor::write_rate_if_same(uint32_t id, uint64_t key, uint32_t rate_kbps) {
  abi::FlowState& fs = *flows_.table().flow(id);
  // Look again right before the store: the slot may have been handed to another flow since
  // the step read it (a narrow window, closed by the next step of the new flow).
  if (!controllable(read_flags(fs)) || flow_identity(fs) != key) return false;
  write_rate(fs, rate_kbps);
  return true;
}

// ---- control rounds
// ---------------------------------------------------------------------------------

void CcActor::schedule_wakeup() {
  if (!roster_) return;
  const std::optional<uint64_t> next =
      next_wakeup_us(config_.params, last_round_us_, roster_->next_due_us());
  if (wakeup_timer_ != 0 && wakeup_at_us_ == next) return;
  if (wakeup_timer_ != 0) cancel_timer(wakeup_timer_);
  wakeup_timer_ = 0;
  wakeup_at_us_ = next;
  if (!next) return;
  const uint64_t delay_us = sleep_for_us(*next, now_us());
  wakeup_timer_ = after(std::chrono::microseconds(delay_us), [this] {
    wakeup_timer_ = 0;
    wakeup_at_us_.reset();
    on_wakeup();
  });
  if (wakeup_fd_ >= 0 && delay_us > 0) {
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(delay_us / 1000000);
    spec.it_value.tv_nsec = static_cast<long>(delay_us % 1000000) * 1000;
    ::timerfd_settime(wakeup_fd_, 0, &spec, nullptr);
  }
}

void CcActor::on_wakeup() {
  if (!roster_) return;
  const uint64_t now = now_us();
  if (round_allowed(config_.params, last_round_us_, now)) {
    last_round_us_ = now;
    ++counters_.rounds;
    uint32_t budget = config_.max_steps_per_round;
    while (budget > 0) {
      const std::optional<uint32_t> id = roster_->pop_due(now);
      if (!id) break;
      control(*id, now);
      --budget;
    }
    if (budget == 0 && roster_->next_due_us().value_or(UINT64_MAX) <= now) {
      ++counters_.rounds_cut_short;
    }
  }
  schedule_wakeup();
}

void CcActor::control(uint32_t id, uint64_t now) {
  TrackedFlow* tracked = roster_->find(id);
  abi::FlowState& fs = *flows_.table().flow(id);
  if (tracked == nullptr) return;
  if (!controllable(read_flags(fs))) {
    end_flow(id);
    return;
  }
  const uint64_t key = flow_identity(fs);
  if (key != tracked->key) {
    ++counters_.slot_reuses;
    start_new_flow(id, key, now);
    return;
  }
  const FlowSample sample = read_sample(fs);
  const CcFlowState record = state_->read(id);
  if (check_resumable(record, key) != ResumeCheck::kResumable) {
    // Our own record is not what we wrote (the file was damaged or replaced under us): keep
    // the flow at the rate it has and continue from there.
    state_->write(
        id, adopt_flow(config_.params, config_.params.algorithm, key, read_rate(fs), sample, now));
    ++counters_.records_repaired;
    roster_->schedule(id, flow_due_at_us(config_.params, now, sample.rtt_us));
    return;
  }
  if (sample.counters == record.seen) {
    // Nothing acknowledged, nothing lost since the last step: nothing to decide. Look again
    // later, backing off while the flow stays idle; the step that follows covers the time.
    tracked->idle_checks = static_cast<uint8_t>(std::min(tracked->idle_checks + 1, 31));
    ++counters_.idle_checks;
    const uint64_t backoff = std::min<uint64_t>(
        config_.idle_check_max_us,
        uint64_t{config_.idle_check_min_us} << std::min<uint32_t>(tracked->idle_checks - 1u, 20u));
    const uint64_t period = control_period_us(config_.params, sample.rtt_us);
    roster_->schedule(id, now + std::max(backoff, period));
    return;
  }
  tracked->idle_checks = 0;
  const StepResult r = control_step(config_.params, record, sample, now);
  state_->write(id, r.state);
  ++counters_.steps;
  ++tracked->steps;
  if (r.decided()) {
    if (write_rate_if_same(id, key, r.rate_kbps)) {
      ++counters_.rates_written;
      ++tracked->rates_written;
    }
  } else {
    ++counters_.undecided_steps;
  }
  roster_->schedule(id, flow_due_at_us(config_.params, now, sample.rtt_us));
}

// ---- policy
// -------------------------------------------------------------------------------------------

void CcActor::restore_policy() {
  const std::optional<std::string> stored = state_->read_policy(table_identity_);
  if (!stored) return;
  manifest::TasParameters tas;
  if (!tas.ParseFromString(*stored)) return;
  auto params = params_from_proto(tas);
  if (!params) {
    log().warn("the stored run-time policy is not valid ({}); using the manifest's",
               params.error().message);
    return;
  }
  if (*params == config_.params) return;
  config_.params = *params;
  config_.tas = cc_fields_of(tas);
  ++counters_.policy_restored;
  log().info("continuing with the run-time policy set before this restart: new flows under {}",
             algorithm_name(config_.params.algorithm));
}

void CcActor::save_policy() {
  if (!state_) return;
  std::string bytes;
  if (!config_.tas.SerializeToString(&bytes) || !state_->write_policy(bytes, table_identity_)) {
    log().warn(
        "the policy ({} bytes) does not fit the state file; a restart will use the "
        "manifest's",
        bytes.size());
  }
}

Policy CcActor::policy_answer(uint32_t flows_changed) const {
  Policy p;
  p.set_algorithm(std::string(algorithm_name(config_.params.algorithm)));
  *p.mutable_tas() = config_.tas;
  p.set_flows_controlled(flows_controlled());
  p.set_flows_changed(flows_changed);
  return p;
}

void CcActor::refuse(const Incoming& in, const std::string& why) {
  ++counters_.policy_rejects;
  log().warn("policy change from '{}' refused: {}", in.sender(), why);
  supervisor::Ack ack;
  ack.set_ok(false);
  ack.set_error(why);
  reply(in, ack);
}

template <class Change>
uint32_t CcActor::change_flows(std::optional<uint32_t> only, Change change) {
  if (!roster_) return 0;
  uint32_t changed = 0;
  auto apply = [&](uint32_t id) {
    const TrackedFlow* tracked = roster_->find(id);
    if (tracked == nullptr) return;
    const CcFlowState before = state_->read(id);
    if (check_resumable(before, tracked->key) != ResumeCheck::kResumable) return;
    const CcFlowState after = change(before);
    state_->write(id, after);
    // What must not wait for the next step (a new constant rate, a raised floor) goes to the
    // flow now; an unchanged rate is left alone (the fast path may have halved it).
    if (after.rate_kbps != before.rate_kbps) write_rate_if_same(id, tracked->key, after.rate_kbps);
    ++changed;
  };
  if (only) {
    apply(*only);
  } else {
    for (uint32_t id : roster_->ids()) apply(id);
  }
  return changed;
}

void CcActor::handle_set_algorithm(const SetAlgorithm& m, const Incoming& in) {
  const auto algorithm = algorithm_from_name(m.algorithm());
  if (!algorithm) {
    refuse(in, "cc: algorithm '" + m.algorithm() +
                   "' is unknown (allowed: dctcp-rate, dctcp-win, timely, const-rate)");
    return;
  }
  const Scope scope = m.scope() == SCOPE_UNSPECIFIED ? SCOPE_ALL_FLOWS : m.scope();
  uint32_t changed = 0;
  auto switch_to = [&](const CcFlowState& s) {
    return switch_algorithm(config_.params, s, *algorithm);
  };
  if (scope == SCOPE_ONE_FLOW) {
    if (!roster_ || roster_->find(m.flow_id()) == nullptr) {
      refuse(in, "cc: flow " + std::to_string(m.flow_id()) +
                     " is not under control (cc_flow_query lists the flows)");
      return;
    }
    changed = change_flows(m.flow_id(), switch_to);
  } else {
    config_.params.algorithm = *algorithm;
    config_.tas.set_cc(to_proto(*algorithm));
    if (scope == SCOPE_ALL_FLOWS) changed = change_flows(std::nullopt, switch_to);
    save_policy();
  }
  ++counters_.policy_changes;
  log().info("algorithm {} for {} ({} running flow(s) switched), asked by '{}'",
             algorithm_name(*algorithm),
             scope == SCOPE_ONE_FLOW    ? "flow " + std::to_string(m.flow_id())
             : scope == SCOPE_NEW_FLOWS ? std::string("new flows")
                                        : std::string("all flows"),
             changed, in.sender());
  reply(in, policy_answer(changed));
}

void CcActor::handle_set_params(const SetParams& m, const Incoming& in) {
  auto merged = merge_cc_fields(config_.tas, m.tas());
  if (!merged) {
    refuse(in, merged.error().message);
    return;
  }
  auto params = params_from_proto(*merged);
  if (!params) {
    refuse(in, params.error().message);
    return;
  }
  config_.params = *params;
  config_.tas = *merged;
  save_policy();
  const uint32_t changed =
      change_flows(std::nullopt, [&](const CcFlowState& s) { return retune(config_.params, s); });
  ++counters_.policy_changes;
  log().info("parameters changed by '{}' ({} flow(s) retuned): {}", in.sender(), changed,
             m.tas().ShortDebugString());
  reply(in, policy_answer(changed));
  // A new interval or granularity moves the next round.
  schedule_wakeup();
}

void CcActor::handle_policy_query(const PolicyQuery&, const Incoming& in) {
  reply(in, policy_answer(0));
}

void CcActor::handle_flow_query(const FlowQuery& m, const Incoming& in) {
  if (!attached()) {
    supervisor::Ack ack;
    ack.set_ok(false);
    ack.set_error("cc: not attached to the flow table yet (is the fast path running?)");
    reply(in, ack);
    return;
  }
  const uint64_t now = now_us();
  FlowReport report;
  report.set_flows_controlled(flows_controlled());
  auto add = [&](uint32_t id) {
    const TrackedFlow* tracked = roster_->find(id);
    *report.add_flows() = describe_flow(id, state_->read(id), *flows_.table().flow(id), *tracked, now);
  };
  if (m.flow_id() != 0) {
    if (roster_->find(m.flow_id()) == nullptr) {
      supervisor::Ack ack;
      ack.set_ok(false);
      ack.set_error("cc: flow " + std::to_string(m.flow_id()) +
                    " is not under control (query with flow_id 0 to list the flows)");
      reply(in, ack);
      return;
    }
    add(m.flow_id());
  } else {
    const uint32_t limit =
        m.limit() == 0 ? kDefaultQueryLimit : std::min(m.limit(), kMaxQueryLimit);
    std::vector<std::pair<uint32_t, uint32_t>> all;
    all.reserve(roster_->size());
    for (uint32_t id : roster_->ids()) all.emplace_back(state_->read(id).rate_kbps, id);
    for (const auto& [rate, id] : top_by_rate(std::move(all), limit)) add(id);
  }
  reply(in, report);
}

// ---- stats
// -------------------------------------------------------------------------------------------

void CcActor::fill_stats(supervisor::StatsReport* report) {
  const CcCounters& c = counters_;
  add_counter(report, "flow_table_attached", attached() ? 1 : 0);
  add_counter(report, "flows_controlled", flows_controlled());
  add_counter(report, "rounds", c.rounds);
  add_counter(report, "rounds_cut_short", c.rounds_cut_short);
  add_counter(report, "steps", c.steps);
  add_counter(report, "rates_written", c.rates_written);
  add_counter(report, "undecided_steps", c.undecided_steps);
  add_counter(report, "idle_checks", c.idle_checks);
  add_counter(report, "flows_started", c.flows_started);
  add_counter(report, "flows_resumed", c.flows_resumed);
  add_counter(report, "flows_adopted", c.flows_adopted);
  add_counter(report, "flows_ended", c.flows_ended);
  add_counter(report, "slot_reuses", c.slot_reuses);
  add_counter(report, "records_repaired", c.records_repaired);
  add_counter(report, "flow_table_attaches", c.attaches);
  add_counter(report, "state_files_created", c.state_files_created);
  add_counter(report, "policy_changes", c.policy_changes);
  add_counter(report, "policy_rejects", c.policy_rejects);
  add_counter(report, "policy_restored", c.policy_restored);
  if (sweep_) {
    add_counter(report, "sweep_cycles", sweep_->cycles());
    add_counter(report, "sweep_full_cycles", sweep_->full_cycles());
    add_counter(report, "slots_swept", sweep_->slots_swept());
  }
  if (!attached()) return;

  std::array<uint64_t, kRateBuckets> histogram{};
  std::vector<std::pair<uint32_t, uint32_t>> all;
  all.reserve(roster_->size());
  for (uint32_t id : roster_->ids()) {
    const uint32_t rate = state_->read(id).rate_kbps;
    ++histogram[rate_bucket(rate)];
    all.emplace_back(rate, id);
  }
  auto* rates = report->add_tables();
  rates->set_name("rate_histogram");
  rates->add_columns("rate");
  rates->add_columns("flows");
  for (size_t b = 0; b < kRateBuckets; ++b) {
    auto* row = rates->add_rows();
    row->add_cells(rate_bucket_name(b));
    row->add_cells(std::to_string(histogram[b]));
  }

  auto* top = report->add_tables();
  top->set_name("top_flows");
  for (const char* column : {"flow", "remote", "algorithm", "rate_kbps", "tx_rate_kbps", "rtt_us",
                             "measured_kbps", "alpha", "steps"}) {
    top->add_columns(column);
  }
  const uint64_t now = now_us();
  for (const auto& [rate, id] : top_by_rate(std::move(all), kTopFlowsInStats)) {
    const FlowInfo f =
        describe_flow(id, state_->read(id), *flows_.table().flow(id), *roster_->find(id), now);
    auto* row = top->add_rows();
    row->add_cells(std::to_string(f.flow_id()));
    row->add_cells(f.remote());
    row->add_cells(f.algorithm());
    row->add_cells(std::to_string(f.rate_kbps()));
    row->add_cells(std::to_string(f.tx_rate_kbps()));
    row->add_cells(std::to_string(f.rtt_us()));
    row->add_cells(std::to_string(f.measured_kbps()));
    char alpha[32];
    std::snprintf(alpha, sizeof alpha, "%.3f", f.dctcp_alpha());
    row->add_cells(alpha);
    row->add_cells(std::to_string(f.steps()));
  }
}

// ---- registration
// -------------------------------------------------------------------------------------

void register_actors(ActorRegistry& registry) {
  registry.add("cc", [](const ActorSpec& spec) -> std::unique_ptr<Actor> {
    return std::make_unique<CcActor>(spec.actor.name(), config_from_manifest(spec.manifest));
  });
}

}  // namespace vtas::cc
