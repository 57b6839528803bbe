#include "tests/support/test_runner.h"

#include <stdexcept>

namespace vtas::testing {

TestRunner::TestRunner(Actor& actor, uint32_t incarnation)
    : actor_(actor), incarnation_(incarnation) {}

Status TestRunner::start() {
  actor_.bind_io(this, incarnation_);
  return actor_.on_start();
}

const google::protobuf::FieldDescriptor* TestRunner::field_for(const google::protobuf::Descriptor* t) {
  const auto* oneof = Envelope::descriptor()->FindOneofByName("body");
  for (int i = 0; i < oneof->field_count(); ++i) {
    if (oneof->field(i)->message_type() == t) return oneof->field(i);
  }
  throw std::logic_error(t->full_name() + " is not an envelope body");
}

Envelope TestRunner::make(const std::string& from, const std::string& to, MessageKind kind,
                          uint64_t id) {
  Envelope e;
  Header* h = e.mutable_header();
  h->set_sender(from);
  h->set_receiver(to);
  h->set_kind(kind);
  h->set_correlation_id(id);
  h->set_timestamp_ns(to_ns(fake_clock.now()));
  return e;
}

void TestRunner::deliver(const Envelope& envelope, const std::string& routing_id) {
  actor_.dispatch(envelope, ReplyRoute{routing_id});
}

void TestRunner::advance(Nanos d) {
  TimePoint target = fake_clock.now() + d;
  // Step through deadlines so each timer sees the time it was due at.
  while (auto next = timers_.next_deadline()) {
    if (*next > target) break;
    if (*next > fake_clock.now()) fake_clock.set(*next);
    timers_.run_due(fake_clock.now());
  }
  fake_clock.set(target);
}

bool TestRunner::fire_fd(int fd) {
  auto found = fds_.find(fd);
  if (found == fds_.end()) return false;
  auto fn = found->second;
  fn();
  return true;
}

bool TestRunner::transmit(Envelope& envelope) {
  if (fail_sends) return false;
  sent.push_back(envelope);
  return true;
}

bool TestRunner::transmit_reply(const ReplyRoute& /*route*/, Envelope& envelope) {
  replies.push_back(envelope);
  return true;
}

void TestRunner::watch_fd(int fd, std::function<void()> on_readable) {
  fds_[fd] = std::move(on_readable);
}

void TestRunner::unwatch_fd(int fd) { fds_.erase(fd); }

}  // namespace vtas::testing
