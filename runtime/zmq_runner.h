// ZmqActorRunner: runs one actor's loop over ZeroMQ.
//
// Every actor binds one ROUTER "mailbox" (inproc:// when it is a thread of the supervisor
// process, ipc:// always so processes reach it). It sends through one DEALER per peer,
// connected lazily to the peer's mailbox; responses come back on that DEALER and are routed
// to the pending request by correlation id. One zmq_poll covers the mailbox, the DEALERs,
// watched fds and extra sockets; its timeout is the next timer deadline.
//
// The runner also does the actor's housekeeping so actor code never sees it: Ready to the
// supervisor after on_start(), a Heartbeat every interval with message counters, Terminate /
// SetLogLevel / SetTrace / PingRequest handling, and copying sent envelopes to the trace
// stream while tracing is on (one branch on a bool when it is off).
#pragma once

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/actor.h"
#include "runtime/log.h"
#include "runtime/loop_watch.h"

namespace vtas {

// An actor start that takes this long or more is logged with where the time went (the
// process start in actor_process.cc, on_start here): the supervisor expects an actor back
// within a second.
inline constexpr std::chrono::milliseconds kSlowActorStart{500};

struct RunnerOptions {
  std::string name;
  uint32_t incarnation = 0;
  // Where the mailbox binds (e.g. "inproc://vtas/echo", "ipc:///run/vtas/x/echo.sock").
  std::vector<std::string> mailbox_endpoints;
  // Endpoint to reach a peer by name; nullopt if there is no such actor.
  std::function<std::optional<std::string>(const std::string& peer)> resolve;
  // Name of the supervisor to report to; empty for the supervisor itself.
  std::string supervisor;
  // Trace stream input (the supervisor's XSUB); empty: no tracing possible.
  std::string trace_endpoint;
  Nanos heartbeat_interval = std::chrono::milliseconds(100);
  bool trace_enabled = false;
};

struct RunnerCounters {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t send_failures = 0;
  uint64_t malformed = 0;
};

class ZmqActorRunner final : public ActorIo {
 public:
  ZmqActorRunner(zmq::context_t& context, RunnerOptions options);
  ~ZmqActorRunner() override;

  // Binds, starts the actor, reports Ready and loops until Terminate or stop_loop().
  // Returns the bind or on_start() error, if any.
  Status run(Actor& actor);

  // Extra sockets for special actors (the supervisor's control and trace sockets).
  void watch_socket(zmq::socket_t* socket, std::function<void()> on_readable);
  // Drops the DEALER to `peer` with whatever is still queued on it (used by the supervisor
  // when a peer exits, so nothing meant for the old incarnation reaches the new one).
  void forget_peer(const std::string& peer);
  void set_trace(bool enabled) { trace_enabled_ = enabled; }
  bool trace_enabled() const { return trace_enabled_; }
  const RunnerCounters& counters() const { return counters_; }
  zmq::context_t& context() { return context_; }

  // ActorIo
  bool transmit(Envelope& envelope) override;
  bool transmit_reply(const ReplyRoute& route, Envelope& envelope) override;
  const Clock& clock() const override { return SteadyClock::instance(); }
  TimerQueue& timers() override { return timers_; }
  void watch_fd(int fd, std::function<void()> on_readable) override;
  void unwatch_fd(int fd) override;
  void stop_loop() override { stopping_ = true; }

 private:
  struct Watch {
    zmq::socket_t* socket = nullptr;  // or
    int fd = -1;
    std::function<void()> on_readable;
  };

  Status bind_mailbox();
  void loop();
  void rebuild_poll_set();
  std::string describe_ready() const;
  void drain_mailbox();
  void drain_dealer(zmq::socket_t& dealer);
  void receive(const zmq::message_t& payload, const ReplyRoute& route);
  bool handle_runtime_message(const Envelope& envelope, const ReplyRoute& route);
  void send_heartbeat();
  zmq::socket_t* outbox(const std::string& peer);
  bool send_bytes(zmq::socket_t& socket, const std::string* routing_id, Envelope& envelope);
  void copy_to_trace(const std::string& bytes);
  void stamp_runtime(Envelope& envelope, const std::string& receiver, MessageKind kind,
                     uint64_t correlation) const;
  void reply_runtime(const Envelope& request, const ReplyRoute& route, Envelope& response);

  zmq::context_t& context_;
  RunnerOptions options_;
  Actor* actor_ = nullptr;
  std::shared_ptr<spdlog::logger> logger_;
  zmq::socket_t mailbox_;
  std::unique_ptr<zmq::socket_t> trace_;
  std::map<std::string, std::unique_ptr<zmq::socket_t>> outboxes_;
  std::vector<Watch> watches_;
  std::vector<zmq::pollitem_t> poll_items_;
  std::vector<std::function<void()>> poll_actions_;
  std::vector<std::string> poll_names_;  // what each poll item is, for LoopWatch's reports
  bool poll_set_dirty_ = true;
  bool stopping_ = false;
  bool trace_enabled_ = false;
  TimerQueue timers_;
  RunnerCounters counters_;
  log::RateLimit malformed_log_{5, 1000000000ull};
  LoopWatch watch_;
};

// Socket options every vtas ZeroMQ socket gets: no linger on close, deep queues, quick
// reconnects (an actor restarted by the supervisor is reachable again within milliseconds).
void apply_socket_defaults(zmq::socket_t& socket);

// Restricts an ipc:// endpoint's socket file to its owner (0600). No-op for other transports.
void restrict_ipc_permissions(const std::string& endpoint);

}  // namespace vtas
