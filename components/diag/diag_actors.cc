#include "components/diag/diag_actors.h"

#include <chrono>

namespace vtas::diag {

EchoActor::EchoActor(std::string name) : Actor(std::move(name)) {
  on(&EchoActor::handle_ping_request);
  on(&EchoActor::handle_note);
}

void EchoActor::handle_ping_request(const PingRequest& ping, const Incoming& in) {
  PingResponse pong;
  pong.set_sequence(ping.sequence());
  pong.set_payload(ping.payload());
  pong.set_responder(name());
  ++answered_;
  reply(in, pong);
}

void EchoActor::handle_note(const Note& note, const Incoming& in) {
  log().info("note from {}: {}", in.sender(), note.text());
}

PingerActor::PingerActor(std::string name, const manifest::DiagSettings& settings)
    : Actor(std::move(name)), settings_(settings), payload_(settings.payload_bytes(), 'p') {}

Status PingerActor::on_start() {
  if (!settings_.has_peer() || settings_.peer().empty()) {
    return make_error("diag-pinger '" + name() + "' needs diag { peer: \"...\" } in the manifest");
  }
  if (settings_.rate_hz() > 0) {
    every(std::chrono::nanoseconds(1000000000ull / settings_.rate_hz()), [this] { ping_once(); });
  }
  log().info("pinging '{}' at {} Hz", settings_.peer(), settings_.rate_hz());
  return Status();
}

void PingerActor::on_stop() {
  log().info("stopping: {} pings sent, {} answered, {} lost", sent_, answered_, lost_);
}

void PingerActor::ping_once() {
  if (settings_.count() != 0 && sent_ >= settings_.count()) return;
  PingRequest ping;
  ping.set_sequence(++sent_);
  ping.set_payload(payload_);
  ++outstanding_;
  uint64_t sequence = sent_;
  request(settings_.peer(), ping, [this, sequence](const Envelope* response) {
    --outstanding_;
    if (response && response->has_ping_response() &&
        response->ping_response().sequence() == sequence) {
      ++answered_;
    } else {
      ++lost_;
      log().warn("ping {} to '{}' got no answer", sequence, settings_.peer());
    }
    finish_if_done();
  });
}

void PingerActor::finish_if_done() {
  if (settings_.count() == 0 || reported_ || sent_ < settings_.count() || outstanding_ != 0) return;
  reported_ = true;
  Note note;
  note.set_text("pinger done: " + std::to_string(answered_) + " answered, " +
                std::to_string(lost_) + " lost");
  log().info("{}", note.text());
  send(settings_.peer(), note);
}

void register_actors(ActorRegistry& registry) {
  registry.add("diag-echo", [](const ActorSpec& spec) {
    return std::make_unique<EchoActor>(spec.actor.name());
  });
  registry.add("diag-pinger", [](const ActorSpec& spec) {
    return std::make_unique<PingerActor>(spec.actor.name(), spec.actor.diag());
  });
}

}  // namespace vtas::diag
