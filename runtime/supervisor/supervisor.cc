#include "runtime/supervisor/supervisor.h"

#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include <google/protobuf/text_format.h>

#include "runtime/log.h"

namespace vtas {
namespace {

using std::chrono::milliseconds;

// A step of the loop this slow (a spawn, handling an exit) is worth a warning: heartbeats,
// restarts and control requests waited for it.
constexpr uint64_t kSlowLoopStepMs = 100;

uint64_t ms_between(TimePoint from, TimePoint to) {
  return static_cast<uint64_t>(std::chrono::duration_cast<milliseconds>(to - from).count());
}

}  // namespace

Supervisor::Supervisor(manifest::Manifest manifest, const ActorRegistry& registry,
                       SupervisorOptions options)
    : Actor(kSupervisorName),
      manifest_(std::move(manifest)),
      registry_(registry),
      options_(std::move(options)),
      directory_(manifest_),
      intensity_(manifest_.supervision().max_restarts(),
                 milliseconds(manifest_.supervision().period_ms())) {
  on(&Supervisor::handle_ready);
  on(&Supervisor::handle_heartbeat);
  for (const auto& spec : manifest_.actor()) {
    auto r = std::make_unique<Record>();
    r->spec = spec;
    r->backoff = std::make_unique<Backoff>(spec.backoff());
    r->log_level = spec.log_level();
    records_.push_back(std::move(r));
  }
}

Supervisor::~Supervisor() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

int Supervisor::run() {
  auto dir = RuntimeDir::claim(directory_.runtime_dir());
  if (!dir) {
    log().error("{}", dir.error().message);
    return 1;
  }
  runtime_dir_.emplace(std::move(*dir));
  if (const std::string warning = runtime_dir_->storage_warning(); !warning.empty()) {
    log().warn("{}", warning);
  }
  // Process actors read the resolved manifest (file + command-line overrides) from here.
  std::string text;
  google::protobuf::TextFormat::PrintToString(manifest_, &text);
  if (Status s = runtime_dir_->write_file("manifest.txtpb", text); !s) {
    log().error("{}", s.error().message);
    return 1;
  }
  RunnerOptions options;
  options.name = kSupervisorName;
  options.mailbox_endpoints = directory_.mailbox_endpoints(kSupervisorName);
  options.resolve = [this](const std::string& peer) { return directory_.endpoint(peer, true); };
  options.trace_endpoint = directory_.trace_in_endpoint(true);
  ZmqActorRunner runner(context_, options);
  runner_ = &runner;
  Status s = runner.run(*this);
  if (!s) {
    log().error("{}", s.error().message);
    exit_code_ = 1;
  }
  runner_ = nullptr;
  control_.reset();
  trace_in_.reset();
  trace_out_.reset();
  runtime_dir_->remove_all();
  return exit_code_;
}

Status Supervisor::on_start() {
  started_at_ = now();
  if (Status s = bind_trace_sockets(); !s) return s;
  control_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
  apply_socket_defaults(*control_);
  try {
    control_->bind(directory_.control_endpoint());
  } catch (const zmq::error_t& e) {
    return make_error("cannot bind control socket " + directory_.control_endpoint() + ": " + e.what());
  }
  restrict_ipc_permissions(directory_.control_endpoint());
  runner_->watch_socket(control_.get(), [this] { drain_control_socket(); });
  if (options_.handle_signals) {
    if (Status s = watch_signals(); !s) return s;
  }
  last_heartbeat_check_ = now();
  every(milliseconds(manifest_.supervision().heartbeat_interval_ms()), [this] { check_heartbeats(); });
  log().info("instance '{}' starting {} actors (runtime directory {})", manifest_.instance(),
             records_.size(), directory_.runtime_dir());
  start_next_in_order();
  return Status();
}

void Supervisor::on_stop() {
  for (auto& r : records_) {
    if (r->thread) {
      bool clean = false;
      std::string reason;
      r->thread->join(&clean, &reason);
    }
  }
}

Supervisor::Record* Supervisor::find(const std::string& name) {
  for (auto& r : records_) {
    if (r->spec.name() == name) return r.get();
  }
  return nullptr;
}

bool Supervisor::alive(const Record& r) const {
  return r.state == ctl::ACTOR_STATE_STARTING || r.state == ctl::ACTOR_STATE_RUNNING ||
         r.state == ctl::ACTOR_STATE_STOPPING;
}

// ---- start-up ------------------------------------------------------------------------------

void Supervisor::start_next_in_order() {
  if (boot_index_ >= records_.size()) {
    booting_ = false;
    log().info("all {} actors ready", records_.size());
    if (options_.ready_fd >= 0) {
      uint64_t one = 1;
      if (::write(options_.ready_fd, &one, sizeof(one)) != sizeof(one)) {
        log().warn("could not signal readiness on fd {}: {}", options_.ready_fd, ::strerror(errno));
      }
      ::close(options_.ready_fd);
      options_.ready_fd = -1;
    }
    return;
  }
  Record& r = *records_[boot_index_];
  if (Status s = spawn(r); !s) {
    begin_shutdown(1, "actor '" + r.spec.name() + "' failed to start: " + s.error().message);
  }
}

RunnerOptions Supervisor::runner_options(const std::string& name, uint32_t incarnation) const {
  RunnerOptions o;
  o.name = name;
  o.incarnation = incarnation;
  o.mailbox_endpoints = directory_.mailbox_endpoints(name);
  const Directory* dir = &directory_;
  o.resolve = [dir](const std::string& peer) { return dir->endpoint(peer, true); };
  o.supervisor = kSupervisorName;
  o.trace_endpoint = directory_.trace_in_endpoint(true);
  o.heartbeat_interval = milliseconds(manifest_.supervision().heartbeat_interval_ms());
  o.trace_enabled = tracing_;
  return o;
}

Status Supervisor::spawn(Record& r) {
  ++r.incarnation;
  r.started_at = now();
  r.stop_requested = false;
  r.hung = false;
  r.tracing = false;
  const std::string& name = r.spec.name();
  if (r.spec.placement() == manifest::PLACEMENT_THREAD) {
    ActorSpec spec{manifest_, r.spec};
    std::unique_ptr<Actor> actor = registry_.create(spec);
    if (!actor) return make_error("no actor kind '" + r.spec.kind() + "' in this vtas build");
    log::set_level(name, log::parse_level(r.log_level).value_or(spdlog::level::info));
    r.thread = std::make_unique<ThreadActor>(context_, std::move(actor),
                                             runner_options(name, r.incarnation));
    if (Status s = r.thread->start(); !s) return s;
    r.pid = static_cast<pid_t>(::getpid());
    watch_fd(r.thread->exit_fd(), [this, &r] { on_thread_exit(r); });
  } else {
    std::string binary = r.spec.has_binary() ? r.spec.binary() : options_.default_actor_binary;
    const TimePoint spawn_began = now();
    auto child = ChildProcess::spawn({binary, "actor", "--runtime-dir", directory_.runtime_dir(),
                                      "--name", name, "--incarnation",
                                      std::to_string(r.incarnation)});
    if (!child) return child.error();
    // Spawning takes well under a millisecond; the loop stands still while it runs.
    if (const uint64_t spawn_ms = ms_between(spawn_began, now()); spawn_ms >= kSlowLoopStepMs) {
      log().warn("spawning '{}' took {} ms (the supervisor's loop waited for it)", name, spawn_ms);
    }
    r.process = std::move(*child);
    r.pid = r.process.pid();
    watch_fd(r.process.pidfd(), [this, &r] { on_process_exit(r); });
  }
  r.state = ctl::ACTOR_STATE_STARTING;
  log().info("started '{}' ({} {}, incarnation {})", name,
             r.spec.placement() == manifest::PLACEMENT_THREAD ? "thread in" : "pid", r.pid,
             r.incarnation);
  uint32_t incarnation = r.incarnation;
  r.ready_timer = after(milliseconds(manifest_.supervision().ready_timeout_ms()), [this, &r, incarnation] {
    if (r.incarnation != incarnation || r.state != ctl::ACTOR_STATE_STARTING) return;
    log().error("'{}' did not report ready within {} ms: killing it", r.spec.name(),
                manifest_.supervision().ready_timeout_ms());
    r.hung = true;
    if (r.thread) {
      begin_shutdown(1, "thread actor '" + r.spec.name() + "' never became ready");
    } else {
      r.process.kill(SIGKILL);
    }
  });
  return Status();
}

// ---- messages from actors ------------------------------------------------------------------

void Supervisor::handle_ready(const supervisor::Ready& ready, const Incoming& in) {
  Record* r = find(in.sender());
  if (!r || ready.incarnation() != r->incarnation || r->state != ctl::ACTOR_STATE_STARTING) {
    log().debug("ignored Ready from '{}' incarnation {}", in.sender(), ready.incarnation());
    return;
  }
  cancel_timer(r->ready_timer);
  r->state = ctl::ACTOR_STATE_RUNNING;
  r->ready_at = now();
  r->last_heartbeat = r->ready_at;
  if (r->measuring_restart) {
    r->last_restart_ms = ms_between(r->exited_at, r->ready_at);
    r->measuring_restart = false;
    log().info("'{}' is back (incarnation {}) {} ms after its exit", r->spec.name(), r->incarnation,
               r->last_restart_ms);
  }
  apply_tracing(*r);
  answer_waiting(*r, true, "");
  if (shutting_down_) {
    request_stop(*r, "instance shutting down");
    return;
  }
  supervisor::ActorEvent event;
  event.set_actor(r->spec.name());
  event.set_kind(supervisor::ActorEvent::KIND_STARTED);
  event.set_incarnation(r->incarnation);
  for (auto& other : records_) {
    if (other.get() != r && other->state == ctl::ACTOR_STATE_RUNNING) send(other->spec.name(), event);
  }
  if (booting_ && records_[boot_index_].get() == r) {
    ++boot_index_;
    start_next_in_order();
  }
}

void Supervisor::handle_heartbeat(const supervisor::Heartbeat& beat, const Incoming& in) {
  Record* r = find(in.sender());
  if (!r || beat.incarnation() != r->incarnation) return;
  r->last_heartbeat = now();
  r->last_counters = beat;
}

void Supervisor::check_heartbeats() {
  auto timeout = milliseconds(manifest_.supervision().heartbeat_timeout_ms());
  const TimePoint t = now();
  const Nanos since_last_check = t - last_heartbeat_check_;
  last_heartbeat_check_ = t;
  if (since_last_check > timeout / 2) {
    // This loop itself did not run for a while (the machine or this process stalled: a
    // VM's steal time, a blocked write): the heartbeats that came meanwhile still wait
    // unread in the socket, and the silence may be ours, not the actors'. Killing them
    // now would restart healthy actors, the fast path with every connection among them.
    // Their clocks start again; one really hung is caught a timeout later.
    log().warn("the supervisor's own loop stalled for {} ms: heartbeat clocks restarted",
               std::chrono::duration_cast<milliseconds>(since_last_check).count());
    for (auto& r : records_) {
      if (r->state == ctl::ACTOR_STATE_RUNNING) r->last_heartbeat = t;
    }
    return;
  }
  for (auto& r : records_) {
    if (r->state != ctl::ACTOR_STATE_RUNNING || r->hung) continue;
    if (t - r->last_heartbeat <= timeout) continue;
    r->hung = true;
    log().error("'{}' sent no heartbeat for {} ms: it is hung", r->spec.name(),
                ms_between(r->last_heartbeat, t));
    if (r->thread) {
      // A thread cannot be killed alone; the instance as a whole is no longer trustworthy.
      begin_shutdown(1, "thread actor '" + r->spec.name() + "' is hung");
      return;
    }
    r->process.kill(SIGKILL);
  }
}

// ---- exits and restarts --------------------------------------------------------------------

void Supervisor::on_process_exit(Record& r) {
  ExitStatus status;
  int pidfd = r.process.pidfd();
  const TimePoint began = now();
  if (!r.process.try_reap(&status)) return;
  const TimePoint reaped = now();
  unwatch_fd(pidfd);  // closed by try_reap; drop it before any other fd can reuse the number
  std::string how = r.hung ? "hung, killed (" + status.describe() + ")" : status.describe();
  bool clean = status.clean() && !r.hung;
  handle_exit(r, clean ? ExitKind::kNormal : ExitKind::kAbnormal, how);
  if (const uint64_t total = ms_between(began, now()); total >= kSlowLoopStepMs) {
    log().warn("handling the exit of '{}' took {} ms ({} ms of it reaping)", r.spec.name(), total,
               ms_between(began, reaped));
  }
}

void Supervisor::on_thread_exit(Record& r) {
  bool clean = false;
  std::string reason;
  unwatch_fd(r.thread->exit_fd());
  r.thread->join(&clean, &reason);
  r.thread.reset();
  handle_exit(r, clean ? ExitKind::kNormal : ExitKind::kAbnormal, reason);
}

void Supervisor::handle_exit(Record& r, ExitKind kind, const std::string& how) {
  cancel_timer(r.ready_timer);
  cancel_timer(r.kill_timer);
  bool was_starting = r.state == ctl::ACTOR_STATE_STARTING;
  r.exited_at = now();
  r.last_exit = how;
  // Nothing queued for the old incarnation may reach the next one.
  runner_->forget_peer(r.spec.name());
  if (const uint64_t ms = ms_between(r.exited_at, now()); ms >= kSlowLoopStepMs) {
    log().warn("dropping the queue to '{}' took {} ms", r.spec.name(), ms);
  }
  log().log(kind == ExitKind::kNormal ? spdlog::level::info : spdlog::level::warn,
            "'{}' (incarnation {}) {}", r.spec.name(), r.incarnation, how);

  supervisor::ActorEvent event;
  event.set_actor(r.spec.name());
  event.set_kind(supervisor::ActorEvent::KIND_EXITED);
  event.set_incarnation(r.incarnation);
  for (auto& other : records_) {
    if (other.get() != &r && other->state == ctl::ACTOR_STATE_RUNNING) send(other->spec.name(), event);
  }

  if (shutting_down_) {
    r.state = ctl::ACTOR_STATE_STOPPED;
    answer_waiting(r, true, "");
    stop_next_for_shutdown();
    return;
  }
  if (booting_ && was_starting) {
    r.state = ctl::ACTOR_STATE_FAILED;
    begin_shutdown(1, "actor '" + r.spec.name() + "' failed during start-up: " + how);
    return;
  }
  if (r.stop_requested) {
    r.state = ctl::ACTOR_STATE_STOPPED;
    if (r.restart_requested) {
      r.restart_requested = false;
      ++r.restarts;
      r.measuring_restart = true;
      if (Status s = spawn(r); !s) {
        r.state = ctl::ACTOR_STATE_FAILED;
        answer_waiting(r, false, s.error().message);
      }
      return;
    }
    answer_waiting(r, true, "");
    return;
  }
  if (decide_after_exit(r.spec.restart(), kind) == AfterExit::kStayStopped) {
    r.state = kind == ExitKind::kNormal ? ctl::ACTOR_STATE_STOPPED : ctl::ACTOR_STATE_FAILED;
    return;
  }
  if (!intensity_.admit(now())) {
    r.state = ctl::ACTOR_STATE_FAILED;
    begin_shutdown(1, "restart intensity exceeded: " + intensity_.describe() + ", last '" +
                          r.spec.name() + "' " + how + "; shutting the instance down");
    return;
  }
  schedule_restart(r);
}

void Supervisor::schedule_restart(Record& r) {
  Nanos delay = r.backoff->next_delay(r.ready_at.time_since_epoch().count() ? r.ready_at : r.started_at,
                                      r.exited_at);
  r.state = ctl::ACTOR_STATE_BACKOFF;
  r.measuring_restart = true;
  uint32_t incarnation = r.incarnation;
  r.restart_timer = after(delay, [this, &r, incarnation] {
    if (r.incarnation != incarnation || r.state != ctl::ACTOR_STATE_BACKOFF || shutting_down_) return;
    ++r.restarts;
    if (Status s = spawn(r); !s) {
      log().error("restart of '{}' failed: {}", r.spec.name(), s.error().message);
      handle_exit(r, ExitKind::kAbnormal, "could not be restarted: " + s.error().message);
    }
  });
}

void Supervisor::request_stop(Record& r, const std::string& reason) {
  r.stop_requested = true;
  if (r.state == ctl::ACTOR_STATE_BACKOFF) {
    cancel_timer(r.restart_timer);
    r.state = ctl::ACTOR_STATE_STOPPED;
    r.measuring_restart = false;
    answer_waiting(r, true, "");
    if (shutting_down_) stop_next_for_shutdown();
    return;
  }
  if (!alive(r)) return;
  r.state = ctl::ACTOR_STATE_STOPPING;
  supervisor::Terminate terminate;
  terminate.set_reason(reason);
  terminate.set_incarnation(r.incarnation);
  send(r.spec.name(), terminate);
  uint32_t incarnation = r.incarnation;
  r.kill_timer = after(milliseconds(manifest_.supervision().stop_timeout_ms()), [this, &r, incarnation] {
    if (r.incarnation != incarnation || r.state != ctl::ACTOR_STATE_STOPPING) return;
    if (r.thread) {
      log().error("thread actor '{}' did not stop within {} ms; leaving it behind", r.spec.name(),
                  manifest_.supervision().stop_timeout_ms());
      unwatch_fd(r.thread->exit_fd());
      [[maybe_unused]] ThreadActor* abandoned = r.thread.release();  // cannot join a stuck thread
      handle_exit(r, ExitKind::kAbnormal, "did not stop in time (thread abandoned)");
      return;
    }
    log().warn("'{}' did not stop within {} ms: killing it", r.spec.name(),
               manifest_.supervision().stop_timeout_ms());
    r.process.kill(SIGKILL);
  });
}

// ---- shutdown ------------------------------------------------------------------------------

void Supervisor::begin_shutdown(int exit_code, const std::string& reason) {
  if (exit_code != 0) {
    log().error("{}", reason);
    if (exit_code_ == 0) exit_code_ = exit_code;
  } else {
    log().info("shutting down: {}", reason);
  }
  if (shutting_down_) return;
  shutting_down_ = true;
  booting_ = false;
  for (auto& r : records_) {
    if (r->state == ctl::ACTOR_STATE_BACKOFF) {
      cancel_timer(r->restart_timer);
      r->state = ctl::ACTOR_STATE_STOPPED;
    }
  }
  stop_next_for_shutdown();
}

void Supervisor::stop_next_for_shutdown() {
  // Reverse start order, one at a time: the next actor is stopped only after the previous
  // one has exited.
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    Record& r = **it;
    if (r.state == ctl::ACTOR_STATE_STOPPING) return;  // wait for it
    if (alive(r)) {
      request_stop(r, "instance shutting down");
      return;
    }
  }
  log().info("all actors stopped");
  stop();
}

// ---- signals -------------------------------------------------------------------------------

Status Supervisor::watch_signals() {
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, SIGINT);
  ::sigaddset(&set, SIGTERM);
  ::sigaddset(&set, SIGHUP);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return make_error(std::string("signalfd: ") + ::strerror(errno));
  watch_fd(signal_fd_, [this] { on_signal(); });
  return Status();
}

void Supervisor::on_signal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
    ++signals_seen_;
    if (signals_seen_ == 1) {
      begin_shutdown(0, std::string("received ") + ::strsignal(static_cast<int>(info.ssi_signo)));
    } else {
      // Second signal: the operator wants out now.
      log().warn("second signal: killing all actors");
      for (auto& r : records_) {
        if (r->process.running()) r->process.kill(SIGKILL);
      }
      exit_code_ = exit_code_ == 0 ? 1 : exit_code_;
    }
  }
}

}  // namespace vtas
