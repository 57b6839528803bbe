#include "components/fastpath/followed_flow_table.h"

namespace vtas::fastpath {

FollowedFlowTable::FollowedFlowTable(std::unique_ptr<shm::RegionSource> source)
    : source_(std::move(source)) {}

void FollowedFlowTable::start(ActorIo& io, spdlog::logger& log, Timing timing,
                              Callbacks callbacks) {
  io_ = &io;
  log_ = &log;
  timing_ = timing;
  callbacks_ = std::move(callbacks);
  if (check_timer_ == 0) {
    check_timer_ =
        io_->timers().schedule(io_->clock().now() + timing_.check, [this] { follow(); },
                               timing_.check);
  }
  follow();
}

void FollowedFlowTable::on_actor_event(const supervisor::ActorEvent& event,
                                       const std::string& fastpath_name) {
  if (event.actor() != fastpath_name || event.kind() != supervisor::ActorEvent::KIND_STARTED) {
    return;
  }
  // A restarted fast path made a new table (the old mapping is frozen).
  follow();
}

void FollowedFlowTable::follow() {
  if (table_) {
    if (source_->is_current(*region_)) return;
    detach("the fast path re-created it");
  }
  const Status mapped = try_map();
  if (!mapped) {
    retry_later(mapped);
    return;
  }
  if (retry_timer_ != 0) io_->timers().cancel(retry_timer_);
  retry_timer_ = 0;
  failure_reported_ = false;
}

void FollowedFlowTable::detach(const char* why) {
  if (!table_) return;
  if (callbacks_.detaching) callbacks_.detaching(why);
  table_.reset();
  region_.reset();
  if (log_) log_->info("flow table {} left: {}", describe(), why);
}

Status FollowedFlowTable::try_map() {
  if (!source_) return make_error("no flow table source configured");
  auto region = source_->open();
  if (!region) return region.error();
  region_.emplace(std::move(*region));
  auto table = FlowTable::attach(*region_);
  if (!table) {
    region_.reset();
    return table.error();
  }
  table_.emplace(std::move(*table));
  ++attaches_;
  if (callbacks_.attached) {
    if (Status s = callbacks_.attached(); !s) {
      table_.reset();
      region_.reset();
      return s;
    }
  }
  return Status();
}

void FollowedFlowTable::retry_later(const Status& failure) {
  if (!failure_reported_) {
    log_->info("flow table {} not usable yet ({}); retrying every {} ms", describe(),
               failure.error().message,
               std::chrono::duration_cast<std::chrono::milliseconds>(timing_.retry).count());
    failure_reported_ = true;
  }
  if (retry_timer_ == 0) {
    retry_timer_ = io_->timers().schedule(io_->clock().now() + timing_.retry,
                                          [this] { follow(); }, timing_.retry);
  }
}

uint64_t FollowedFlowTable::core_counter_sum(uint64_t abi::CoreCounters::*field) const {
  if (!table_) return 0;
  uint64_t total = 0;
  for (uint32_t core = 0; core < abi::kMaxFastPathCores; ++core) {
    total += __atomic_load_n(&(table_->core_counters(core)->*field), __ATOMIC_RELAXED);
  }
  return total;
}

}  // namespace vtas::fastpath
