// Diagnostic actors: `diag-echo` answers pings; `diag-pinger` pings a peer at a fixed rate and
// counts answers and losses. They exercise the runtime end to end (the foundation demo and
// the runtime integration tests) and check a live instance's control plane.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/diag.pb.h"
#include "runtime/actor.h"
#include "runtime/actor_registry.h"

namespace vtas::diag {

class EchoActor final : public Actor {
 public:
  explicit EchoActor(std::string name);
  uint64_t answered() const { return answered_; }
  void fill_stats(supervisor::StatsReport* report) override;

 private:
  void handle_ping_request(const PingRequest& ping, const Incoming& in);
  void handle_note(const Note& note, const Incoming& in);
  void handle_hang(const Hang& hang, const Incoming& in);
  uint64_t answered_ = 0;
};

class PingerActor final : public Actor {
 public:
  PingerActor(std::string name, const manifest::DiagSettings& settings);
  Status on_start() override;
  void on_stop() override;

  uint64_t sent() const { return sent_; }
  uint64_t answered() const { return answered_; }
  uint64_t lost() const { return lost_; }
  void fill_stats(supervisor::StatsReport* report) override;

 private:
  // A burst in progress: pings still to send, round trips measured, who to answer.
  struct Burst {
    uint64_t to_send = 0;
    uint32_t window = 1;
    uint64_t outstanding = 0;
    uint64_t answered = 0;
    uint64_t lost = 0;
    TimePoint started{};
    std::vector<uint64_t> rtt_ns;
    std::unique_ptr<Envelope> request;  // the PingBurst request, to reply to
    ReplyRoute route;
  };

  void ping_once();
  void finish_if_done();
  void handle_ping_burst(const PingBurst& burst, const Incoming& in);
  void handle_hang(const Hang& hang, const Incoming& in);
  void burst_send_more();
  void burst_finish();

  manifest::DiagSettings settings_;
  std::string payload_;
  uint64_t sent_ = 0;
  uint64_t answered_ = 0;
  uint64_t lost_ = 0;
  uint64_t outstanding_ = 0;
  bool reported_ = false;
  std::unique_ptr<Burst> burst_;
};

void register_actors(ActorRegistry& registry);

}  // namespace vtas::diag
