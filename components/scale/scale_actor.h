// ScaleActor: the `scale` actor (fast-path cores up and down, TAS's load monitor). Every
// --interval (10 ms) it reads the busy time the fast-path cores publish in the flow table
// (core_load_source.h), feeds it to a LoadMonitor (load_monitor.h: 7/8 EWMA, down when idle >
// 1.25 cores, up when idle < 0.2 core, hold 10 samples after each step) and sends the fast
// path `SetCores` when the monitor decides; the fast path moves flow groups (RSS redirection
// where the NIC has it, software steering elsewhere). With --fp-no-autoscale it only makes
// sure all --fp-cores-max cores serve.
//
// State: none that matters. A restarted scale starts a fresh average (and holds); a restarted
// fast path (new flow table) is followed by re-mapping its table. Another party changing the
// core count (vtasctl call fastpath set_cores) is noticed as a core count the monitor did not
// choose: the average restarts from there.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "components/scale/core_load_source.h"
#include "components/scale/load_monitor.h"
#include "components/scale/scale_config.h"
#include "proto/fastpath.pb.h"
#include "runtime/actor.h"
#include "runtime/actor_registry.h"

namespace vtas::scale {

struct ScaleCounters {
  uint64_t samples = 0;
  uint64_t scale_ups = 0;       // SetCores sent with more cores
  uint64_t scale_downs = 0;     // ... with fewer
  uint64_t set_cores_failed = 0;  // refused or unanswered
  uint64_t outside_changes = 0;   // core count changed by someone else
  uint64_t attaches = 0;
};

class ScaleActor final : public Actor {
 public:
  ScaleActor(std::string name, ScaleConfig config, std::unique_ptr<CoreLoadSource> source);
  // From the manifest; a bad manifest makes on_start() fail with the reason.
  ScaleActor(std::string name, Result<ScaleConfig> config);

  Status on_start() override;
  void fill_stats(supervisor::StatsReport* report) override;

  const ScaleCounters& counters() const { return counters_; }
  const LoadMonitor& monitor() const { return monitor_; }
  bool attached() const { return source_ && source_->is_open(); }
  bool request_pending() const { return pending_; }

 private:
  void handle_actor_event(const supervisor::ActorEvent& m, const Incoming& in);
  void tick();
  void try_attach();
  void detach(const char* why);
  void request_cores(uint32_t cores, uint32_t now_active);

  std::string init_error_;
  ScaleConfig config_;
  std::unique_ptr<CoreLoadSource> source_;
  LoadMonitor monitor_;
  ScaleCounters counters_;

  // The previous sample (nullopt: none since attaching).
  struct Sample {
    TimePoint at;
    uint64_t busy_ns;
    uint32_t cores_active;
  };
  std::optional<Sample> last_;
  std::optional<TimePoint> last_attach_try_;
  std::optional<TimePoint> last_table_check_;
  bool pending_ = false;                 // a SetCores is on its way
  std::optional<uint32_t> expected_cores_;  // what we asked for last
  bool attach_failure_reported_ = false;
};

void register_actors(ActorRegistry& registry);

}  // namespace vtas::scale
