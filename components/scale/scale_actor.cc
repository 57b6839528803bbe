#include "components/scale/scale_actor.h"

#include <cmath>

namespace vtas::scale {
namespace {

void add_counter(supervisor::StatsReport* report, const char* name, uint64_t value) {
  auto* c = report->add_counters();
  c->set_name(name);
  c->set_value(value);
}

}  // namespace

ScaleActor::ScaleActor(std::string name, ScaleConfig config, std::unique_ptr<CoreLoadSource> source)
    : Actor(std::move(name)),
      config_(std::move(config)),
      source_(std::move(source)),
      monitor_(config_.monitor) {
  on(&ScaleActor::handle_actor_event);
}

ScaleActor::ScaleActor(std::string name, Result<ScaleConfig> config)
    : ScaleActor(std::move(name), config ? *config : ScaleConfig{}, nullptr) {
  if (!config) {
    init_error_ = config.error().message;
  } else {
    source_ = std::make_unique<FlowTableLoadSource>(config_.flow_table_path);
  }
}

Status ScaleActor::on_start() {
  if (!init_error_.empty()) return make_error(init_error_);
  if (Status s = validate(config_); !s) return s;
  if (!source_) return make_error("scale: no load source");
  log().info("{} load monitor over {} fast-path core(s), a sample every {} ms",
             config_.monitor.pinned ? "pinned (--fp-no-autoscale)" : "autoscaling",
             config_.monitor.max_cores,
             std::chrono::duration_cast<std::chrono::milliseconds>(config_.interval).count());
  if (config_.monitor.max_cores == 1) {
    // Nothing to decide: do not wake 100 times a second for it.
    log().info("one fast-path core at most (--fp-cores-max=1): nothing to scale");
    return Status();
  }
  try_attach();
  every(config_.interval, [this] { tick(); });
  return Status();
}

void ScaleActor::try_attach() {
  last_attach_try_ = now();
  if (Status s = source_->open(); !s) {
    if (!attach_failure_reported_) {
      log().info("waiting for the fast path's flow table ({}): {}", source_->describe(),
                 s.error().message);
      attach_failure_reported_ = true;
    }
    return;
  }
  attach_failure_reported_ = false;
  ++counters_.attaches;
  last_.reset();
  last_table_check_ = now();
  monitor_.reset();
  pending_ = false;
  expected_cores_.reset();
  log().info("reading core load from {}", source_->describe());
}

void ScaleActor::detach(const char* why) {
  log().info("flow table {}: {}; mapping it again", source_->describe(), why);
  source_->close();
  last_.reset();
  try_attach();
}

void ScaleActor::handle_actor_event(const supervisor::ActorEvent& m, const Incoming&) {
  if (m.actor() != config_.fastpath || m.kind() != supervisor::ActorEvent::KIND_STARTED) return;
  // A restarted fast path made a new table and serves with all its cores again.
  if (source_->is_open()) {
    detach("the fast path restarted");
  } else {
    try_attach();
  }
}

void ScaleActor::tick() {
  TimePoint t = now();
  if (!source_->is_open()) {
    if (!last_attach_try_ || t - *last_attach_try_ >= config_.attach_retry) try_attach();
    if (!source_->is_open()) return;
  }
  if (last_table_check_ && t - *last_table_check_ >= config_.table_check) {
    last_table_check_ = t;
    if (!source_->is_current()) {
      detach("replaced by a new one");
      if (!source_->is_open()) return;
    }
  }
  CoreLoad load = source_->read();
  if (!last_ || load.busy_ns < last_->busy_ns || t <= last_->at) {
    // First sample, or counters went back (a new table): start measuring from here.
    last_ = Sample{t, load.busy_ns, load.cores_active};
    return;
  }
  uint64_t elapsed = static_cast<uint64_t>((t - last_->at).count());
  uint64_t busy = load.busy_ns - last_->busy_ns;
  bool changed_outside = load.cores_active != last_->cores_active &&
                         (!expected_cores_ || load.cores_active != *expected_cores_);
  last_ = Sample{t, load.busy_ns, load.cores_active};
  ++counters_.samples;
  if (changed_outside) {
    // vtasctl (or a restarted fast path) set the count: measure it before deciding again.
    ++counters_.outside_changes;
    log().info("fast path now serves with {} core(s) (not our decision)", load.cores_active);
    monitor_.reset();
    expected_cores_.reset();
    return;
  }
  if (load.cores_active == 0) return;  // the fast path has not published its cores yet
  auto decision = monitor_.observe(elapsed, busy, load.cores_active);
  if (decision && !pending_) request_cores(*decision, load.cores_active);
}

void ScaleActor::request_cores(uint32_t cores, uint32_t now_active) {
  fastpath::SetCores m;
  m.set_cores(cores);
  pending_ = true;
  expected_cores_ = cores;
  if (cores > now_active) ++counters_.scale_ups;
  if (cores < now_active) ++counters_.scale_downs;
  log().info("load {:.2f} cores: {} -> {} core(s)", monitor_.load_cores(), now_active, cores);
  request(config_.fastpath, m,
          [this, cores](const Envelope* response) {
            pending_ = false;
            if (response == nullptr || !response->has_ack() || !response->ack().ok()) {
              ++counters_.set_cores_failed;
              log().warn("fast path did not take {} core(s): {}", cores,
                         response == nullptr ? std::string("no answer")
                         : response->has_ack() ? response->ack().error()
                                               : std::string("unexpected answer"));
              expected_cores_.reset();
              monitor_.reset();
            }
          },
          config_.request_timeout);
}

void ScaleActor::fill_stats(supervisor::StatsReport* report) {
  add_counter(report, "flow_table_attached", attached() ? 1 : 0);
  add_counter(report, "cores_max", config_.monitor.max_cores);
  add_counter(report, "autoscale", config_.monitor.pinned ? 0 : 1);
  add_counter(report, "cores_active", last_ ? last_->cores_active : 0);
  add_counter(report, "load_millicores", static_cast<uint64_t>(std::lround(monitor_.load_cores() * 1000)));
  add_counter(report, "samples", counters_.samples);
  add_counter(report, "scale_ups", counters_.scale_ups);
  add_counter(report, "scale_downs", counters_.scale_downs);
  add_counter(report, "set_cores_failed", counters_.set_cores_failed);
  add_counter(report, "outside_changes", counters_.outside_changes);
  add_counter(report, "flow_table_attaches", counters_.attaches);
}

void register_actors(ActorRegistry& registry) {
  registry.add("scale", [](const ActorSpec& spec) -> std::unique_ptr<Actor> {
    return std::make_unique<ScaleActor>(spec.actor.name(), config_from_manifest(spec.manifest, spec.actor.name()));
  });
}

}  // namespace vtas::scale
