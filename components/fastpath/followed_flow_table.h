// FollowedFlowTable: the fast path's flow table (`<runtime_dir>/flows`) as seen by an actor
// that maps it from another process and must follow it across fast-path restarts: the timer
// and cc actors. It maps the table when it becomes available (retrying every `retry` and
// saying so once), notices when a restarted fast path re-created it (a periodic check every
// `check`, and at once on ActorEvent{fastpath, STARTED}) and then leaves the frozen mapping
// for the new one. The actor learns of both through two callbacks and reads the table in
// between. Only the actor's own thread may call it (it uses the actor's timers).
//
// The seam is shm::RegionSource: FileRegionSource in an instance, a memfd in tests.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "components/fastpath/abi/flow_table_layout.h"
#include "components/fastpath/flow_table.h"
#include "proto/supervisor.pb.h"
#include "runtime/actor.h"
#include "runtime/shm/region.h"
#include "runtime/shm/region_source.h"

namespace vtas::fastpath {

class FollowedFlowTable {
 public:
  struct Callbacks {
    // Runs right after the table is mapped. An error gives the mapping up again and is
    // retried like a missing table (cc opens its state file here). Optional.
    std::function<Status()> attached;
    // Runs right before the mapping goes, with the reason (for the actor's own cleanup). Optional.
    std::function<void(const char* why)> detaching;
  };

  struct Timing {
    Nanos retry = std::chrono::milliseconds(100);  // while no table could be mapped
    Nanos check = std::chrono::seconds(1);         // whether the fast path re-created it
  };

  explicit FollowedFlowTable(std::unique_ptr<shm::RegionSource> source);
  FollowedFlowTable(const FollowedFlowTable&) = delete;
  FollowedFlowTable& operator=(const FollowedFlowTable&) = delete;

  // From the actor's on_start(): maps the table now if it is there (callbacks.attached runs
  // before this returns), else keeps retrying; starts the periodic check. `io` and `log` must
  // outlive this object (they are the actor's).
  void start(ActorIo& io, spdlog::logger& log, Timing timing, Callbacks callbacks);

  // Call with every ActorEvent the actor receives: when `fastpath_name` (re)started, follows
  // its new table now rather than at the next periodic check.
  void on_actor_event(const supervisor::ActorEvent& event, const std::string& fastpath_name);

  // Follows the table now: maps it if not mapped, re-maps it if the fast path replaced it.
  void follow();
  // Leaves the mapping (callbacks.detaching runs first); follow() maps it again.
  void detach(const char* why);

  bool has_source() const { return source_ != nullptr; }
  bool attached() const { return table_.has_value(); }
  // Only while attached().
  FlowTable& table() { return *table_; }
  const FlowTable& table() const { return *table_; }
  const shm::Region& region() const { return *region_; }
  uint32_t max_flows() const { return table_ ? table_->max_flows() : 0; }
  std::string describe() const { return source_ ? source_->describe() : "(no source)"; }
  // Times a table was mapped (the first time and after every replacement).
  uint64_t attaches() const { return attaches_; }

  // One CoreCounters field summed over every fast-path core (relaxed loads: the cores write
  // them concurrently); 0 while detached.
  uint64_t core_counter_sum(uint64_t abi::CoreCounters::*field) const;

 private:
  // Maps the table and runs callbacks.attached; the reason when that failed.
  Status try_map();
  void retry_later(const Status& failure);

  std::unique_ptr<shm::RegionSource> source_;
  ActorIo* io_ = nullptr;
  spdlog::logger* log_ = nullptr;
  Timing timing_;
  Callbacks callbacks_;
  std::optional<shm::Region> region_;
  std::optional<FlowTable> table_;
  TimerQueue::Id retry_timer_ = 0;
  TimerQueue::Id check_timer_ = 0;
  bool failure_reported_ = false;
  uint64_t attaches_ = 0;
};

}  // namespace vtas::fastpath
