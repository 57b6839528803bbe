#include "components/fastpath/fast_path_core.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "components/fastpath/flow_lock.h"
#include "components/fastpath/tcp/tcp.h"
#include "components/fastpath/segment_builder.h"
#include "components/wire/wire.h"

namespace vtas::fastpath {
namespace {

constexpr uint16_t kRxBurst = 32;
constexpr uint32_t kTxFlowsPerIteration = 32;
constexpr uint32_t kBumpsPerContext = 32;
constexpr uint32_t kCommandsPerIteration = 64;
constexpr uint32_t kAppIdSlots = 65536;
constexpr size_t kReportBacklog = 4096;
// Multi-core: bumps that came ahead of an older bump of the same connection still on another
// core's ring wait here (bounded; when full, a bump is applied at once as on one core).
constexpr size_t kParkedBumps = 1024;
// How long a parked bump waits for the older one. An honest app's older bump is on another
// core's ring and is processed within one loop iteration of that core (this machine under load:
// a few ms); only a bump after one the fast path rejected (a broken app) waits this long.
constexpr uint64_t kParkedBumpWaitNs = 500'000'000;

uint64_t monotonic_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void write_eventfd(int fd) {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof(one));
}

}  // namespace

FastPathCore::FastPathCore(CoreConfig config, Port& port, FlowTable& flows,
                           shm::RingConsumer<CoreCommand> commands,
                           shm::RingProducer<CoreReport> reports, shm::Doorbell own_doorbell,
                           int control_doorbell_fd)
    : config_(config),
      frame_source_{config.local_mac, config.tx_checksum_offload},
      port_(port),
      flows_(flows),
      commands_(std::move(commands)),
      reports_(std::move(reports)),
      doorbell_(std::move(own_doorbell)),
      control_doorbell_fd_(control_doorbell_fd),
      counters_(flows.core_counters(config.core)),
      apps_(kAppIdSlots),
      local_(flows.max_flows()),
      scheduler_(flows.max_flows()) {
  dirty_.reserve(flows.max_flows());
  delayed_acks_.reserve(flows.max_flows());
  report_backlog_.reserve(kReportBacklog);
  parked_bumps_.reserve(kParkedBumps);
}

// ---- loop --------------------------------------------------------------------------------------

void FastPathCore::run(const std::atomic<bool>& stop) {
  port_.thread_init();
  last_work_ns_ = monotonic_now_ns();
  while (!stop.load(std::memory_order_relaxed)) {
    uint64_t start = monotonic_now_ns();
    bool busy = iterate(start);
    uint64_t end = monotonic_now_ns();
    counters_->loop_cycles += end - start;  // ns here: the load monitor compares busy/total
    if (busy) {
      counters_->busy_cycles += end - start;
      last_work_ns_ = end;
      if (woke_app_ && config_.yield_when_idle) {
        // We just woke an app that may share this CPU: let it run now rather than at the end
        // of our time slice (its receive buffer is what opens the window again).
        sched_yield();
      }
      woke_app_ = false;
    } else if (config_.interrupts &&
               end - last_work_ns_ >= uint64_t{config_.poll_before_sleep_us} * 1000) {
      sleep_until_work(stop, end);
    } else if (config_.yield_when_idle) {
      // Nothing to do this round: let the app or the peer (often on this very CPU) run
      // instead of spinning through our time slice. Returns at once when nobody waits.
      sched_yield();
    }
  }
}

bool FastPathCore::iterate(uint64_t now_ns) {
  now_ns_ = now_ns;
  now_us_ = tcp_clock_us(now_ns);
  bool busy = poll_commands();
  busy |= poll_steered();
  busy |= poll_rx();
  busy |= poll_app_queues();
  busy |= poll_tx(now_ns);
  flush_delayed_acks();
  flush_app_events();
  flush_tx();
  flush_reports();
  return busy;
}

bool FastPathCore::sleep_until_work(const std::atomic<bool>& stop, uint64_t now_ns) {
  // Announce sleep on every ring we consume, then look once more (no lost wake-up: a producer
  // that pushed after our look sees the announcement and rings the doorbell).
  bool idle = commands_.prepare_sleep();
  for (CoreAppContext* c : contexts_) idle = c->atx.prepare_sleep() && idle;
  for (auto* ring : steering_.from) {
    if (ring) idle = ring->prepare_sleep() && idle;
  }
  idle = idle && dirty_.empty() && report_backlog_.empty() && tx_count_ == 0 &&
         delayed_acks_.empty() && parked_bumps_.empty();
  uint64_t deadline = scheduler_.next_deadline();
  if (idle && deadline > now_ns && !stop.load()) {
    int timeout_ms = static_cast<int>(config_.max_idle_sleep_us / 1000);
    if (deadline != UINT64_MAX) {
      timeout_ms = static_cast<int>(std::min<uint64_t>(timeout_ms, (deadline - now_ns) / 1000000));
    }
    pollfd fds[2] = {{doorbell_.fd(), POLLIN, 0},
                     {config_.has_queue ? port_.rx_wakeup_fd(config_.queue) : -1, POLLIN, 0}};
    int nfds = fds[1].fd >= 0 ? 2 : 1;
    if (nfds == 1 && config_.has_queue) timeout_ms = std::min(timeout_ms, 1);  // cannot hear the NIC
    port_.enable_rx_wakeup(config_.queue, true);
    ++counters_->sleeps;
    ::poll(fds, static_cast<nfds_t>(nfds), timeout_ms);
    port_.enable_rx_wakeup(config_.queue, false);
    doorbell_.drain();
  }
  commands_.finish_sleep();
  for (CoreAppContext* c : contexts_) c->atx.finish_sleep();
  for (auto* ring : steering_.from) {
    if (ring) ring->finish_sleep();
  }
  last_work_ns_ = monotonic_now_ns();
  return idle;
}

// ---- commands from the control thread ---------------------------------------------------------

bool FastPathCore::poll_commands() {
  CoreCommand batch[16];
  uint32_t total = 0;
  while (total < kCommandsPerIteration) {
    uint32_t n = commands_.pop_burst(batch, 16);
    if (n == 0) break;
    for (uint32_t i = 0; i < n; ++i) execute(batch[i]);
    total += n;
  }
  return total > 0;
}

void FastPathCore::execute(const CoreCommand& c) {
  switch (static_cast<CommandType>(c.type)) {
    case CommandType::kSendFrame: {
      Packet p{c.data, c.length, static_cast<uint16_t>(c.capacity), 0, 0, c.pointer};
      if (c.flags & kCommandStampTimestamp) {
        stamp_tsval(p);
      }
      queue_tx(p);
      break;
    }
    case CommandType::kReceiveFrame: {
      Packet p{c.data, c.length, static_cast<uint16_t>(c.capacity), 0, 0, c.pointer};
      handle_frame(p);  // checksums verified in software: flags carry no NIC verdict
      break;
    }
    case CommandType::kFlowInstalled: {
      abi::FlowState* fs = flows_.flow(c.flow_id);
      if (!fs) break;
      local_[c.flow_id] = FlowLocal{};
      local_[c.flow_id].context = static_cast<CoreAppContext*>(c.pointer);
      scheduler_.ready(c.flow_id);
      break;
    }
    case CommandType::kFlowRemove: {
      if (c.flow_id >= local_.size()) break;
      scheduler_.remove(c.flow_id);
      local_[c.flow_id] = FlowLocal{};  // a dirty_ entry left behind is skipped (dirty == false)
      CoreReport r{};
      r.type = static_cast<uint8_t>(ReportType::kFlowReleased);
      r.flow_id = c.flow_id;
      report_in_order(r);
      break;
    }
    case CommandType::kRetransmit: {
      abi::FlowState* fs = flows_.flow(c.flow_id);
      if (!fs) break;
      FlowLock lock(*fs);
      if (!(fs->flags & abi::kFlowActive) || !tcp::go_back_n(*fs, now_us_)) break;
      ++fs->cnt_rexmit_timeouts;
      ++counters_->retransmits;
      scheduler_.ready(c.flow_id);
      break;
    }
    case CommandType::kWindowProbe: {
      abi::FlowState* fs = flows_.flow(c.flow_id);
      if (!fs) break;
      FlowLock lock(*fs);
      if (fs->flags & abi::kFlowActive) send_ack(*fs, tcp::window_probe(*fs, now_us_), nullptr);
      break;
    }
    case CommandType::kSendReset: {
      abi::FlowState* fs = flows_.flow(c.flow_id);
      if (!fs) break;
      FlowLock lock(*fs);
      send_reset(*fs);
      break;
    }
    case CommandType::kAttachApp:
      if (c.app_id < apps_.size()) {
        apps_[c.app_id] = AppView{static_cast<uint8_t*>(c.pointer), c.size, c.rate_limit};
      }
      break;
    case CommandType::kDetachApp: {
      if (c.app_id < apps_.size()) apps_[c.app_id] = AppView{};
      CoreReport r{};
      r.type = static_cast<uint8_t>(ReportType::kAppReleased);
      r.app_id = c.app_id;
      report_in_order(r);
      break;
    }
    case CommandType::kAttachContext:
      contexts_.push_back(static_cast<CoreAppContext*>(c.pointer));
      break;
    case CommandType::kDetachContext: {
      auto* ctx = static_cast<CoreAppContext*>(c.pointer);
      contexts_.erase(std::remove(contexts_.begin(), contexts_.end(), ctx), contexts_.end());
      for (auto& l : local_) {
        if (l.context == ctx) l.context = nullptr;
      }
      CoreReport r{};
      r.type = static_cast<uint8_t>(ReportType::kContextReleased);
      r.app_id = c.app_id;
      r.context_id = c.context_id;
      report_in_order(r);
      break;
    }
    default:
      break;
  }
}

// ---- receive ----------------------------------------------------------------------------------

bool FastPathCore::poll_rx() {
  if (!config_.has_queue) return false;
  // Leave room in the TX batch for the ACKs these packets may turn into.
  uint16_t room = static_cast<uint16_t>(std::size(tx_) - tx_count_);
  uint16_t max = std::min<uint16_t>(kRxBurst, room);
  if (max == 0) return false;
  uint16_t n = port_.rx_burst(config_.queue, rx_, max);
  for (uint16_t i = 0; i < n; ++i) {
    counters_->rx_packets++;
    counters_->rx_bytes += rx_[i].length;
    handle_frame(rx_[i]);
  }
  return n > 0;
}

void FastPathCore::handle_frame(Packet& packet) {
  wire::Frame frame;
  bool trusted = config_.trust_rx_checksum &&
                 (packet.flags & (kPacketIpChecksumGood | kPacketL4ChecksumGood)) ==
                     (kPacketIpChecksumGood | kPacketL4ChecksumGood);
  wire::ParseResult parsed = wire::parse_frame(
      packet.data, packet.length, &frame,
      trusted ? wire::RxChecksum::kTrustOffload : wire::RxChecksum::kVerify);
  if (parsed == wire::ParseResult::kOk && frame.kind == wire::FrameKind::kArp) {
    to_control(packet, 0, 0);
    return;
  }
  if (config_.hand_up_other_protocols && !(packet.flags & kPacketChecksumBad) &&
      (parsed == wire::ParseResult::kUnsupportedEtherType ||
       parsed == wire::ParseResult::kUnsupportedIpProtocol ||
       parsed == wire::ParseResult::kIpFragment)) {
    to_control(packet, 0, 0);  // not ours: the kernel interface gets it
    return;
  }
  if (parsed != wire::ParseResult::kOk || (packet.flags & kPacketChecksumBad)) {
    // Garbage, bad checksums, fragments, other protocols: counted and dropped.
    counters_->rx_bad++;
    port_.free_burst(&packet, 1);
    return;
  }
  FlowKey key{htonl(frame.ip.dst.value), htonl(frame.ip.src.value), htons(frame.tcp.dst_port),
              htons(frame.tcp.src_port)};
  if (key.local_ip != config_.local_ip) {
    if (config_.hand_up_other_protocols) {
      to_control(packet, 0, 0);
      return;
    }
    counters_->rx_bad++;
    port_.free_burst(&packet, 1);
    return;
  }
  uint32_t hash = flow_hash(key);
  uint32_t group = (packet.flags & kPacketRssValid ? packet.rss_hash : hash) % abi::kFlowGroups;
  int64_t found = flows_.lookup(key, hash);
  if (found < 0) {
    to_control(packet, 0, group);
    return;
  }
  uint32_t flow_id = static_cast<uint32_t>(found);
  abi::FlowState& fs = *flows_.flow(flow_id);
  // Multi-core: the flow belongs to the core its group is steered to; hand the frame over
  // (flow_group is set at install and never changes, so no lock is needed to read it).
  if (uint32_t owner = owner_of(fs.flow_group); owner != config_.core) {
    if (steer_packet(owner, packet)) return;
  }
  FlowLock lock(fs);
  if (!(fs.flags & abi::kFlowActive) || key_of(fs) != key) {
    to_control(packet, 0, group);
    return;
  }
  uint8_t* rx_base = app_base(fs.app_id, fs.rx_buffer, fs.rx_len);
  if (!rx_base) {
    counters_->rx_bad++;
    port_.free_burst(&packet, 1);
    return;
  }
  tcp::RxOutcome out =
      tcp::receive(fs, segment_from(frame, packet.data), now_us_, tcp::RxBuffer{rx_base, fs.rx_len});
  if (out.has_app_event()) {
    note_app_event(flow_id, out.app_tx_bump, out.app_flags);
  }
  if (out.flow_event != tcp::FlowEvent::kNone) {
    report_flow_event(flow_id, static_cast<uint8_t>(out.flow_event), fs.opaque);
  }
  if (out.tx_newly_sendable || out.went_back_n) ready_flow(flow_id, fs);
  if (out.went_back_n) counters_->retransmits++;
  if (out.drop == tcp::DropReason::kSynChallenged || out.drop == tcp::DropReason::kRstChallenged) {
    counters_->challenge_acks++;
  }
  if (out.to_slow_path) {
    to_control(packet, flow_id, fs.flow_group);
    return;
  }
  if (out.send_ack) {
    FlowLocal& l = local_[flow_id];
    if (out.ack_delayable && config_.delayed_ack_us != 0 && !l.ack_pending) {
      // First unacknowledged segment: owe the ACK for a moment (the reply may carry it).
      l.ack_pending = true;
      l.ack_due_ns = now_ns_ + uint64_t{config_.delayed_ack_us} * 1000;
      delayed_acks_.push_back(flow_id);
      port_.free_burst(&packet, 1);
      return;
    }
    l.ack_pending = false;  // this ACK covers whatever was owed (the entry is dropped later)
    send_ack(fs, out.ack_delayable ? tcp::pure_ack(fs, now_us_) : out.ack, &packet);
    return;
  }
  port_.free_burst(&packet, 1);
}

void FastPathCore::flush_delayed_acks() {
  size_t kept = 0;
  for (size_t i = 0; i < delayed_acks_.size(); ++i) {
    uint32_t flow_id = delayed_acks_[i];
    FlowLocal& l = local_[flow_id];
    if (!l.ack_pending) continue;  // a data segment or an immediate ACK carried it
    if (l.ack_due_ns > now_ns_) {
      delayed_acks_[kept++] = flow_id;
      continue;
    }
    l.ack_pending = false;
    abi::FlowState& fs = *flows_.flow(flow_id);
    FlowLock lock(fs);
    if (fs.flags & abi::kFlowActive) send_ack(fs, tcp::pure_ack(fs, now_us_), nullptr);
  }
  delayed_acks_.resize(kept);
}

void FastPathCore::to_control(Packet& packet, uint32_t flow_id, uint32_t flow_group) {
  CoreReport r{};
  r.type = static_cast<uint8_t>(ReportType::kPacket);
  r.length = packet.length;
  r.flow_id = flow_id;
  r.flow_group = flow_group;
  r.packet_native = packet.native;
  r.data = packet.data;
  if (try_report(r)) {
    counters_->exceptions++;
    return;
  }
  // Frames are the one thing we may drop (the ring is full): the peer retransmits.
  counters_->exception_drops++;
  port_.free_burst(&packet, 1);
}

void FastPathCore::report_flow_event(uint32_t flow_id, uint8_t kind, uint64_t opaque) {
  CoreReport r{};
  r.type = static_cast<uint8_t>(ReportType::kFlowEvent);
  r.event = kind;
  r.flow_id = flow_id;
  r.opaque = opaque;
  report_in_order(r);  // flow events are never dropped
}

bool FastPathCore::try_report(const CoreReport& r) {
  // Behind whatever waits in the backlog: the control thread must see reports in the order
  // they happened (a flow's release after its last frame, a FIN event before later frames).
  // The backlog is moved first, so one waiting report does not make every frame of this
  // iteration wait too -- it used to: a flow removal parked a report and the exceptions read
  // in the same iteration (the next connection's third ACK, its request) were dropped, which
  // held a new connection up by a SYN-ACK timeout and two data RTOs (~400 ms).
  move_backlog_to_ring();
  if (!report_backlog_.empty() || !reports_.try_push(r)) return false;
  reports_pushed_ = true;
  return true;
}

void FastPathCore::report_in_order(const CoreReport& r) {
  if (!try_report(r)) report_backlog_.push_back(r);  // kept until the ring has room
}

void FastPathCore::move_backlog_to_ring() {
  if (report_backlog_.empty()) return;
  uint32_t n =
      reports_.push_burst(report_backlog_.data(), static_cast<uint32_t>(report_backlog_.size()));
  if (n > 0) {
    report_backlog_.erase(report_backlog_.begin(), report_backlog_.begin() + n);
    reports_pushed_ = true;
  }
}

void FastPathCore::flush_reports() {
  move_backlog_to_ring();
  if (reports_pushed_ && reports_.consumer_needs_wakeup()) write_eventfd(control_doorbell_fd_);
  reports_pushed_ = false;
  for (size_t c = 0; c < steer_wakeup_.size(); ++c) {
    if (steer_wakeup_[c] && steering_.to[c]->consumer_needs_wakeup()) write_eventfd(steering_.doorbells[c]);
    steer_wakeup_[c] = false;
  }
}

// ---- app events and bumps ---------------------------------------------------------------------

uint8_t* FastPathCore::app_base(uint32_t app_id, uint64_t offset, uint64_t length) const {
  if (app_id >= apps_.size()) return nullptr;
  const AppView& app = apps_[app_id];
  if (!app.base || offset > app.size || length > app.size - offset) return nullptr;
  return app.base + offset;
}

CoreAppContext* FastPathCore::context_of(uint32_t flow_id, const abi::FlowState& fs) {
  FlowLocal& l = local_[flow_id];
  if (l.context && l.context->app_id == fs.app_id && l.context->context_id == fs.context_id) {
    return l.context;
  }
  // Not told yet (the flow became visible before its install command arrived) or moved.
  for (CoreAppContext* c : contexts_) {
    if (c->app_id == fs.app_id && c->context_id == fs.context_id) return l.context = c;
  }
  return nullptr;
}

void FastPathCore::note_app_event(uint32_t flow_id, uint32_t tx_bump, uint8_t flags) {
  FlowLocal& l = local_[flow_id];
  l.pending_tx_bump += tx_bump;
  l.pending_flags |= flags;
  if (!l.dirty) {
    l.dirty = true;
    dirty_.push_back(flow_id);
  }
}

void FastPathCore::flush_app_events() {
  size_t kept = 0;
  for (size_t i = 0; i < dirty_.size(); ++i) {
    uint32_t flow_id = dirty_[i];
    FlowLocal& l = local_[flow_id];
    if (!l.dirty) continue;  // flow removed meanwhile
    abi::FlowState& fs = *flows_.flow(flow_id);
    CoreAppContext* ctx = context_of(flow_id, fs);
    if (!ctx) {
      dirty_[kept++] = flow_id;  // context not attached yet: keep it
      continue;
    }
    abi::ArxEntry e{};
    e.type = 1;
    e.flags = l.pending_flags;
    e.core = config_.core;
    e.flow_id = flow_id;
    e.opaque = fs.opaque;
    {
      // The receive stream as it stands now, whichever core delivered the bytes: under the
      // lock, so position and count agree and the data they cover is visible to the app.
      FlowLock lock(fs);
      e.rx_stream_end = fs.rx_stream_end;
      e.rx_end_pos = fs.rx_next_pos;
    }
    e.tx_bump = l.pending_tx_bump;
    if (!ctx->arx.try_push(e)) {
      // The app is slow: the event stays merged in the flow and goes out later. Never lost.
      counters_->app_events_dropped++;
      dirty_[kept++] = flow_id;
      continue;
    }
    ctx->needs_wakeup = true;
    l.pending_tx_bump = 0;
    l.pending_flags = 0;
    l.dirty = false;
  }
  dirty_.resize(kept);
  for (CoreAppContext* c : contexts_) {
    if (c->needs_wakeup && c->arx.consumer_needs_wakeup()) {
      write_eventfd(c->app_doorbell_fd);
      woke_app_ = true;
    }
    c->needs_wakeup = false;
  }
}

bool FastPathCore::poll_app_queues() {
  bool busy = retry_parked_bumps();
  abi::AtxEntry bumps[kBumpsPerContext];
  for (CoreAppContext* ctx : contexts_) {
    uint32_t n = ctx->atx.pop_burst(bumps, kBumpsPerContext);
    if (n == 0) continue;
    busy = true;
    for (uint32_t i = 0; i < n; ++i) apply_bump(ctx->app_id, bumps[i], now_ns_, false);
  }
  return busy;
}

// Bumps are deltas, numbered per connection (bump_seq). On one core they arrive in order. With
// several cores an app sends a connection's bumps to the core that last reported it, so after a
// move its next bump can be processed before the previous one, still on the old core's ring:
// that one would then look stale and its bytes would be lost. Such a bump waits here instead.
bool FastPathCore::apply_bump(uint16_t app_id, const abi::AtxEntry& b, uint64_t first_seen_ns,
                              bool retry) {
  abi::FlowState* fs = flows_.flow(b.flow_id);
  // An app may only touch its own flows: anything else is garbage, counted and ignored.
  if (!fs || fs->app_id != app_id) {
    counters_->app_bad_bumps++;
    return true;
  }
  FlowLock lock(*fs);
  if (!(fs->flags & abi::kFlowActive) || fs->app_id != app_id) {
    counters_->app_bad_bumps++;
    return true;
  }
  const int16_t ahead = static_cast<int16_t>(static_cast<uint16_t>(b.bump_seq - fs->bump_seq));
  if (ahead > 1 && !steering_.to.empty() && now_ns_ - first_seen_ns < kParkedBumpWaitNs) {
    if (retry) return false;  // still waiting for the older bump
    if (parked_bumps_.size() < kParkedBumps) {
      parked_bumps_.push_back({b, first_seen_ns, app_id});
      counters_->bumps_parked++;
      return true;
    }
  }
  tcp::BumpOutcome out = tcp::app_bump(*fs, b);
  if (!out.accepted()) {
    counters_->app_bad_bumps++;
    return true;
  }
  if (out.tx_newly_sendable) ready_flow(b.flow_id, *fs);
  if (out.send_window_update) send_ack(*fs, tcp::pure_ack(*fs, now_us_), nullptr);
  return true;
}

bool FastPathCore::retry_parked_bumps() {
  if (parked_bumps_.empty()) return false;
  size_t kept = 0;
  for (size_t i = 0; i < parked_bumps_.size(); ++i) {
    const ParkedBump p = parked_bumps_[i];
    if (!apply_bump(p.app_id, p.bump, p.first_seen_ns, true)) parked_bumps_[kept++] = p;
  }
  const bool progressed = kept != parked_bumps_.size();
  parked_bumps_.resize(kept);
  return progressed;
}

// ---- transmit ---------------------------------------------------------------------------------

bool FastPathCore::poll_tx(uint64_t now_ns) {
  uint32_t flows[kTxFlowsPerIteration];
  uint32_t room = static_cast<uint32_t>(std::size(tx_) - tx_count_);
  uint32_t n = scheduler_.take(now_ns, flows, std::min(room, kTxFlowsPerIteration));
  for (uint32_t i = 0; i < n; ++i) {
    abi::FlowState& fs = *flows_.flow(flows[i]);
    if (uint32_t owner = owner_of(fs.flow_group); owner != config_.core) {
      kick_owner(owner, flows[i]);  // its group moved: its new core sends from now on
      continue;
    }
    FlowLock lock(fs);
    if (!(fs.flags & abi::kFlowActive)) continue;
    const uint32_t rate_kbps = fs.tx_rate_kbps;
    FlowLocal& l = local_[flows[i]];
    if (rate_kbps != 0 && l.pace_due_ns > now_ns + TxScheduler::kSlotNs) {
      scheduler_.ready_at(flows[i], l.pace_due_ns);  // made ready early (an ACK, an app write)
      continue;
    }
    // The app's VM has a rate of its own (shared by all its flows, on every core): wait for it.
    SharedRateLimit* group = rate_limit_of(fs.app_id);
    if (group && !group->allows(now_ns)) {
      scheduler_.ready_at(flows[i], group->due_ns());
      continue;
    }
    if (int32_t sent = send_segment(flows[i], fs); sent >= 0) {
      if (group) group->charge(now_ns, static_cast<uint32_t>(sent));
      if (rate_kbps != 0) l.pace_due_ns = next_paced_send(l.pace_due_ns, now_ns, fs.mss, rate_kbps);
      // More to send? Come back next turn (round robin), paced if the flow has a rate.
      if (tcp::has_sendable(fs)) {
        if (rate_kbps == 0) {
          scheduler_.ready(flows[i]);
        } else {
          scheduler_.ready_at(flows[i], l.pace_due_ns);
        }
      }
    }
  }
  return n > 0;
}

int32_t FastPathCore::send_segment(uint32_t flow_id, abi::FlowState& fs) {
  uint8_t* tx_base = app_base(fs.app_id, fs.tx_buffer, fs.tx_len);
  if (!tx_base) return -1;
  Packet p;
  if (port_.alloc_burst(config_.queue, &p, 1) != 1) return -1;
  tcp::TxSegment seg = tcp::next_segment(fs, now_us_);
  if (!seg.valid) {
    port_.free_burst(&p, 1);
    return -1;
  }
  size_t length = build_flow_segment(p.data, p.capacity, fs, frame_source_, seg.hdr, seg.ect,
                                     tx_base, seg.payload, seg.len);
  local_[flow_id].ack_pending = false;  // every segment we send acknowledges all we received
  if (length == 0) {
    // Cannot happen with MTU-sized buffers; the data stays queued (go-back-N resends it).
    port_.free_burst(&p, 1);
    return -1;
  }
  p.length = static_cast<uint16_t>(length);
  p.flags = config_.tx_checksum_offload ? uint32_t{kPacketTxChecksumOffload} : 0u;
  queue_tx(p);
  return static_cast<int32_t>(seg.len);
}

bool FastPathCore::send_ack(abi::FlowState& fs, const tcp::AckFields& hdr, Packet* reuse) {
  Packet p;
  if (reuse) {
    p = *reuse;
  } else if (port_.alloc_burst(config_.queue, &p, 1) != 1) {
    return false;
  }
  size_t length = build_flow_segment(p.data, p.capacity, fs, frame_source_, hdr, false, nullptr,
                                     nullptr, 0);
  if (length == 0) {
    port_.free_burst(&p, 1);
    return false;
  }
  p.length = static_cast<uint16_t>(length);
  p.flags = config_.tx_checksum_offload ? uint32_t{kPacketTxChecksumOffload} : 0u;
  counters_->acks_sent++;
  queue_tx(p);
  return true;
}

void FastPathCore::send_reset(abi::FlowState& fs) {
  Packet p;
  if (port_.alloc_burst(config_.queue, &p, 1) != 1) return;
  size_t length = build_flow_reset(p.data, p.capacity, fs, FrameSource{frame_source_.local_mac, false});
  if (length == 0) {
    port_.free_burst(&p, 1);
    return;
  }
  p.length = static_cast<uint16_t>(length);
  p.flags = 0;
  queue_tx(p);
}

void FastPathCore::stamp_tsval(Packet& p) {
  // Frames from the slow path carry TSval 0: put the fast path's clock in, keep TSecr.
  wire::Frame f;
  if (wire::parse_frame(p.data, p.length, &f, wire::RxChecksum::kTrustOffload) != wire::ParseResult::kOk ||
      f.kind != wire::FrameKind::kTcp || !f.tcp.options.has_timestamps) {
    return;
  }
  wire::rewrite_tcp_timestamps(p.data, p.length, now_us_, f.tcp.options.tsecr,
                               wire::TxChecksum::kSoftware);
}

// ---- steering between cores ---------------------------------------------------------------

uint32_t FastPathCore::owner_of(uint16_t flow_group) const {
  if (steering_.to.empty()) return config_.core;
  uint32_t owner = std::atomic_ref<const uint8_t>(flows_.steering()[flow_group % abi::kFlowGroups])
                       .load(std::memory_order_relaxed);
  return owner < steering_.to.size() && steering_.to[owner] ? owner : config_.core;
}

bool FastPathCore::steer_packet(uint32_t owner, Packet& packet) {
  SteerEntry e{};
  e.type = static_cast<uint8_t>(SteerType::kPacket);
  e.length = packet.length;
  e.flags = packet.flags;
  e.rss_hash = packet.rss_hash;
  e.packet_native = packet.native;
  e.data = packet.data;
  e.capacity = packet.capacity;
  if (!steering_.to[owner]->try_push(e)) {
    counters_->steer_drops++;
    return false;  // processed here instead: under the flow lock that is still correct
  }
  counters_->steered++;
  steer_wakeup_[owner] = true;
  return true;
}

void FastPathCore::kick_owner(uint32_t owner, uint32_t flow_id) {
  SteerEntry e{};
  e.type = static_cast<uint8_t>(SteerType::kKickFlow);
  e.flow_id = flow_id;
  if (steering_.to[owner]->try_push(e)) {
    steer_wakeup_[owner] = true;
  } else {
    scheduler_.ready(flow_id);  // try again next round rather than lose the flow
  }
}

void FastPathCore::ready_flow(uint32_t flow_id, const abi::FlowState& fs) {
  uint32_t owner = owner_of(fs.flow_group);
  if (owner == config_.core) {
    scheduler_.ready(flow_id);
  } else {
    kick_owner(owner, flow_id);
  }
}

bool FastPathCore::poll_steered() {
  bool busy = false;
  SteerEntry batch[16];
  for (auto* ring : steering_.from) {
    if (!ring) continue;
    uint32_t n = ring->pop_burst(batch, 16);
    for (uint32_t i = 0; i < n; ++i) {
      busy = true;
      if (batch[i].type == static_cast<uint8_t>(SteerType::kPacket)) {
        Packet p{batch[i].data, batch[i].length, batch[i].capacity, batch[i].flags,
                 batch[i].rss_hash, batch[i].packet_native};
        handle_frame(p);  // counted in rx_packets by the core that received it
      } else if (batch[i].type == static_cast<uint8_t>(SteerType::kKickFlow) &&
                 batch[i].flow_id < local_.size()) {
        scheduler_.ready(batch[i].flow_id);
      }
    }
  }
  return busy;
}

void FastPathCore::queue_tx(Packet& packet) {
  if (tx_count_ == std::size(tx_)) flush_tx();
  if (tx_count_ == std::size(tx_)) {
    port_.free_burst(&packet, 1);  // the NIC is saturated; TCP recovers
    return;
  }
  tx_[tx_count_++] = packet;
}

void FastPathCore::flush_tx() {
  if (tx_count_ == 0) return;
  uint16_t sent = port_.tx_burst(config_.queue, tx_, tx_count_);
  for (uint16_t i = 0; i < sent; ++i) {
    counters_->tx_packets++;
    counters_->tx_bytes += tx_[i].length;
  }
  // Unsent packets stay at the front for the next flush (the NIC queue is full).
  std::memmove(tx_, tx_ + sent, (tx_count_ - sent) * sizeof(Packet));
  tx_count_ = static_cast<uint16_t>(tx_count_ - sent);
}

}  // namespace vtas::fastpath
