// Actor: the unit every slow-path duty is written as. An actor is a set of handlers, one per
// message type it understands (`handle_<message>`), plus timers and watched fds. It never
// touches sockets itself: a runner delivers messages and carries what it sends, so the same
// actor runs
//   - in its own process over ipc:// or as a thread over inproc:// (ZmqActorRunner), and
//   - in unit tests on a fake clock with an in-memory transport (tests/support/test_runner.h).
// All methods run on the actor's own thread; an actor needs no locks for its own state.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "proto/envelope.pb.h"
#include "proto/supervisor.pb.h"
#include "runtime/clock.h"
#include "runtime/result.h"
#include "runtime/timer_queue.h"

namespace vtas {

// How to answer a request: the ZeroMQ routing id of the connection it arrived on.
struct ReplyRoute {
  std::string routing_id;
};

// A message as a handler sees it.
struct Incoming {
  const Envelope& envelope;
  const ReplyRoute& route;
  const Header& header() const { return envelope.header(); }
  const std::string& sender() const { return envelope.header().sender(); }
};

// What a runner offers an actor. Implemented by ZmqActorRunner and the test runner.
class ActorIo {
 public:
  virtual ~ActorIo() = default;
  // Queues `envelope` for header().receiver(). False if it could not be queued (no such
  // actor, or its mailbox is full); the runner counts that as a send failure.
  virtual bool transmit(Envelope& envelope) = 0;
  // Queues a response on the connection its request came from.
  virtual bool transmit_reply(const ReplyRoute& route, Envelope& envelope) = 0;
  virtual const Clock& clock() const = 0;
  virtual TimerQueue& timers() = 0;
  // Calls `on_readable` from the loop whenever `fd` is readable (eventfds, doorbells, pidfds).
  virtual void watch_fd(int fd, std::function<void()> on_readable) = 0;
  virtual void unwatch_fd(int fd) = 0;
  // Ends the loop after the current callback; the runner then calls on_stop().
  virtual void stop_loop() = 0;
};

class Actor {
 public:
  // Called with the response, or with nullptr when none came before the timeout.
  using ResponseHandler = std::function<void(const Envelope* response)>;
  using Handler = std::function<void(const Envelope&, const Incoming&)>;

  explicit Actor(std::string name);
  virtual ~Actor();
  Actor(const Actor&) = delete;
  Actor& operator=(const Actor&) = delete;

  const std::string& name() const { return name_; }
  uint32_t incarnation() const { return incarnation_; }

  // Runs on the actor thread before the actor is reported ready. An error stops the actor
  // (the supervisor sees a failed start).
  virtual Status on_start() { return Status(); }
  // Runs on the actor thread when the loop ends (Terminate or stop_loop()).
  virtual void on_stop() {}
  // Adds the actor's own counters and tables to a stats report (vtasctl stats). The runner
  // has already added its message counters.
  virtual void fill_stats(supervisor::StatsReport* /*report*/) {}

  // Shared-memory doorbells: called right before the loop blocks. Return false if there is
  // work already (the loop then polls without blocking). An actor that consumes rings
  // announces here that it is about to sleep (RingConsumer::prepare_sleep) and re-checks its
  // rings, so a producer's wake-up can never be lost; after_wait() withdraws the announcement.
  virtual bool prepare_to_wait() { return true; }
  virtual void after_wait() {}

  // --- for runners -------------------------------------------------------------------------
  void bind_io(ActorIo* io, uint32_t incarnation);
  // Routes a response to its pending request, anything else to the registered handler.
  void dispatch(const Envelope& envelope, const ReplyRoute& route);
  bool handles(Envelope::BodyCase body) const { return handlers_.count(body) != 0; }

 protected:
  // Registers `handler` for messages whose body has type Msg:
  //   on(&EchoActor::handle_ping_request);   // void handle_ping_request(const PingRequest&, const Incoming&)
  template <class Self, class Msg>
  void on(void (Self::*handler)(const Msg&, const Incoming&)) {
    const auto* field = body_field_for(Msg::descriptor());
    Self* self = static_cast<Self*>(this);
    handlers_[static_cast<Envelope::BodyCase>(field_number(field))] =
        [self, handler, field](const Envelope& envelope, const Incoming& in) {
          (self->*handler)(static_cast<const Msg&>(body_of(envelope, field)), in);
        };
  }

  // One-way message to the actor named `to`. False if it could not be queued.
  template <class Msg>
  bool send(const std::string& to, const Msg& body) {
    Envelope envelope;
    set_body(envelope, body_field_for(Msg::descriptor()), body);
    return send_envelope(to, MESSAGE_KIND_EVENT, envelope);
  }

  // Request/response: `on_response` runs with the response, or with nullptr after `timeout`.
  template <class Msg>
  uint64_t request(const std::string& to, const Msg& body, ResponseHandler on_response,
                   Nanos timeout = std::chrono::seconds(1)) {
    Envelope envelope;
    set_body(envelope, body_field_for(Msg::descriptor()), body);
    return request_envelope(to, envelope, std::move(on_response), timeout);
  }

  template <class Msg>
  bool reply(const Incoming& to, const Msg& body) {
    Envelope envelope;
    set_body(envelope, body_field_for(Msg::descriptor()), body);
    return reply_envelope(to, envelope);
  }

  // Escape hatch when the body is already in an envelope (relays, forwarding).
  bool send_envelope(const std::string& to, MessageKind kind, Envelope& envelope);
  uint64_t request_envelope(const std::string& to, Envelope& envelope, ResponseHandler on_response,
                            Nanos timeout);
  bool reply_envelope(const Incoming& to, Envelope& envelope);

  TimerQueue::Id after(Nanos delay, TimerQueue::Callback fn);
  TimerQueue::Id every(Nanos period, TimerQueue::Callback fn);
  void cancel_timer(TimerQueue::Id id);
  void watch_fd(int fd, std::function<void()> on_readable);
  void unwatch_fd(int fd);
  void stop() { io_->stop_loop(); }

  TimePoint now() const { return io_->clock().now(); }
  const Clock& clock() const { return io_->clock(); }
  spdlog::logger& log() const { return *logger_; }
  ActorIo& io() { return *io_; }

  // Called for a message nobody registered a handler for. Default: log it (rate limited) and
  // answer requests with a supervisor::Ack carrying the error.
  virtual void on_unhandled(const Envelope& envelope, const Incoming& in);

 private:
  struct Pending {
    ResponseHandler handler;
    TimerQueue::Id timeout_timer;
  };

  static const google::protobuf::FieldDescriptor* body_field_for(
      const google::protobuf::Descriptor* type);
  static int field_number(const google::protobuf::FieldDescriptor* field);
  static const google::protobuf::Message& body_of(const Envelope& envelope,
                                                  const google::protobuf::FieldDescriptor* field);
  static void set_body(Envelope& envelope, const google::protobuf::FieldDescriptor* field,
                       const google::protobuf::Message& body);
  void stamp(Envelope& envelope, const std::string& to, MessageKind kind, uint64_t correlation);

  std::string name_;
  uint32_t incarnation_ = 0;
  ActorIo* io_ = nullptr;
  std::shared_ptr<spdlog::logger> logger_;
  std::unordered_map<Envelope::BodyCase, Handler> handlers_;
  std::unordered_map<uint64_t, Pending> pending_;
  uint64_t next_correlation_ = 1;
  uint64_t unhandled_ = 0;
};

}  // namespace vtas
