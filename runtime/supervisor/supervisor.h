// Supervisor: the `vtas` process. It reads the manifest, starts the actors in order (each one
// must report Ready before the next starts), watches them (process exit through pidfds, thread
// exit through eventfds, hangs through missed heartbeats), restarts them by policy with
// backoff and an instance-wide restart intensity, serves vtasctl on a 0600 control socket,
// relays the trace stream, and stops everything in reverse order on SIGTERM/SIGINT.
//
// The supervisor is itself an actor ("supervisor") run by a ZmqActorRunner: actors talk to it
// with ordinary envelopes (Ready, Heartbeat, replies), and it uses the runner's timers.
#pragma once

#include <zmq.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proto/ctl.pb.h"
#include "proto/manifest.pb.h"
#include "runtime/actor.h"
#include "runtime/actor_registry.h"
#include "runtime/directory.h"
#include "runtime/supervisor/child_process.h"
#include "runtime/supervisor/restart_policy.h"
#include "runtime/supervisor/runtime_dir.h"
#include "runtime/supervisor/thread_actor.h"
#include "runtime/zmq_runner.h"

namespace vtas {

struct SupervisorOptions {
  // Executable for process actors without their own `binary` (normally /proc/self/exe).
  std::string default_actor_binary;
  // Written with an 8-byte 1 once every actor is ready (TAS --ready-fd), then closed.
  int ready_fd = -1;
  // Handle SIGINT/SIGTERM through a signalfd (the vtas binary); tests stop via vtasctl.
  bool handle_signals = true;
};

class Supervisor final : public Actor {
 public:
  Supervisor(manifest::Manifest manifest, const ActorRegistry& registry, SupervisorOptions options);
  ~Supervisor() override;

  // Runs the instance until it is shut down. Returns the process exit status: 0 after a
  // requested shutdown, 1 when start-up failed or the restart intensity was exceeded.
  int run();

  Status on_start() override;
  void on_stop() override;

 private:
  struct Record {
    manifest::Actor spec;
    ctl::ActorState state = ctl::ACTOR_STATE_STOPPED;
    uint32_t incarnation = 0;
    uint32_t restarts = 0;
    ChildProcess process;
    std::unique_ptr<ThreadActor> thread;
    pid_t pid = 0;
    TimePoint started_at{}, ready_at{}, exited_at{}, last_heartbeat{};
    supervisor::Heartbeat last_counters;
    std::unique_ptr<Backoff> backoff;
    std::string last_exit;
    uint64_t last_restart_ms = 0;
    bool measuring_restart = false;
    bool stop_requested = false;     // by vtasctl stop/restart or shutdown
    bool restart_requested = false;  // by vtasctl restart
    bool hung = false;
    bool tracing = false;
    std::string log_level;
    TimerQueue::Id ready_timer = 0, restart_timer = 0, kill_timer = 0;
    std::vector<std::pair<ReplyRoute, Envelope>> waiting_ctl;  // answered on ready / stop
  };

  // Start-up and lifecycle.
  void start_next_in_order();
  Status spawn(Record& r);
  RunnerOptions runner_options(const std::string& name, uint32_t incarnation) const;
  void on_process_exit(Record& r);
  void on_thread_exit(Record& r);
  void handle_exit(Record& r, ExitKind kind, const std::string& how);
  void schedule_restart(Record& r);
  void request_stop(Record& r, const std::string& reason);
  void check_heartbeats();
  void begin_shutdown(int exit_code, const std::string& reason);
  void stop_next_for_shutdown();
  bool alive(const Record& r) const;
  Record* find(const std::string& name);

  // Messages from actors.
  void handle_ready(const supervisor::Ready& ready, const Incoming& in);
  void handle_heartbeat(const supervisor::Heartbeat& beat, const Incoming& in);

  // vtasctl (supervisor_ctl.cc).
  void drain_control_socket();
  void handle_ctl(const ctl::CtlRequest& command, const ReplyRoute& route, const Envelope& envelope);
  void reply_ctl(const ReplyRoute& route, const Envelope& asked, const ctl::CtlResponse& response);
  ctl::ActorStatus status_of(const Record& r) const;
  void collect_stats(const ReplyRoute& route, const Envelope& asked);
  void set_log_level(const ReplyRoute& route, const Envelope& asked, const ctl::CtlRequest& cmd);
  void answer_waiting(Record& r, bool ok, const std::string& error);

  // Trace relay (supervisor_trace.cc).
  Status bind_trace_sockets();
  void forward_trace();
  void on_trace_subscription();
  void set_tracing(bool on);
  void apply_tracing(Record& r);

  // Signals.
  Status watch_signals();
  void on_signal();

  manifest::Manifest manifest_;
  const ActorRegistry& registry_;
  SupervisorOptions options_;
  Directory directory_;
  std::optional<RuntimeDir> runtime_dir_;
  zmq::context_t context_;
  ZmqActorRunner* runner_ = nullptr;
  std::unique_ptr<zmq::socket_t> control_, trace_in_, trace_out_;
  std::vector<std::unique_ptr<Record>> records_;
  RestartIntensity intensity_;
  size_t boot_index_ = 0;
  bool booting_ = true;
  bool shutting_down_ = false;
  bool tracing_ = false;
  int exit_code_ = 0;
  int signal_fd_ = -1;
  int signals_seen_ = 0;
  TimePoint started_at_{};
  TimePoint last_heartbeat_check_{};  // when check_heartbeats() last ran
  uint64_t trace_forwarded_ = 0;
};

}  // namespace vtas
