// The supervisor's side of vtasctl: one CtlRequest in, one CtlResponse out, on the 0600
// control socket. Commands that take time (restart, start, stop) answer when done.
#include <memory>

#include "runtime/envelope.h"
#include "runtime/log.h"
#include "runtime/supervisor/supervisor.h"

namespace vtas {
namespace {

using std::chrono::milliseconds;

ctl::Placement placement_of(const manifest::Actor& spec) {
  return spec.placement() == manifest::PLACEMENT_THREAD ? ctl::PLACEMENT_THREAD
                                                        : ctl::PLACEMENT_PROCESS;
}

std::string level_text(supervisor::LogLevel level) {
  switch (level) {
    case supervisor::LOG_LEVEL_TRACE: return "trace";
    case supervisor::LOG_LEVEL_DEBUG: return "debug";
    case supervisor::LOG_LEVEL_INFO: return "info";
    case supervisor::LOG_LEVEL_WARN: return "warn";
    case supervisor::LOG_LEVEL_ERROR: return "error";
    case supervisor::LOG_LEVEL_CRITICAL: return "critical";
    case supervisor::LOG_LEVEL_OFF: return "off";
    default: return "";
  }
}

}  // namespace

void Supervisor::drain_control_socket() {
  for (int i = 0; i < 64; ++i) {
    zmq::message_t id;
    if (!control_->recv(id, zmq::recv_flags::dontwait)) return;
    std::vector<zmq::message_t> frames;
    bool more = id.more();
    while (more) {
      zmq::message_t frame;
      if (!control_->recv(frame, zmq::recv_flags::dontwait)) break;
      more = frame.more();
      frames.push_back(std::move(frame));
    }
    // DEALER clients send [payload]; REQ clients [empty][payload]. Take the last frame.
    if (frames.empty()) continue;
    Envelope envelope;
    const zmq::message_t& payload = frames.back();
    ReplyRoute route{id.to_string()};
    if (!decode_envelope(payload.data(), payload.size(), &envelope) || !envelope.has_ctl_request()) {
      log().warn("control socket: ignored a malformed request of {} bytes", payload.size());
      continue;
    }
    handle_ctl(envelope.ctl_request(), route, envelope);
  }
}

void Supervisor::reply_ctl(const ReplyRoute& route, const Envelope& asked,
                           const ctl::CtlResponse& response) {
  Envelope envelope;
  *envelope.mutable_ctl_response() = response;
  envelope.mutable_ctl_response()->set_instance(manifest_.instance());
  Header* h = envelope.mutable_header();
  h->set_sender(kSupervisorName);
  h->set_receiver(asked.header().sender());
  h->set_kind(MESSAGE_KIND_RESPONSE);
  h->set_correlation_id(asked.header().correlation_id());
  h->set_timestamp_ns(to_ns(now()));
  std::string bytes = envelope.SerializeAsString();
  try {
    control_->send(zmq::buffer(route.routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    control_->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    log().warn("control socket: could not answer: {}", e.what());
  }
}

void Supervisor::answer_waiting(Record& r, bool ok, const std::string& error) {
  for (auto& [route, asked] : r.waiting_ctl) {
    ctl::CtlResponse response;
    response.set_ok(ok);
    response.set_error(error);
    response.add_actors()->CopyFrom(status_of(r));
    reply_ctl(route, asked, response);
  }
  r.waiting_ctl.clear();
}

ctl::ActorStatus Supervisor::status_of(const Record& r) const {
  ctl::ActorStatus s;
  s.set_name(r.spec.name());
  s.set_kind(r.spec.kind());
  s.set_placement(placement_of(r.spec));
  s.set_state(r.state);
  s.set_pid(alive(r) ? static_cast<uint32_t>(r.pid) : 0);
  s.set_restarts(r.restarts);
  if (r.state == ctl::ACTOR_STATE_RUNNING) {
    s.set_uptime_ms(static_cast<uint64_t>(
        std::chrono::duration_cast<milliseconds>(now() - r.ready_at).count()));
  }
  s.set_messages_in(r.last_counters.messages_in());
  s.set_messages_out(r.last_counters.messages_out());
  s.set_send_failures(r.last_counters.send_failures());
  s.set_last_restart_ms(r.last_restart_ms);
  s.set_last_exit(r.last_exit);
  s.set_log_level(r.log_level);
  s.set_tracing(r.tracing);
  s.set_incarnation(r.incarnation);
  return s;
}

void Supervisor::handle_ctl(const ctl::CtlRequest& command, const ReplyRoute& route,
                            const Envelope& envelope) {
  ctl::CtlResponse response;
  response.set_ok(true);
  auto fail = [&](const std::string& error) {
    response.set_ok(false);
    response.set_error(error);
    reply_ctl(route, envelope, response);
  };
  auto target = [&]() -> Record* {
    Record* r = find(command.actor());
    if (!r) {
      std::string names;
      for (const auto& other : records_) names += (names.empty() ? "" : ", ") + other->spec.name();
      fail("no actor named '" + command.actor() + "' in instance '" + manifest_.instance() +
           "' (actors: " + names + ")");
    }
    return r;
  };

  switch (command.command()) {
    case ctl::COMMAND_STATUS: {
      for (const auto& r : records_) response.add_actors()->CopyFrom(status_of(*r));
      response.set_supervisor_uptime_ms(static_cast<uint64_t>(
          std::chrono::duration_cast<milliseconds>(now() - started_at_).count()));
      response.set_tracing(tracing_);
      response.set_runtime_dir(directory_.runtime_dir());
      reply_ctl(route, envelope, response);
      return;
    }
    case ctl::COMMAND_RESTART: {
      Record* r = target();
      if (!r) return;
      if (shutting_down_) return fail("the instance is shutting down");
      r->waiting_ctl.emplace_back(route, envelope);
      if (alive(*r)) {
        r->restart_requested = true;
        request_stop(*r, "restart requested by vtasctl");
      } else {
        cancel_timer(r->restart_timer);
        ++r->restarts;
        r->exited_at = now();
        r->measuring_restart = true;
        if (Status s = spawn(*r); !s) answer_waiting(*r, false, s.error().message);
      }
      return;
    }
    case ctl::COMMAND_STOP: {
      Record* r = target();
      if (!r) return;
      if (!alive(*r) && r->state != ctl::ACTOR_STATE_BACKOFF) {
        response.add_actors()->CopyFrom(status_of(*r));
        response.set_text("'" + r->spec.name() + "' is not running");
        reply_ctl(route, envelope, response);
        return;
      }
      r->waiting_ctl.emplace_back(route, envelope);
      request_stop(*r, "stop requested by vtasctl");
      return;
    }
    case ctl::COMMAND_START: {
      Record* r = target();
      if (!r) return;
      if (shutting_down_) return fail("the instance is shutting down");
      if (alive(*r)) return fail("'" + r->spec.name() + "' is already running");
      cancel_timer(r->restart_timer);
      r->waiting_ctl.emplace_back(route, envelope);
      if (Status s = spawn(*r); !s) answer_waiting(*r, false, s.error().message);
      return;
    }
    case ctl::COMMAND_LOG_LEVEL:
      set_log_level(route, envelope, command);
      return;
    case ctl::COMMAND_STATS:
      collect_stats(route, envelope);
      return;
    case ctl::COMMAND_SHUTDOWN:
      response.set_text("shutting down");
      reply_ctl(route, envelope, response);
      begin_shutdown(0, "requested by vtasctl");
      return;
    default:
      fail("unknown command " + std::to_string(command.command()));
      return;
  }
}

void Supervisor::set_log_level(const ReplyRoute& route, const Envelope& asked,
                               const ctl::CtlRequest& cmd) {
  ctl::CtlResponse response;
  std::string level = level_text(cmd.log_level());
  if (level.empty()) {
    response.set_error("no log level given (trace, debug, info, warn, error, critical, off)");
    reply_ctl(route, asked, response);
    return;
  }
  std::vector<Record*> targets;
  bool all = cmd.actor() == "*";
  if (all || cmd.actor() == kSupervisorName) {
    log::set_level(kSupervisorName, *log::parse_level(level));
  }
  for (auto& r : records_) {
    if (all || r->spec.name() == cmd.actor()) targets.push_back(r.get());
  }
  if (targets.empty() && !all && cmd.actor() != kSupervisorName) {
    response.set_error("no actor named '" + cmd.actor() + "'");
    reply_ctl(route, asked, response);
    return;
  }
  // Answer once every running target acknowledged (or timed out).
  auto pending = std::make_shared<size_t>(0);
  auto result = std::make_shared<ctl::CtlResponse>();
  result->set_ok(true);
  auto finish = [this, route, asked, result]() { reply_ctl(route, asked, *result); };
  for (Record* r : targets) {
    r->log_level = level;  // also applies to future incarnations (thread placement)
    if (r->state != ctl::ACTOR_STATE_RUNNING) continue;
    ++*pending;
    supervisor::SetLogLevel set;
    set.set_level(cmd.log_level());
    std::string name = r->spec.name();
    request(name, set, [pending, result, finish, name](const Envelope* answer) {
      if (!answer || !answer->ack().ok()) {
        result->set_ok(false);
        result->set_error(result->error() + "'" + name + "' did not acknowledge; ");
      }
      if (--*pending == 0) finish();
    }, milliseconds(1000));
  }
  if (*pending == 0) finish();
}

void Supervisor::collect_stats(const ReplyRoute& route, const Envelope& asked) {
  auto pending = std::make_shared<size_t>(0);
  auto result = std::make_shared<ctl::CtlResponse>();
  result->set_ok(true);
  auto finish = [this, route, asked, result]() { reply_ctl(route, asked, *result); };
  for (auto& r : records_) {
    if (r->state != ctl::ACTOR_STATE_RUNNING) continue;
    ++*pending;
    std::string name = r->spec.name();
    request(name, supervisor::StatsRequest(), [pending, result, finish, name](const Envelope* answer) {
      if (answer && answer->has_stats_report()) {
        result->add_stats()->CopyFrom(answer->stats_report());
      } else {
        result->set_error(result->error() + "'" + name + "' did not answer; ");
      }
      if (--*pending == 0) finish();
    }, milliseconds(1000));
  }
  if (*pending == 0) finish();
}

}  // namespace vtas
