#include "components/slowpath/timer/timer_actor.h"

#include <algorithm>
#include <limits>

#include "proto/fastpath.pb.h"

namespace vtas::timer {
namespace {

void add_counter(supervisor::StatsReport* report, const char* name, uint64_t value) {
  auto* c = report->add_counters();
  c->set_name(name);
  c->set_value(value);
}

uint64_t saturating_add(uint64_t a, uint64_t b) {
  return b > std::numeric_limits<uint64_t>::max() - a ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

}  // namespace

TimerActor::TimerActor(std::string name, TimerConfig config,
                       std::unique_ptr<FlowTableSource> source)
    : Actor(std::move(name)), config_(std::move(config)), flows_(std::move(source)) {
  on(&TimerActor::handle_arm_timer);
  on(&TimerActor::handle_cancel_timer);
  on(&TimerActor::handle_actor_event);
}

TimerActor::TimerActor(std::string name, Result<TimerConfig> config)
    : TimerActor(std::move(name), config ? *config : TimerConfig{},
                 config ? std::make_unique<FileFlowTableSource>(config->flow_table_path)
                        : nullptr) {
  if (!config) init_error_ = config.error().message;
}

uint64_t TimerActor::now_us() const {
  return to_ns(now()) / 1000;
}

Status TimerActor::on_start() {
  if (!init_error_.empty()) return make_error(init_error_);
  if (Status s = validate(config_); !s) return s;
  if (!flows_.has_source()) return make_error("timer: no flow table source configured");
  wheel_.emplace(now_us());
  explicit_.emplace(*wheel_, config_.max_explicit_timers);
  rate_window_start_us_ = now_us();
  flows_.start(io(), log(), {.retry = config_.attach_retry, .check = config_.table_check},
               {.attached = [this] { return on_table_attached(); },
                .detaching = [this](const char*) { on_table_detaching(); }});
  every(config_.sweep_tick, [this] { sweep_step(); });
  log().info("timers ready; RTO {}x{} RTTs (>= 2 RTTs, floor {} us, ceiling {} us, backoff x2)",
             config_.rto.rexmit_intervals, config_.rto.control_interval_rtts, config_.rto.floor_us,
             config_.rto.ceiling_us);
  return Status();
}

void TimerActor::on_stop() {
  log().info(
      "stopping: {} explicit timer(s) pending (their owners re-arm them), {} flow(s) watched",
      explicit_timers(), watched_);
}

// ---- explicit timers ---------------------------------------------------------------------------

void TimerActor::handle_arm_timer(const ArmTimer& m, const Incoming& in) {
  // Round the arrival up to the next whole us: the timer never fires before delay_us passed.
  const uint64_t now_ns = to_ns(now());
  const uint64_t deadline = saturating_add((now_ns + 999) / 1000, m.delay_us());
  switch (explicit_->arm(in.sender(), m.key(), m.kind(), deadline)) {
    case ExplicitTimers::ArmResult::kArmed:
      ++counters_.timers_armed;
      break;
    case ExplicitTimers::ArmResult::kReplaced:
      ++counters_.timers_armed;
      ++counters_.timers_rearmed;
      break;
    case ExplicitTimers::ArmResult::kFull:
      ++counters_.timers_refused;
      if (send_failure_log_.allow(now_ns)) {
        log().warn("ArmTimer from '{}' (key {}) refused: {} timers pending, the limit", in.sender(),
                   m.key(), explicit_->size());
      }
      return;
  }
  schedule_wakeup();
}

void TimerActor::handle_cancel_timer(const CancelTimer& m, const Incoming& in) {
  if (explicit_->cancel(in.sender(), m.key())) ++counters_.timers_cancelled;
  schedule_wakeup();
}

// ---- the wheel and wake-ups ---------------------------------------------------------------------

void TimerActor::schedule_wakeup() {
  std::optional<uint64_t> next = due_.empty() ? wheel_->next_event() : wheel_->now();
  // Far-future deadlines (delay_us up to 2^64) wake us once a day to look again: a TimePoint
  // holds only ~292 years of nanoseconds.
  const uint64_t horizon = saturating_add(now_us(), kLongestSleepUs);
  if (next && *next > horizon) next = horizon;
  if (wakeup_timer_ != 0 && wakeup_at_us_ == next) return;
  if (wakeup_timer_ != 0) cancel_timer(wakeup_timer_);
  wakeup_timer_ = 0;
  wakeup_at_us_ = next;
  if (!next) return;
  const TimePoint at{std::chrono::microseconds(*next)};
  const Nanos delay = at > now() ? at - now() : Nanos(0);
  wakeup_timer_ = after(delay, [this] {
    wakeup_timer_ = 0;
    wakeup_at_us_.reset();
    on_wakeup();
  });
}

void TimerActor::on_wakeup() {
  expired_scratch_.clear();
  wheel_->advance(now_us(), &expired_scratch_);
  due_.insert(due_.end(), expired_scratch_.begin(), expired_scratch_.end());
  size_t budget = config_.max_checks_per_wakeup;
  while (!due_.empty() && budget > 0) {
    const TimerWheel::Expired e = due_.front();
    due_.pop_front();
    // Only flow checks cost shared-memory reads; explicit timers are cheap and never wait.
    if (e.cookie & kFlowCookie) --budget;
    on_expired(e);
  }
  if (!due_.empty()) counters_.checks_deferred += due_.size();
  schedule_wakeup();
}

void TimerActor::on_expired(const TimerWheel::Expired& e) {
  if (e.cookie & kFlowCookie) {
    const auto id = static_cast<uint32_t>(e.cookie & ~kFlowCookie);
    if (id < handles_.size()) {
      handles_[id] = TimerWheel::Handle{};
      --watched_;
      check(id);
    }
    return;
  }
  auto fired = explicit_->take(e.cookie);
  if (!fired) return;
  ++counters_.timers_fired;
  TimerFired msg;
  msg.set_key(fired->key);
  msg.set_kind(fired->kind);
  const uint64_t now = now_us();
  msg.set_late_us(now > e.deadline ? now - e.deadline : 0);
  if (!send(fired->owner, msg)) {
    ++counters_.fire_send_failures;
    if (send_failure_log_.allow(to_ns(this->now()))) {
      log().warn("TimerFired (key {}) could not be queued to '{}'", fired->key, fired->owner);
    }
  }
}

// ---- the flow table -----------------------------------------------------------------------------

Status TimerActor::on_table_attached() {
  ++counters_.attaches;
  const uint32_t max_flows = flows_.max_flows();
  watches_.assign(max_flows, FlowWatch{});
  handles_.assign(max_flows, TimerWheel::Handle{});
  watched_ = 0;
  sweep_cursor_ = 0;
  first_cycle_ = true;
  packets_at_cycle_start_ = packets_sent();
  cycle_started_us_ = now_us();
  log().info("attached flow table {} ({} flow slots)", flows_.describe(), max_flows);
  return Status();
}

void TimerActor::on_table_detaching() {
  for (auto& h : handles_) {
    if (h.valid()) wheel_->cancel(h);
  }
  handles_.clear();
  watches_.clear();
  watched_ = 0;
  // Deferred checks of the old table's flows mean nothing for the next one.
  std::erase_if(due_, [](const TimerWheel::Expired& e) { return (e.cookie & kFlowCookie) != 0; });
  schedule_wakeup();
}

void TimerActor::handle_actor_event(const supervisor::ActorEvent& m, const Incoming&) {
  flows_.on_actor_event(m, config_.fastpath);
}

uint64_t TimerActor::packets_sent() const {
  return flows_.core_counter_sum(&abi::CoreCounters::tx_packets);
}

void TimerActor::sweep_step() {
  if (!flows_.attached()) return;
  const uint64_t now = now_us();
  const uint32_t slots = sweep_slots(now);
  counters_.slots_swept += slots;
  rate_window_slots_ += slots;
  if (now - rate_window_start_us_ >= 1000000) {
    swept_per_second_ = rate_window_slots_ * 1000000 / (now - rate_window_start_us_);
    rate_window_start_us_ = now;
    rate_window_slots_ = 0;
  }
  schedule_wakeup();
}

uint32_t TimerActor::sweep_slots(uint64_t now) {
  if (sweep_cursor_ == 0 && !first_cycle_) {
    // Every send after a cycle began is followed by a whole cycle that begins after it.
    const uint64_t sent = packets_sent();
    const bool overdue =
        now - cycle_started_us_ >= static_cast<uint64_t>(config_.sweep_idle_max.count() / 1000);
    if (sent == packets_at_cycle_start_ && !overdue) {
      ++counters_.sweep_ticks_idle;
      return 0;
    }
    packets_at_cycle_start_ = sent;
    cycle_started_us_ = now;
  }
  const uint32_t max_flows = flows_.max_flows();
  const auto ticks_per_cycle = static_cast<uint64_t>(
      std::max<int64_t>(1, config_.sweep_cycle.count() / config_.sweep_tick.count()));
  const auto slots = static_cast<uint32_t>(
      std::min<uint64_t>(max_flows, (uint64_t{max_flows} + ticks_per_cycle - 1) / ticks_per_cycle));
  for (uint32_t n = 0; n < slots; ++n) {
    const uint32_t id = sweep_cursor_;
    // Watched flows are the wheel's; a free slot costs one cache line, an idle flow two. The
    // first cycle after attaching looks at every flow in full, to clear backoffs left behind
    // by flows that went idle while no timer actor was watching.
    if (!handles_[id].valid()) {
      const abi::FlowState& fs = *flows_.table().flow(id);
      if ((read_flags(fs) & abi::kFlowActive) != 0 &&
          (first_cycle_ || mode_of(fs) != WatchMode::kIdle)) {
        check(id);
      }
    }
    if (++sweep_cursor_ == max_flows) {
      sweep_cursor_ = 0;
      first_cycle_ = false;
      ++counters_.sweep_cycles;
      return n + 1;  // a new cycle starts on a tick of its own (see above)
    }
  }
  return slots;
}

void TimerActor::check(uint32_t id) {
  abi::FlowState* fs = flows_.attached() ? flows_.table().flow(id) : nullptr;
  if (fs == nullptr) return;
  ++counters_.flow_checks;
  const FlowSnapshot snapshot = read_snapshot(*fs);
  FlowWatch& w = watches_[id];
  Verdict v = check_flow(w, snapshot, now_us(), config_.rto);
  if (v.action != Verdict::Action::kNone) {
    bool queued;
    if (v.action == Verdict::Action::kRetransmit) {
      fastpath::Retransmit m;
      m.set_flow_id(id);
      queued = send(config_.fastpath, m);
      if (queued) ++counters_.retransmits_sent;
    } else {
      fastpath::WindowProbe m;
      m.set_flow_id(id);
      queued = send(config_.fastpath, m);
      if (queued) ++counters_.probes_sent;
    }
    if (!queued) {
      // The fast path's mailbox is full (or it is restarting): not a timeout the peer caused.
      // Undo the backoff step and look again after the floor.
      ++counters_.fastpath_send_failures;
      if (w.backoff > 0) --w.backoff;
      v.recheck_at_us = now_us() + config_.rto.floor_us;
      if (send_failure_log_.allow(to_ns(now()))) {
        log().warn("cannot queue a message to '{}' for flow {}: retrying", config_.fastpath, id);
      }
    }
  }
  if (v.store_backoff || v.action != Verdict::Action::kNone) store_backoff(*fs, w.backoff);
  watch(id, v.recheck_at_us);
}

void TimerActor::watch(uint32_t id, std::optional<uint64_t> recheck_at_us) {
  TimerWheel::Handle& h = handles_[id];
  if (h.valid()) {
    wheel_->cancel(h);
    h = TimerWheel::Handle{};
    --watched_;
  }
  if (!recheck_at_us) return;
  h = wheel_->insert(*recheck_at_us, kFlowCookie | id);
  ++watched_;
}

// ---- stats --------------------------------------------------------------------------------------

void TimerActor::fill_stats(supervisor::StatsReport* report) {
  const TimerCounters& c = counters_;
  add_counter(report, "timers_pending", explicit_timers());
  add_counter(report, "timers_armed", c.timers_armed);
  add_counter(report, "timers_rearmed", c.timers_rearmed);
  add_counter(report, "timers_cancelled", c.timers_cancelled);
  add_counter(report, "timers_fired", c.timers_fired);
  add_counter(report, "timers_refused", c.timers_refused);
  add_counter(report, "timer_fired_send_failures", c.fire_send_failures);
  add_counter(report, "retransmits_sent", c.retransmits_sent);
  add_counter(report, "window_probes_sent", c.probes_sent);
  add_counter(report, "fastpath_send_failures", c.fastpath_send_failures);
  add_counter(report, "flow_table_attached", attached() ? 1 : 0);
  add_counter(report, "flow_table_attaches", c.attaches);
  add_counter(report, "flows_watched", watched_);
  add_counter(report, "flow_checks", c.flow_checks);
  add_counter(report, "flow_checks_deferred", c.checks_deferred);
  add_counter(report, "slots_swept", c.slots_swept);
  add_counter(report, "slots_swept_per_second", swept_per_second_);
  add_counter(report, "sweep_cycles", c.sweep_cycles);
  add_counter(report, "sweep_ticks_idle", c.sweep_ticks_idle);
  add_counter(report, "wheel_entries", wheel_ ? wheel_->size() : 0);

  auto* table = report->add_tables();
  table->set_name("timers_by_owner");
  table->add_columns("owner");
  table->add_columns("pending");
  if (explicit_) {
    for (const auto& [owner, count] : explicit_->per_owner()) {
      auto* row = table->add_rows();
      row->add_cells(owner);
      row->add_cells(std::to_string(count));
    }
  }
}

// ---- registration -------------------------------------------------------------------------------

void register_actors(ActorRegistry& registry) {
  registry.add("timer", [](const ActorSpec& spec) -> std::unique_ptr<Actor> {
    auto config = config_from_manifest(spec.manifest);
    if (config) {
      // The fast path's name is the manifest's: the first actor of kind "fastpath".
      for (const auto& a : spec.manifest.actor()) {
        if (a.kind() == "fastpath") {
          config->fastpath = a.name();
          break;
        }
      }
    }
    return std::make_unique<TimerActor>(spec.actor.name(), std::move(config));
  });
}

}  // namespace vtas::timer
