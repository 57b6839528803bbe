#include "runtime/actor.h"

#include <stdexcept>

#include "proto/supervisor.pb.h"
#include "runtime/envelope.h"
#include "runtime/log.h"

namespace vtas {

Actor::Actor(std::string name) : name_(std::move(name)), logger_(log::get(name_)) {}

Actor::~Actor() = default;

void Actor::bind_io(ActorIo* io, uint32_t incarnation) {
  io_ = io;
  incarnation_ = incarnation;
  // Correlation ids stay unique across restarts: a late response to an earlier incarnation's
  // request cannot match a request of this one.
  next_correlation_ = (static_cast<uint64_t>(incarnation) << 40) + 1;
}

const google::protobuf::FieldDescriptor* Actor::body_field_for(
    const google::protobuf::Descriptor* type) {
  const auto* oneof = Envelope::descriptor()->FindOneofByName("body");
  for (int i = 0; i < oneof->field_count(); ++i) {
    const auto* field = oneof->field(i);
    if (field->message_type() == type) return field;
  }
  // A programming error (a message type not wired into envelope.proto), caught by any test.
  throw std::logic_error("message type " + type->full_name() + " is not a body of vtas.Envelope");
}

int Actor::field_number(const google::protobuf::FieldDescriptor* field) { return field->number(); }

const google::protobuf::Message& Actor::body_of(const Envelope& envelope,
                                                const google::protobuf::FieldDescriptor* field) {
  return envelope.GetReflection()->GetMessage(envelope, field);
}

void Actor::set_body(Envelope& envelope, const google::protobuf::FieldDescriptor* field,
                     const google::protobuf::Message& body) {
  envelope.GetReflection()->MutableMessage(&envelope, field)->CopyFrom(body);
}

void Actor::stamp(Envelope& envelope, const std::string& to, MessageKind kind,
                  uint64_t correlation) {
  Header* h = envelope.mutable_header();
  h->set_sender(name_);
  h->set_receiver(to);
  h->set_kind(kind);
  h->set_correlation_id(correlation);
  h->set_incarnation(incarnation_);
  h->set_timestamp_ns(to_ns(io_->clock().now()));
}

bool Actor::send_envelope(const std::string& to, MessageKind kind, Envelope& envelope) {
  stamp(envelope, to, kind, next_correlation_++);
  return io_->transmit(envelope);
}

uint64_t Actor::request_envelope(const std::string& to, Envelope& envelope,
                                 ResponseHandler on_response, Nanos timeout) {
  uint64_t id = next_correlation_++;
  stamp(envelope, to, MESSAGE_KIND_REQUEST, id);
  TimerQueue::Id timer = io_->timers().schedule(io_->clock().now() + timeout, [this, id] {
    auto found = pending_.find(id);
    if (found == pending_.end()) return;
    ResponseHandler handler = std::move(found->second.handler);
    pending_.erase(found);
    handler(nullptr);
  });
  pending_.emplace(id, Pending{std::move(on_response), timer});
  if (!io_->transmit(envelope)) {
    // Report the failure through the same path as a timeout, but now rather than later.
    io_->timers().cancel(timer);
    ResponseHandler handler = std::move(pending_[id].handler);
    pending_.erase(id);
    handler(nullptr);
  }
  return id;
}

bool Actor::reply_envelope(const Incoming& to, Envelope& envelope) {
  stamp(envelope, to.sender(), MESSAGE_KIND_RESPONSE, to.header().correlation_id());
  return io_->transmit_reply(to.route, envelope);
}

TimerQueue::Id Actor::after(Nanos delay, TimerQueue::Callback fn) {
  return io_->timers().schedule(io_->clock().now() + delay, std::move(fn));
}

TimerQueue::Id Actor::every(Nanos period, TimerQueue::Callback fn) {
  return io_->timers().schedule(io_->clock().now() + period, std::move(fn), period);
}

void Actor::cancel_timer(TimerQueue::Id id) { io_->timers().cancel(id); }

void Actor::watch_fd(int fd, std::function<void()> on_readable) {
  io_->watch_fd(fd, std::move(on_readable));
}

void Actor::unwatch_fd(int fd) { io_->unwatch_fd(fd); }

void Actor::dispatch(const Envelope& envelope, const ReplyRoute& route) {
  Incoming in{envelope, route};
  if (envelope.header().kind() == MESSAGE_KIND_RESPONSE) {
    auto found = pending_.find(envelope.header().correlation_id());
    if (found == pending_.end()) {
      log().debug("late or unknown response dropped: {}", describe(envelope));
      return;
    }
    Pending pending = std::move(found->second);
    pending_.erase(found);
    io_->timers().cancel(pending.timeout_timer);
    pending.handler(&envelope);
    return;
  }
  auto handler = handlers_.find(envelope.body_case());
  if (handler == handlers_.end()) {
    on_unhandled(envelope, in);
    return;
  }
  handler->second(envelope, in);
}

void Actor::on_unhandled(const Envelope& envelope, const Incoming& in) {
  if (++unhandled_ <= 10 || unhandled_ % 1000 == 0) {
    log().warn("no handler for {} (unhandled so far: {})", describe(envelope), unhandled_);
  }
  if (envelope.header().kind() == MESSAGE_KIND_REQUEST) {
    supervisor::Ack ack;
    ack.set_ok(false);
    ack.set_error("actor '" + name_ + "' does not handle " + body_type(envelope));
    reply(in, ack);
  }
}

}  // namespace vtas
