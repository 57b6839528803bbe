#include "runtime/zmq_runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "proto/diag.pb.h"
#include "proto/supervisor.pb.h"
#include "runtime/envelope.h"

namespace vtas {
namespace {

constexpr int kDrainBatch = 256;  // messages taken from one socket before polling again
constexpr char kIpcPrefix[] = "ipc://";

spdlog::level::level_enum to_spdlog(supervisor::LogLevel level) {
  switch (level) {
    case supervisor::LOG_LEVEL_TRACE: return spdlog::level::trace;
    case supervisor::LOG_LEVEL_DEBUG: return spdlog::level::debug;
    case supervisor::LOG_LEVEL_INFO: return spdlog::level::info;
    case supervisor::LOG_LEVEL_WARN: return spdlog::level::warn;
    case supervisor::LOG_LEVEL_ERROR: return spdlog::level::err;
    case supervisor::LOG_LEVEL_CRITICAL: return spdlog::level::critical;
    default: return spdlog::level::off;
  }
}

}  // namespace

void ZmqActorRunner::stamp_runtime(Envelope& envelope, const std::string& receiver,
                                   MessageKind kind, uint64_t correlation) const {
  Header* h = envelope.mutable_header();
  h->set_sender(options_.name);
  h->set_receiver(receiver);
  h->set_kind(kind);
  h->set_correlation_id(correlation);
  h->set_incarnation(options_.incarnation);
  h->set_timestamp_ns(monotonic_ns());
}

void ZmqActorRunner::reply_runtime(const Envelope& request, const ReplyRoute& route,
                                   Envelope& response) {
  stamp_runtime(response, request.header().sender(), MESSAGE_KIND_RESPONSE,
                request.header().correlation_id());
  transmit_reply(route, response);
}

void apply_socket_defaults(zmq::socket_t& socket) {
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::sndhwm, 100000);
  socket.set(zmq::sockopt::rcvhwm, 100000);
  socket.set(zmq::sockopt::reconnect_ivl, 5);
  socket.set(zmq::sockopt::reconnect_ivl_max, 100);
}

void restrict_ipc_permissions(const std::string& endpoint) {
  if (endpoint.rfind(kIpcPrefix, 0) != 0) return;
  std::string path = endpoint.substr(sizeof(kIpcPrefix) - 1);
  ::chmod(path.c_str(), 0600);
}

ZmqActorRunner::ZmqActorRunner(zmq::context_t& context, RunnerOptions options)
    : context_(context),
      options_(std::move(options)),
      logger_(log::get(options_.name)),
      mailbox_(context_, zmq::socket_type::router),
      trace_enabled_(options_.trace_enabled),
      watch_(logger_) {
  apply_socket_defaults(mailbox_);
  // Replies to a requester that has gone fail loudly (counted) instead of vanishing.
  mailbox_.set(zmq::sockopt::router_mandatory, 1);
}

ZmqActorRunner::~ZmqActorRunner() = default;

Status ZmqActorRunner::bind_mailbox() {
  for (const auto& endpoint : options_.mailbox_endpoints) {
    try {
      mailbox_.bind(endpoint);
    } catch (const zmq::error_t& e) {
      return make_error("actor '" + options_.name + "': cannot bind mailbox " + endpoint + ": " +
                        e.what());
    }
    restrict_ipc_permissions(endpoint);
  }
  return Status();
}

Status ZmqActorRunner::run(Actor& actor) {
  actor_ = &actor;
  if (Status s = bind_mailbox(); !s) return s;
  if (!options_.trace_endpoint.empty()) {
    trace_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pub);
    apply_socket_defaults(*trace_);
    trace_->connect(options_.trace_endpoint);
  }
  actor.bind_io(this, options_.incarnation);
  const auto start_began = std::chrono::steady_clock::now();
  if (Status s = actor.on_start(); !s) return s;
  const auto start_took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start_began);
  if (start_took >= kSlowActorStart) {
    logger_->warn("slow start: the actor's own start (on_start) took {} ms", start_took.count());
  }

  if (!options_.supervisor.empty()) {
    Envelope ready;
    ready.mutable_ready()->set_pid(static_cast<uint32_t>(::getpid()));
    ready.mutable_ready()->set_incarnation(options_.incarnation);
    stamp_runtime(ready, options_.supervisor, MESSAGE_KIND_EVENT, 0);
    transmit(ready);
    timers_.schedule(clock().now() + options_.heartbeat_interval, [this] { send_heartbeat(); },
                     options_.heartbeat_interval);
  }
  loop();
  actor.on_stop();
  return Status();
}

void ZmqActorRunner::send_heartbeat() {
  Envelope beat;
  auto* hb = beat.mutable_heartbeat();
  hb->set_incarnation(options_.incarnation);
  hb->set_messages_in(counters_.messages_in);
  hb->set_messages_out(counters_.messages_out);
  hb->set_send_failures(counters_.send_failures);
  stamp_runtime(beat, options_.supervisor, MESSAGE_KIND_EVENT, 0);
  transmit(beat);
}

void ZmqActorRunner::loop() {
  while (!stopping_) {
    if (poll_set_dirty_) rebuild_poll_set();
    long timeout_ms = -1;
    if (auto next = timers_.next_deadline()) {
      auto wait = *next - clock().now();
      timeout_ms = wait.count() <= 0 ? 0 : (wait.count() + 999999) / 1000000;
    }
    if (timeout_ms != 0 && !actor_->prepare_to_wait()) timeout_ms = 0;
    int ready = 0;
    try {
      ready = zmq::poll(poll_items_.data(), poll_items_.size(), std::chrono::milliseconds(timeout_ms));
    } catch (const zmq::error_t& e) {
      actor_->after_wait();
      if (e.num() == EINTR) continue;
      throw;
    }
    watch_.after_wait(LoopWatch::Clock::now(), ready, [this] { return describe_ready(); });
    actor_->after_wait();
    for (size_t i = 0; i < poll_items_.size() && !stopping_; ++i) {
      if (!(poll_items_[i].revents & (ZMQ_POLLIN | ZMQ_POLLERR))) continue;
      const auto began = LoopWatch::Clock::now();
      poll_actions_[i]();
      // poll_names_ may be rebuilt by the callback only through rebuild_poll_set(), which
      // runs at the top of the loop: the name is still this item's.
      watch_.after_handler(began, LoopWatch::Clock::now(), [this, i] { return poll_names_[i]; });
      // A callback changed the watched set (e.g. unwatched and closed an fd): poll afresh
      // rather than act on stale entries. Everything still readable shows up again.
      if (poll_set_dirty_) break;
    }
    if (!stopping_) {
      const auto began = LoopWatch::Clock::now();
      timers_.run_due(clock().now());
      watch_.after_handler(began, LoopWatch::Clock::now(), [] { return std::string("the due timers"); });
    }
  }
}

std::string ZmqActorRunner::describe_ready() const {
  std::string ready;
  for (size_t i = 0; i < poll_items_.size(); ++i) {
    if (!(poll_items_[i].revents & (ZMQ_POLLIN | ZMQ_POLLERR))) continue;
    if (!ready.empty()) ready += ", ";
    ready += poll_names_[i];
    if (poll_items_[i].revents & ZMQ_POLLERR) ready += " (error)";
  }
  return ready.empty() ? "nothing" : ready;
}

void ZmqActorRunner::rebuild_poll_set() {
  poll_items_.clear();
  poll_actions_.clear();
  poll_names_.clear();
  poll_items_.push_back({mailbox_.handle(), 0, ZMQ_POLLIN, 0});
  poll_actions_.push_back([this] { drain_mailbox(); });
  poll_names_.push_back("the mailbox");
  for (auto& [peer, dealer] : outboxes_) {
    zmq::socket_t* socket = dealer.get();
    poll_items_.push_back({socket->handle(), 0, ZMQ_POLLIN, 0});
    poll_actions_.push_back([this, socket] { drain_dealer(*socket); });
    poll_names_.push_back("answers from " + peer);
  }
  for (const auto& watch : watches_) {
    if (watch.socket) {
      poll_items_.push_back({watch.socket->handle(), 0, ZMQ_POLLIN, 0});
      poll_names_.push_back("a watched socket");
    } else {
      poll_items_.push_back({nullptr, watch.fd, ZMQ_POLLIN, 0});
      poll_names_.push_back("fd " + std::to_string(watch.fd));
    }
    poll_actions_.push_back(watch.on_readable);
  }
  poll_set_dirty_ = false;
}

void ZmqActorRunner::drain_mailbox() {
  for (int i = 0; i < kDrainBatch && !stopping_; ++i) {
    zmq::message_t id;
    if (!mailbox_.recv(id, zmq::recv_flags::dontwait)) return;
    zmq::message_t payload;
    bool complete = id.more() && mailbox_.recv(payload, zmq::recv_flags::dontwait) && !payload.more();
    if (!complete) {
      // A peer sent a shape we never send ([id][payload] only): skip the rest of it.
      while (payload.more() && mailbox_.recv(payload, zmq::recv_flags::dontwait)) {
      }
      ++counters_.malformed;
      continue;
    }
    receive(payload, ReplyRoute{id.to_string()});
  }
}

void ZmqActorRunner::drain_dealer(zmq::socket_t& dealer) {
  for (int i = 0; i < kDrainBatch && !stopping_; ++i) {
    zmq::message_t payload;
    if (!dealer.recv(payload, zmq::recv_flags::dontwait)) return;
    if (payload.more()) {
      while (payload.more() && dealer.recv(payload, zmq::recv_flags::dontwait)) {
      }
      ++counters_.malformed;
      continue;
    }
    receive(payload, ReplyRoute{});
  }
}

void ZmqActorRunner::receive(const zmq::message_t& payload, const ReplyRoute& route) {
  Envelope envelope;
  if (!decode_envelope(payload.data(), payload.size(), &envelope)) {
    ++counters_.malformed;
    if (malformed_log_.allow(monotonic_ns())) {
      logger_->warn("dropped a malformed envelope of {} bytes ({} malformed so far)",
                    payload.size(), counters_.malformed);
    }
    return;
  }
  ++counters_.messages_in;
  if (handle_runtime_message(envelope, route)) return;
  actor_->dispatch(envelope, route);
}

bool ZmqActorRunner::handle_runtime_message(const Envelope& envelope, const ReplyRoute& route) {
  if (envelope.header().kind() == MESSAGE_KIND_RESPONSE) return false;
  auto ack = [&](bool ok, const std::string& error) {
    if (envelope.header().kind() != MESSAGE_KIND_REQUEST) return;
    Envelope response;
    response.mutable_ack()->set_ok(ok);
    response.mutable_ack()->set_error(error);
    reply_runtime(envelope, route, response);
  };
  switch (envelope.body_case()) {
    case Envelope::kTerminate: {
      uint32_t target = envelope.terminate().incarnation();
      if (target != 0 && target != options_.incarnation) {
        logger_->info("ignored a Terminate for incarnation {} (this is {})", target,
                      options_.incarnation);
        ack(false, "stale incarnation");
        return true;
      }
      logger_->info("terminating: {}", envelope.terminate().reason());
      ack(true, "");
      stopping_ = true;
      return true;
    }
    case Envelope::kSetLogLevel:
      log::set_level(options_.name, to_spdlog(envelope.set_log_level().level()));
      ack(true, "");
      return true;
    case Envelope::kSetTrace:
      trace_enabled_ = envelope.set_trace().enabled();
      ack(true, "");
      return true;
    case Envelope::kPingRequest: {
      if (actor_->handles(Envelope::kPingRequest)) return false;
      if (envelope.header().kind() != MESSAGE_KIND_REQUEST) return true;
      Envelope response;
      auto* pong = response.mutable_ping_response();
      pong->set_sequence(envelope.ping_request().sequence());
      pong->set_payload(envelope.ping_request().payload());
      pong->set_responder(options_.name);
      reply_runtime(envelope, route, response);
      return true;
    }
    case Envelope::kStatsRequest: {
      if (envelope.header().kind() != MESSAGE_KIND_REQUEST) return true;
      Envelope response;
      supervisor::StatsReport* report = response.mutable_stats_report();
      report->set_actor(options_.name);
      auto add = [report](const char* name, uint64_t value) {
        auto* c = report->add_counters();
        c->set_name(name);
        c->set_value(value);
      };
      add("messages_in", counters_.messages_in);
      add("messages_out", counters_.messages_out);
      add("send_failures", counters_.send_failures);
      add("malformed_messages", counters_.malformed);
      actor_->fill_stats(report);
      reply_runtime(envelope, route, response);
      return true;
    }
    case Envelope::kActorEvent:
      // Actors that care about peers restarting register a handler; the rest ignore it.
      return !actor_->handles(Envelope::kActorEvent);
    default:
      return false;
  }
}

zmq::socket_t* ZmqActorRunner::outbox(const std::string& peer) {
  auto found = outboxes_.find(peer);
  if (found != outboxes_.end()) return found->second.get();
  std::optional<std::string> endpoint = options_.resolve ? options_.resolve(peer) : std::nullopt;
  if (!endpoint) return nullptr;
  auto dealer = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  apply_socket_defaults(*dealer);
  try {
    dealer->connect(*endpoint);
  } catch (const zmq::error_t& e) {
    logger_->error("cannot connect to '{}' at {}: {}", peer, *endpoint, e.what());
    return nullptr;
  }
  zmq::socket_t* raw = dealer.get();
  outboxes_.emplace(peer, std::move(dealer));
  poll_set_dirty_ = true;
  return raw;
}

void ZmqActorRunner::forget_peer(const std::string& peer) {
  if (outboxes_.erase(peer) != 0) poll_set_dirty_ = true;
}

bool ZmqActorRunner::send_bytes(zmq::socket_t& socket, const std::string* routing_id,
                                Envelope& envelope) {
  bool traced = trace_enabled_ && trace_ && envelope.body_case() != Envelope::kHeartbeat;
  if (traced) envelope.mutable_header()->set_trace(true);
  std::string bytes = envelope.SerializeAsString();
  bool sent = false;
  try {
    if (routing_id) {
      if (socket.send(zmq::buffer(*routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        sent = socket.send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
      }
    } else {
      sent = socket.send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
    }
  } catch (const zmq::error_t& e) {
    // EHOSTUNREACH: the requester is gone (router_mandatory). Anything else: same treatment.
    sent = false;
  }
  if (!sent) {
    ++counters_.send_failures;
    return false;
  }
  ++counters_.messages_out;
  if (traced) copy_to_trace(bytes);
  return true;
}

void ZmqActorRunner::copy_to_trace(const std::string& bytes) {
  try {
    trace_->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // Tracing is best effort: a slow trace reader never slows the actor down.
  }
}

bool ZmqActorRunner::transmit(Envelope& envelope) {
  zmq::socket_t* socket = outbox(envelope.header().receiver());
  if (!socket) {
    ++counters_.send_failures;
    logger_->warn("cannot send {}: no actor named '{}'", body_name(envelope),
                  envelope.header().receiver());
    return false;
  }
  return send_bytes(*socket, nullptr, envelope);
}

bool ZmqActorRunner::transmit_reply(const ReplyRoute& route, Envelope& envelope) {
  if (route.routing_id.empty()) {
    // Arrived on one of our DEALERs (an event sent back to us): answer via the peer's mailbox.
    return transmit(envelope);
  }
  return send_bytes(mailbox_, &route.routing_id, envelope);
}

void ZmqActorRunner::watch_fd(int fd, std::function<void()> on_readable) {
  unwatch_fd(fd);
  watches_.push_back(Watch{nullptr, fd, std::move(on_readable)});
  poll_set_dirty_ = true;
}

void ZmqActorRunner::unwatch_fd(int fd) {
  auto it = std::remove_if(watches_.begin(), watches_.end(),
                           [fd](const Watch& w) { return !w.socket && w.fd == fd; });
  if (it != watches_.end()) {
    watches_.erase(it, watches_.end());
    poll_set_dirty_ = true;
  }
}

void ZmqActorRunner::watch_socket(zmq::socket_t* socket, std::function<void()> on_readable) {
  watches_.push_back(Watch{socket, -1, std::move(on_readable)});
  poll_set_dirty_ = true;
}

}  // namespace vtas
