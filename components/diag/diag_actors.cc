#include "components/diag/diag_actors.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace vtas::diag {

namespace {

// Blocks the actor's loop: the point is to look hung to the supervisor.
void block_for(uint32_t milliseconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
}

void add_counter(supervisor::StatsReport* report, const char* name, uint64_t value) {
  auto* c = report->add_counters();
  c->set_name(name);
  c->set_value(value);
}

}  // namespace

EchoActor::EchoActor(std::string name) : Actor(std::move(name)) {
  on(&EchoActor::handle_ping_request);
  on(&EchoActor::handle_note);
  on(&EchoActor::handle_hang);
}

void EchoActor::fill_stats(supervisor::StatsReport* report) {
  add_counter(report, "pings_answered", answered_);
}

void EchoActor::handle_hang(const Hang& hang, const Incoming&) {
  log().warn("hanging for {} ms as asked", hang.milliseconds());
  block_for(hang.milliseconds());
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
    : Actor(std::move(name)), settings_(settings), payload_(settings.payload_bytes(), 'p') {
  on(&PingerActor::handle_ping_burst);
  on(&PingerActor::handle_hang);
}

void PingerActor::fill_stats(supervisor::StatsReport* report) {
  add_counter(report, "pings_sent", sent_);
  add_counter(report, "pings_answered", answered_);
  add_counter(report, "pings_lost", lost_);
}

void PingerActor::handle_hang(const Hang& hang, const Incoming&) {
  log().warn("hanging for {} ms as asked", hang.milliseconds());
  block_for(hang.milliseconds());
}

void PingerActor::handle_ping_burst(const PingBurst& request, const Incoming& in) {
  if (burst_) {
    supervisor::Ack busy;
    busy.set_ok(false);
    busy.set_error("a burst is already running");
    reply(in, busy);
    return;
  }
  burst_ = std::make_unique<Burst>();
  burst_->to_send = request.count();
  burst_->window = std::max<uint32_t>(1, request.window());
  burst_->started = now();
  burst_->rtt_ns.reserve(request.count());
  burst_->request = std::make_unique<Envelope>(in.envelope);
  burst_->route = in.route;
  if (request.payload_bytes() != 0) payload_.assign(request.payload_bytes(), 'b');
  burst_send_more();
  if (burst_->to_send == 0 && burst_->outstanding == 0) burst_finish();
}

void PingerActor::burst_send_more() {
  while (burst_ && burst_->to_send > 0 && burst_->outstanding < burst_->window) {
    --burst_->to_send;
    ++burst_->outstanding;
    PingRequest ping;
    ping.set_sequence(++sent_);
    ping.set_payload(payload_);
    TimePoint sent_at = now();
    request(settings_.peer(), ping, [this, sent_at](const Envelope* response) {
      if (!burst_) return;
      --burst_->outstanding;
      if (response && response->has_ping_response()) {
        ++burst_->answered;
        ++answered_;
        burst_->rtt_ns.push_back(static_cast<uint64_t>((now() - sent_at).count()));
      } else {
        ++burst_->lost;
        ++lost_;
      }
      burst_send_more();
      if (burst_ && burst_->to_send == 0 && burst_->outstanding == 0) burst_finish();
    });
  }
}

void PingerActor::burst_finish() {
  PingBurstResult result;
  result.set_answered(burst_->answered);
  result.set_lost(burst_->lost);
  result.set_elapsed_ns(static_cast<uint64_t>((now() - burst_->started).count()));
  auto& rtt = burst_->rtt_ns;
  if (!rtt.empty()) {
    std::sort(rtt.begin(), rtt.end());
    result.set_rtt_p50_ns(rtt[rtt.size() / 2]);
    result.set_rtt_p99_ns(rtt[std::min(rtt.size() - 1, rtt.size() * 99 / 100)]);
    result.set_rtt_max_ns(rtt.back());
  }
  std::unique_ptr<Burst> done = std::move(burst_);
  reply(Incoming{*done->request, done->route}, result);
}

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
