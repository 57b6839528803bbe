// TestRunner: drives one actor without sockets or real time, in the style of CAF's
// deterministic test scheduler. Messages go in with deliver_*(); whatever the actor sends is
// recorded in `sent` / `replies`; time moves only with advance(), which fires due timers.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/actor.h"

namespace vtas::testing {

class TestRunner final : public ActorIo {
 public:
  explicit TestRunner(Actor& actor, uint32_t incarnation = 1);

  // bind_io + on_start.
  Status start();

  // Delivers a message as if `from` sent it. Returns the correlation id used.
  template <class Msg>
  uint64_t deliver_event(const std::string& from, const Msg& body) {
    return deliver_body(from, MESSAGE_KIND_EVENT, body);
  }
  template <class Msg>
  uint64_t deliver_request(const std::string& from, const Msg& body) {
    return deliver_body(from, MESSAGE_KIND_REQUEST, body);
  }
  void deliver(const Envelope& envelope, const std::string& routing_id = "test-route");

  // Answers the actor's outstanding request `request` (from `sent`) with `body`.
  template <class Msg>
  void respond(const Envelope& request, const Msg& body) {
    Envelope response = make(request.header().receiver(), request.header().sender(),
                             MESSAGE_KIND_RESPONSE, request.header().correlation_id());
    response.GetReflection()
        ->MutableMessage(&response, field_for(Msg::descriptor()))
        ->CopyFrom(body);
    deliver(response, "");
  }

  // Moves the fake clock and runs every timer that became due (in deadline order).
  void advance(Nanos d);
  // Runs the callback registered for `fd` as if it became readable.
  bool fire_fd(int fd);

  // Messages the actor sent to `to` ("" = anyone) whose body is Msg, oldest first.
  template <class Msg>
  std::vector<Msg> sent_of(const std::string& to = "") const {
    std::vector<Msg> out;
    const auto* field = field_for(Msg::descriptor());
    for (const auto& e : sent) {
      if (!to.empty() && e.header().receiver() != to) continue;
      if (e.body_case() != field->number()) continue;
      out.push_back(static_cast<const Msg&>(e.GetReflection()->GetMessage(e, field)));
    }
    return out;
  }

  FakeClock fake_clock;
  std::vector<Envelope> sent;      // transmit()
  std::vector<Envelope> replies;   // transmit_reply()
  bool stop_requested = false;
  bool fail_sends = false;         // makes transmit() report failure (full mailbox)

  // ActorIo
  bool transmit(Envelope& envelope) override;
  bool transmit_reply(const ReplyRoute& route, Envelope& envelope) override;
  const Clock& clock() const override { return fake_clock; }
  TimerQueue& timers() override { return timers_; }
  void watch_fd(int fd, std::function<void()> on_readable) override;
  void unwatch_fd(int fd) override;
  void stop_loop() override { stop_requested = true; }

 private:
  template <class Msg>
  uint64_t deliver_body(const std::string& from, MessageKind kind, const Msg& body) {
    uint64_t id = next_id_++;
    Envelope e = make(from, actor_.name(), kind, id);
    e.GetReflection()->MutableMessage(&e, field_for(Msg::descriptor()))->CopyFrom(body);
    deliver(e);
    return id;
  }
  static const google::protobuf::FieldDescriptor* field_for(const google::protobuf::Descriptor* t);
  Envelope make(const std::string& from, const std::string& to, MessageKind kind, uint64_t id);

  Actor& actor_;
  uint32_t incarnation_;
  TimerQueue timers_;
  std::map<int, std::function<void()>> fds_;
  uint64_t next_id_ = 1;
};

}  // namespace vtas::testing
