#include "components/fastpath/fastpath_actor.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "components/fastpath/dpdk_port.h"
#include "components/fastpath/dpdk_telemetry.h"
#include "components/fastpath/flow_lock.h"
#include "components/wire/wire.h"
#include "proto/arp.pb.h"
#include "runtime/shm/abi.h"

namespace vtas::fastpath {
namespace {

using std::chrono::milliseconds;

abi::AppEvent to_app_event(const AppNotify& m) {
  abi::AppEvent e{};
  e.type = static_cast<uint8_t>(m.type());
  e.status = static_cast<int16_t>(m.status());
  e.request_id = m.request_id();
  e.opaque = m.opaque();
  e.flow_id = m.flow_id();
  e.listener_id = m.listener_id();
  e.local_ip = htonl(m.local_ip());
  e.remote_ip = htonl(m.remote_ip());
  e.local_port = htons(static_cast<uint16_t>(m.local_port()));
  e.remote_port = htons(static_cast<uint16_t>(m.remote_port()));
  return e;
}

void add_counter(supervisor::StatsReport* report, const std::string& name, uint64_t value) {
  auto* c = report->add_counters();
  c->set_name(name);
  c->set_value(value);
}

}  // namespace

FastPathActor::FastPathActor(std::string name, FastPathConfig config, std::unique_ptr<Port> port)
    : Actor(std::move(name)), config_(std::move(config)), port_(std::move(port)) {
  on(&FastPathActor::handle_install_flow);
  on(&FastPathActor::handle_remove_flow);
  on(&FastPathActor::handle_packet_out);
  on(&FastPathActor::handle_app_notify);
  on(&FastPathActor::handle_flow_query);
  on(&FastPathActor::handle_retransmit);
  on(&FastPathActor::handle_window_probe);
  on(&FastPathActor::handle_actor_event);
  on(&FastPathActor::handle_set_cores);
}

FastPathActor::FastPathActor(std::string name, const manifest::Manifest& manifest)
    : FastPathActor(std::move(name), FastPathConfig{}) {
  manifest_ = manifest;
}

FastPathActor::~FastPathActor() { on_stop(); }

// ---- start-up ----------------------------------------------------------------------------------

Status FastPathActor::on_start() {
  if (manifest_) {
    auto config = fast_path_config(*manifest_);
    if (!config) return config.error();
    config_ = std::move(*config);
  }
  auto doorbell = shm::Doorbell::create();
  if (!doorbell) return doorbell.error();
  control_doorbell_.emplace(std::move(*doorbell));
  if (Status s = open_port(); !s) return s;
  log_port_steering();
  if (Status s = create_flow_table(); !s) return s;
  if (Status s = start_cores(); !s) return s;
  if (dpdk_initialised_) publish_telemetry(&*flows_, static_cast<uint32_t>(cores_.size()));
  if (Status s = start_app_manager(); !s) return s;
  watch_fd(control_doorbell_->fd(), [this] {
    control_doorbell_->drain();
    drain_reports();
    apps_->drain_requests([this](auto& app, auto& ctx, const abi::AppRequest& r) {
      relay_request(app, ctx, r);
    });
  });
  // Reports and requests are also drained on a slow timer: a doorbell is an optimisation,
  // never the only way work gets noticed.
  every(milliseconds(100), [this] {
    apps_->expire_pending_clients(std::chrono::steady_clock::now());
    drain_reports();
    apps_->drain_requests([this](auto& app, auto& ctx, const abi::AppRequest& r) {
      relay_request(app, ctx, r);
    });
  });
  announce_mac();
  if (!config_.kni_name.empty()) {
    if (Status s = open_kernel_interface(); !s) return s;
  }
  log().info("serving {} on {} (mac {}) with {} core(s); apps attach at {}/app.sock",
             wire::to_string(config_.local_ip), port_->name(), wire::to_string(port_->mac()),
             cores_.size(), config_.runtime_dir);
  return Status();
}

Status FastPathActor::open_port() {
  if (port_) return Status();
  if (Status s = init_dpdk_eal(config_.eal_args); !s) return s;
  dpdk_initialised_ = true;
  DpdkPortConfig pc;
  pc.device = config_.device;
  pc.queues = static_cast<uint16_t>(config_.cores);
  pc.tx_checksum_offload = config_.tx_checksum_offload;
  pc.vlan_strip = config_.vlan_strip;
  pc.rx_interrupts = config_.interrupts;
  auto port = DpdkPort::open(pc);
  if (!port) return port.error();
  port_ = std::move(*port);
  return Status();
}

void FastPathActor::log_port_steering() {
  const PortCapabilities& caps = port_->capabilities();
  if (caps.reta_size == 0) {
    log().info("{}: {} queue(s), no RSS redirection table: cores hand frames to their owners",
               port_->name(), caps.queues);
  } else if (!reta_follows_groups(caps.reta_size)) {
    log().info("{}: {} queue(s), RSS redirection table of {} entries unused (not a power of "
               "two): cores hand frames to their owners", port_->name(), caps.queues, caps.reta_size);
  } else {
    log().info("{}: {} queue(s), RSS redirection table of {} entries follows the flow groups",
               port_->name(), caps.queues, caps.reta_size);
  }
}

Status FastPathActor::create_flow_table() {
  uint64_t bytes = FlowTable::region_bytes(config_.max_flows);
  std::string path = config_.runtime_dir + "/flows";
  auto region = shm::Region::create_file(path, bytes, 0600);
  if (!region) return region.error();
  flow_region_.emplace(std::move(*region));
  auto table = FlowTable::create(*flow_region_, config_.max_flows);
  if (!table) return table.error();
  flows_.emplace(std::move(*table));
  return Status();
}

void FastPathActor::steer_groups(uint32_t active) {
  // Every flow group to one of the active cores, round robin (TAS issue #13: initialised
  // whatever the autoscale setting), in a pattern the NIC's RETA can match (group_steering.h)
  // so frames arrive at their owner directly; elsewhere cores hand frames over (software
  // steering). The table is written before the RETA: a frame the RETA already sends to a new
  // owner finds that owner in the table, and any frame in between is handed over.
  active = std::clamp<uint32_t>(active, 1, static_cast<uint32_t>(cores_.size()));
  const uint16_t reta_size = port_->capabilities().reta_size;
  GroupCores cores = spread_groups(active, reta_size);
  for (uint32_t g = 0; g < abi::kFlowGroups; ++g) {
    std::atomic_ref<uint8_t>(flows_->steering()[g]).store(cores[g], std::memory_order_relaxed);
  }
  reta_in_use_ = port_->program_reta(cores);
  if (!reta_in_use_ && reta_follows_groups(reta_size)) {
    log().warn("{}: the device refused the RSS redirection table for {} core(s); frames reach "
               "their cores by software steering", port_->name(), active);
  }
  std::atomic_ref<uint32_t>(flows_->header()->cores_active).store(active, std::memory_order_release);
  // Cores that lost flows notice on their next packet or send; wake them so they do now.
  for (auto& core : cores_) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(core->doorbell_fd, &one, sizeof(one));
  }
}

Status FastPathActor::connect_cores() {
  // One ring from every core to every other core (SPSC each), for frames and flows that
  // belong to another core.
  uint32_t n = static_cast<uint32_t>(cores_.size());
  if (n < 2) return Status();
  constexpr uint32_t kSteerRing = 4096;
  size_t bytes = shm::ring_bytes(kSteerRing);
  for (uint32_t to = 0; to < n; ++to) {
    Core& dst = *cores_[to];
    dst.steer_memory.reset(static_cast<uint8_t*>(std::aligned_alloc(64, bytes * n)));
    dst.steer_in.resize(n);
    for (uint32_t from = 0; from < n; ++from) {
      if (from == to) continue;
      uint8_t* mem = dst.steer_memory.get() + bytes * from;
      if (Status s = shm::ring_init(mem, bytes, kSteerRing); !s) return s;
      std::string name = "steer " + std::to_string(from) + "->" + std::to_string(to);
      auto c = shm::RingConsumer<SteerEntry>::attach(mem, bytes, kSteerRing, name);
      auto p = shm::RingProducer<SteerEntry>::attach(mem, bytes, kSteerRing, name);
      if (!c || !p) return make_error("cannot attach " + name);
      dst.steer_in[from] = std::make_unique<shm::RingConsumer<SteerEntry>>(std::move(*c));
      Core& src = *cores_[from];
      src.steer_out.resize(n);
      src.steer_out[to] = std::make_unique<shm::RingProducer<SteerEntry>>(std::move(*p));
    }
  }
  for (uint32_t c = 0; c < n; ++c) {
    FastPathCore::Steering steering;
    for (uint32_t other = 0; other < n; ++other) {
      steering.to.push_back(other == c ? nullptr : cores_[c]->steer_out[other].get());
      steering.from.push_back(other == c ? nullptr : cores_[c]->steer_in[other].get());
      steering.doorbells.push_back(cores_[other]->doorbell_fd);
    }
    cores_[c]->core->set_steering(std::move(steering));
  }
  return Status();
}

void FastPathActor::handle_set_cores(const SetCores& m, const Incoming& in) {
  uint32_t active = std::clamp<uint32_t>(m.cores(), 1, static_cast<uint32_t>(cores_.size()));
  if (active != flows_->header()->cores_active) {
    log().info("serving with {} of {} cores", active, cores_.size());
    steer_groups(active);
  }
  if (in.header().kind() == MESSAGE_KIND_REQUEST) {
    supervisor::Ack ack;
    ack.set_ok(m.cores() >= 1 && m.cores() <= cores_.size());
    if (!ack.ok()) {
      ack.set_error("cores must be 1.." + std::to_string(cores_.size()) + " (--fp-cores-max); using " +
                    std::to_string(active));
    }
    reply(in, ack);
  }
}

Status FastPathActor::start_cores() {
  // One core per --fp-cores-max. Cores beyond the device's queues poll no NIC queue: they
  // serve the flows steered to them (frames handed over by the cores that receive them).
  uint32_t count = std::max<uint32_t>(1, config_.cores);
  uint32_t queues = port_->capabilities().queues;
  for (uint32_t i = 0; i < count; ++i) {
    auto core = std::make_unique<Core>();
    size_t cmd_bytes = shm::ring_bytes(config_.command_ring);
    size_t rep_bytes = shm::ring_bytes(config_.report_ring);
    core->memory.reset(static_cast<uint8_t*>(std::aligned_alloc(64, cmd_bytes + rep_bytes)));
    uint8_t* cmd_mem = core->memory.get();
    uint8_t* rep_mem = cmd_mem + cmd_bytes;
    if (Status s = shm::ring_init(cmd_mem, cmd_bytes, config_.command_ring); !s) return s;
    if (Status s = shm::ring_init(rep_mem, rep_bytes, config_.report_ring); !s) return s;
    std::string n = "core" + std::to_string(i);
    auto cmd_p = shm::RingProducer<CoreCommand>::attach(cmd_mem, cmd_bytes, config_.command_ring, n + " commands");
    auto cmd_c = shm::RingConsumer<CoreCommand>::attach(cmd_mem, cmd_bytes, config_.command_ring, n + " commands");
    auto rep_p = shm::RingProducer<CoreReport>::attach(rep_mem, rep_bytes, config_.report_ring, n + " reports");
    auto rep_c = shm::RingConsumer<CoreReport>::attach(rep_mem, rep_bytes, config_.report_ring, n + " reports");
    if (!cmd_p || !cmd_c || !rep_p || !rep_c) return make_error("cannot attach core rings");
    auto doorbell = shm::Doorbell::create();
    if (!doorbell) return doorbell.error();
    core->doorbell_fd = doorbell->fd();
    core->command_producer = std::make_unique<shm::RingProducer<CoreCommand>>(std::move(*cmd_p));
    core->report_consumer = std::make_unique<shm::RingConsumer<CoreReport>>(std::move(*rep_c));
    CoreConfig cc;
    cc.core = static_cast<uint16_t>(i);
    cc.queue = static_cast<uint16_t>(i < queues ? i : 0);
    cc.has_queue = i < queues;
    cc.local_ip = htonl(config_.local_ip.value);
    cc.local_mac = port_->mac();
    cc.hand_up_other_protocols = !config_.kni_name.empty();
    cc.tx_checksum_offload = port_->capabilities().tx_checksum_offload;
    cc.trust_rx_checksum = port_->capabilities().rx_checksum_offload;
    cc.interrupts = config_.interrupts;
    cc.poll_before_sleep_us = config_.poll_interval_us;
    core->core = std::make_unique<FastPathCore>(cc, *port_, *flows_, std::move(*cmd_c), std::move(*rep_p),
                                                std::move(*doorbell), control_doorbell_->fd());
    cores_.push_back(std::move(core));
  }
  if (Status s = connect_cores(); !s) return s;
  // All cores serve at start; `scale` (or vtasctl call fastpath set_cores) changes that.
  steer_groups(count);
  for (auto& core : cores_) {
    FastPathCore* c = core->core.get();
    core->thread = std::thread([this, c] { c->run(stopping_); });
  }
  return Status();
}

// The CPUs (0-63) the core threads may run on, for apps to know whether their spinning would
// compete with a core (AppRegionHeader::fastpath_cpus). A core allowed beyond CPU 63 could be
// anywhere: every bit set.
uint64_t FastPathActor::core_cpus() {
  uint64_t mask = 0;
  for (auto& core : cores_) {
    cpu_set_t set;
    CPU_ZERO(&set);
    uint64_t core_mask = 0;
    if (pthread_getaffinity_np(core->thread.native_handle(), sizeof(set), &set) != 0 ||
        !abi::cpu_mask_of(set, &core_mask)) {
      return ~uint64_t{0};
    }
    mask |= core_mask;
  }
  return mask;
}

Status FastPathActor::start_app_manager() {
  AppManagerConfig ac;
  ac.socket_path = config_.runtime_dir + "/app.sock";
  ac.region_size = config_.app_region_size;
  ac.hugepages = config_.hugepages;
  ac.num_cores = static_cast<uint32_t>(cores_.size());
  ac.kin_capacity = config_.kin_entries;
  ac.kout_capacity = config_.kout_entries;
  ac.local_ip = htonl(config_.local_ip.value);
  ac.local_mac = port_->mac();
  for (auto& core : cores_) ac.core_doorbell_fds.push_back(core->doorbell_fd);
  ac.control_doorbell_fd = control_doorbell_->fd();
  ac.poll_interval_app_us = config_.poll_interval_app_us;
  ac.fastpath_cpus = core_cpus();
  AppManager::Hooks hooks;
  hooks.watch_app_socket = [this](int fd, uint32_t app_id) {
    watch_fd(fd, [this, app_id] { apps_->on_app_socket(app_id); });
  };
  hooks.watch_vm_socket = [this](int fd, uint32_t vm_id) {
    watch_fd(fd, [this, vm_id] { apps_->on_vm_socket(vm_id); });
  };
  hooks.watch_pending_client = [this](int fd) {
    watch_fd(fd, [this, fd] { apps_->on_pending_client(fd); });
  };
  hooks.unwatch = [this](int fd) { unwatch_fd(fd); };
  hooks.attached = [this](AppManager::App& app) {
    for (uint32_t c = 0; c < cores_.size(); ++c) {
      CoreCommand cmd{};
      cmd.type = static_cast<uint8_t>(CommandType::kAttachApp);
      cmd.app_id = app.id;
      cmd.pointer = app.base;
      cmd.size = app.size;
      cmd.rate_limit = apps_->rate_limit_of(app);
      command(c, cmd);
    }
    AppAttached m;
    m.set_app_id(app.id);
    m.set_pid(static_cast<uint32_t>(app.pid));
    m.set_uid(app.uid);
    m.set_vm_id(app.vm_id);
    send(kConnActor, m);
  };
  hooks.context_created = [this](AppManager::App& app, AppManager::Context& ctx) {
    for (uint32_t c = 0; c < cores_.size(); ++c) {
      CoreCommand cmd{};
      cmd.type = static_cast<uint8_t>(CommandType::kAttachContext);
      cmd.app_id = app.id;
      cmd.context_id = ctx.id;
      cmd.pointer = ctx.per_core[c];
      command(c, cmd);
    }
  };
  hooks.detaching = [this](AppManager::App& app) { app_detaching(app); };
  apps_ = std::make_unique<AppManager>(std::move(ac), std::move(hooks));
  if (Status s = apps_->listen(); !s) return s;
  watch_fd(apps_->listen_fd(), [this] { apps_->accept_pending(); });
  return Status();
}

void FastPathActor::on_stop() {
  if (stopping_.exchange(true)) return;
  for (auto& core : cores_) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(core->doorbell_fd, &one, sizeof(one));
  }
  for (auto& core : cores_) {
    if (core->thread.joinable()) core->thread.join();
  }
  apps_.reset();
  cores_.clear();
  kernel_port_.reset();  // a DPDK port too: before the EAL goes
  port_.reset();
  if (flow_region_) {
    std::string path = config_.runtime_dir + "/flows";
    flows_.reset();
    flow_region_.reset();
    ::unlink(path.c_str());
  }
  if (dpdk_initialised_) {
    cleanup_dpdk_eal();
    // The EAL's runtime directory under our own prefix (telemetry socket): ours to remove.
    std::error_code ec;
    std::filesystem::remove_all("/var/run/dpdk/vtas-" + config_.instance, ec);
  }
}

// ---- cores ---------------------------------------------------------------------------------------

uint32_t FastPathActor::core_of_group(uint32_t flow_group) const {
  uint32_t core = flows_->steering()[flow_group % abi::kFlowGroups];
  return core < cores_.size() ? core : 0;
}

bool FastPathActor::command(uint32_t core, const CoreCommand& c) {
  Core& k = *cores_[core];
  if (!k.command_producer->try_push(c)) {
    log().error("core {} command ring is full: command {} dropped", core, c.type);
    return false;
  }
  if (k.command_producer->consumer_needs_wakeup()) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(k.doorbell_fd, &one, sizeof(one));
  }
  return true;
}

bool FastPathActor::prepare_to_wait() {
  bool idle = true;
  for (auto& core : cores_) idle = core->report_consumer->prepare_sleep() && idle;
  return idle && kin_backlog_.empty();
}

void FastPathActor::after_wait() {
  for (auto& core : cores_) core->report_consumer->finish_sleep();
  drain_reports();
  // Events that did not fit an app's kin ring: retry now.
  if (!kin_backlog_.empty()) {
    std::vector<std::pair<uint32_t, abi::AppEvent>> retry;
    retry.swap(kin_backlog_);
    for (auto& [key, event] : retry) {
      if (!apps_->post_event(key >> 16, key & 0xffff, event) && apps_->find(key >> 16)) {
        kin_backlog_.emplace_back(key, event);
      }
    }
  }
}

void FastPathActor::drain_reports() {
  CoreReport batch[32];
  for (uint32_t c = 0; c < cores_.size(); ++c) {
    for (int rounds = 0; rounds < 64; ++rounds) {
      uint32_t n = cores_[c]->report_consumer->pop_burst(batch, 32);
      if (n == 0) break;
      for (uint32_t i = 0; i < n; ++i) handle_report(c, batch[i]);
    }
  }
}

void FastPathActor::handle_report(uint32_t core, const CoreReport& r) {
  switch (static_cast<ReportType>(r.type)) {
    case ReportType::kPacket: {
      Packet p{r.data, r.length, 0, 0, 0, r.packet_native};
      PacketIn m;
      m.set_frame(r.data, r.length);
      m.set_core(core);
      m.set_flow_group(r.flow_group);
      m.set_flow_id(r.flow_id);
      port_->free_burst(&p, 1);
      // ARP frames go to arp, everything else (TCP) to conn.
      bool arp = r.length >= 14 && r.data[12] == 0x08 && r.data[13] == 0x06;
      if (kernel_port_ && (arp || (r.flow_id == 0 && !serves(m.frame())))) {
        // --kni-name: the kernel resolves its own neighbours (a copy of every ARP frame) and
        // gets what vtas does not serve.
        to_kernel(m.frame());
        if (!arp) break;
      }
      if (arp) {
        ++frames_to_arp_;
        send(kArpActor, m);
      } else {
        ++frames_to_conn_;
        send(kConnActor, m);
      }
      break;
    }
    case ReportType::kFlowEvent: {
      FlowEvent m;
      m.set_flow_id(r.flow_id);
      m.set_kind(static_cast<FlowEvent::Kind>(r.event));
      m.set_opaque(r.opaque);
      // The flow id is not reused before its kFlowReleased, which this ring reports after
      // this event: the slot still holds the connection the event is about.
      if (const abi::FlowState* fs = flows_->flow(r.flow_id)) {
        FlowTuple* t = m.mutable_tuple();
        t->set_local_ip(ntohl(fs->local_ip));
        t->set_remote_ip(ntohl(fs->remote_ip));
        t->set_local_port(ntohs(fs->local_port));
        t->set_remote_port(ntohs(fs->remote_port));
      }
      send(kConnActor, m);
      break;
    }
    case ReportType::kFlowReleased: {
      auto found = removals_.find(r.flow_id);
      if (found == removals_.end()) break;
      apps_->release(found->second.app_id, found->second.rx_buffer);
      apps_->release(found->second.app_id, found->second.tx_buffer);
      apps_->release_connection(found->second.app_id);
      removals_.erase(found);
      if (abi::FlowState* fs = flows_->flow(r.flow_id)) {
        FlowLock lock(*fs);
        uint32_t held = fs->lock;
        std::memset(static_cast<void*>(fs), 0, sizeof(*fs));
        fs->lock = held;
      }
      flows_->release_id(r.flow_id);
      break;
    }
    case ReportType::kAppReleased: {
      auto found = detach_acks_.find(r.app_id);
      if (found == detach_acks_.end() || --found->second > 0) break;
      detach_acks_.erase(found);
      apps_->finish_detach(r.app_id);
      AppDetached m;
      m.set_app_id(r.app_id);
      send(kConnActor, m);
      break;
    }
    default:
      break;
  }
}

// ---- apps ----------------------------------------------------------------------------------------

void FastPathActor::relay_request(AppManager::App& app, AppManager::Context& ctx,
                                  const abi::AppRequest& r) {
  AppRequestIn m;
  m.set_app_id(app.id);
  m.set_vm_id(app.vm_id);
  m.set_context_id(ctx.id);  // the ring it came on, not what the app claims
  m.set_type(static_cast<AppRequestIn::Type>(r.type));
  if (r.type == 0 || r.type > static_cast<uint8_t>(abi::AppRequestType::kRequestScale)) {
    ++app.bad_requests;
    return;
  }
  m.set_request_id(r.request_id);
  m.set_opaque(r.opaque);
  m.set_flow_id(r.flow_id);
  m.set_listener_id(r.listener_id);
  m.set_remote_ip(ntohl(r.remote_ip));
  m.set_local_ip(ntohl(r.local_ip));
  m.set_remote_port(ntohs(r.remote_port));
  m.set_local_port(ntohs(r.local_port));
  m.set_backlog(r.backlog);
  m.set_new_context(r.new_context);
  m.set_cores(r.cores);
  m.set_reset(r.flags & abi::kCloseReset);
  m.set_reuse_port(r.flags & abi::kListenReusePort);
  uint32_t& outstanding = unanswered_per_app_[app.id];
  if (outstanding >= config_.max_unanswered_per_app) return refuse_request(m, -ENOBUFS);
  if (r.type == static_cast<uint8_t>(abi::AppRequestType::kListenOpen)) listen_ports_.set(ntohs(r.local_port));
  // A repeated request id replaces its earlier entry: conn answers it once either way.
  auto [entry, added] =
      unanswered_.try_emplace({app.id, ctx.id, r.request_id}, UnansweredRequest{m, now()});
  if (added) {
    ++outstanding;
  } else {
    entry->second.request = m;
  }
  send(kConnActor, m);
}

void FastPathActor::refuse_request(const AppRequestIn& request, int status) {
  ++app_requests_refused_;
  // The event that answers each request type (abi::AppRequestType -> abi::AppEventType).
  static const std::map<AppRequestIn::Type, AppNotify::Type> kAnswerOf = {
      {AppRequestIn::TYPE_CONN_OPEN, AppNotify::TYPE_CONN_OPENED},
      {AppRequestIn::TYPE_CONN_CLOSE, AppNotify::TYPE_CONN_CLOSED},
      {AppRequestIn::TYPE_LISTEN_OPEN, AppNotify::TYPE_LISTEN_OPENED},
      {AppRequestIn::TYPE_LISTEN_CLOSE, AppNotify::TYPE_LISTEN_CLOSED},
      {AppRequestIn::TYPE_ACCEPT, AppNotify::TYPE_ACCEPTED},
      {AppRequestIn::TYPE_CONN_MOVE, AppNotify::TYPE_CONN_MOVED},
      {AppRequestIn::TYPE_REQUEST_SCALE, AppNotify::TYPE_SCALED},
  };
  auto answer = kAnswerOf.find(request.type());
  if (answer == kAnswerOf.end()) return;
  AppNotify m;
  m.set_app_id(request.app_id());
  m.set_context_id(request.context_id());
  m.set_type(answer->second);
  m.set_status(status);
  m.set_request_id(request.request_id());
  m.set_opaque(request.opaque());
  m.set_flow_id(request.flow_id());
  m.set_listener_id(request.listener_id());
  m.set_local_ip(request.local_ip());
  m.set_remote_ip(request.remote_ip());
  m.set_local_port(request.local_port());
  m.set_remote_port(request.remote_port());
  post_notify(m, UINT32_MAX, 0);
}

void FastPathActor::forget_unanswered(uint32_t app_id, uint32_t context_id, uint32_t request_id) {
  if (unanswered_.erase({app_id, context_id, request_id}) == 0) return;
  auto count = unanswered_per_app_.find(app_id);
  if (count != unanswered_per_app_.end() && --count->second == 0) unanswered_per_app_.erase(count);
}

bool FastPathActor::post_notify(const AppNotify& m, uint32_t flow_id, uint32_t core) {
  abi::AppEvent e = to_app_event(m);
  if (flow_id != UINT32_MAX) {
    if (abi::FlowState* fs = flows_->flow(flow_id)) {
      e.flow_id = flow_id;
      e.rx_buffer = fs->rx_buffer;
      e.tx_buffer = fs->tx_buffer;
      e.rx_len = fs->rx_len;
      e.tx_len = fs->tx_len;
      e.core = static_cast<uint16_t>(core);
    }
  }
  if (m.request_id() != 0) forget_unanswered(m.app_id(), m.context_id(), m.request_id());
  if (apps_->post_event(m.app_id(), m.context_id(), e)) return true;
  if (apps_->find(m.app_id())) kin_backlog_.emplace_back(m.app_id() << 16 | m.context_id(), e);
  return false;
}

void FastPathActor::app_detaching(AppManager::App& app) {
  // Reset the app's connections, then release its contexts and region on every core. Each
  // core executes commands in order, so its kAppReleased comes after its flow releases.
  for (uint32_t id = 0; id < flows_->max_flows(); ++id) {
    abi::FlowState* fs = flows_->flow(id);
    if ((fs->flags & abi::kFlowActive) && fs->app_id == app.id) remove_flow(id, true);
  }
  for (auto it = unanswered_.begin(); it != unanswered_.end();) {
    it = std::get<0>(it->first) == app.id ? unanswered_.erase(it) : std::next(it);
  }
  unanswered_per_app_.erase(app.id);
  detach_acks_[app.id] = static_cast<uint32_t>(cores_.size());
  for (uint32_t c = 0; c < cores_.size(); ++c) {
    for (auto& ctx : app.contexts) {
      CoreCommand cmd{};
      cmd.type = static_cast<uint8_t>(CommandType::kDetachContext);
      cmd.app_id = app.id;
      cmd.context_id = ctx->id;
      cmd.pointer = ctx->per_core[c];
      command(c, cmd);
    }
    CoreCommand cmd{};
    cmd.type = static_cast<uint8_t>(CommandType::kDetachApp);
    cmd.app_id = app.id;
    command(c, cmd);
  }
}

// ---- flows ---------------------------------------------------------------------------------------

void FastPathActor::handle_install_flow(const InstallFlow& m, const Incoming& in) {
  FlowInstalled answer;
  auto fail = [&](int err, const std::string& why) {
    answer.set_ok(false);
    answer.set_errno_value(-err);
    answer.set_error(why);
    reply(in, answer);
  };
  AppManager::App* app = apps_->find(m.app_id());
  if (!app || app->detaching || m.context_id() >= app->contexts.size()) {
    return fail(ENOENT, "no app " + std::to_string(m.app_id()) + " context " + std::to_string(m.context_id()));
  }
  FlowKey key{htonl(m.local_ip()), htonl(m.remote_ip()), htons(static_cast<uint16_t>(m.local_port())),
              htons(static_cast<uint16_t>(m.remote_port()))};
  if (kernel_port_) note_vtas_port(static_cast<uint16_t>(m.local_port()));
  uint32_t hash = flow_hash(key);
  if (int64_t existing = flows_->lookup(key, hash); existing >= 0) {
    // A restarted conn re-sends installs that were in flight: same app and cookie means it
    // is the same connection, already installed (its packet and event went out then).
    abi::FlowState* fs = flows_->flow(static_cast<uint32_t>(existing));
    if (fs->app_id == m.app_id() && fs->opaque == m.opaque()) {
      answer.set_ok(true);
      answer.set_flow_id(static_cast<uint32_t>(existing));
      answer.set_core(core_of_group(fs->flow_group));
      reply(in, answer);
      return;
    }
    return fail(EEXIST, "the 4-tuple already has a flow");
  }
  uint32_t rx_len = m.rx_len() ? m.rx_len() : config_.rx_buffer;
  uint32_t tx_len = m.tx_len() ? m.tx_len() : config_.tx_buffer;
  if (!apps_->admit_connection(m.app_id())) {
    return fail(EMFILE, "the VM's connection limit is reached");
  }
  auto id = flows_->allocate_id();
  if (!id) {
    apps_->release_connection(m.app_id());
    return fail(ENOSPC, "flow table full");
  }
  auto rx = apps_->allocate(m.app_id(), rx_len);
  auto tx = rx ? apps_->allocate(m.app_id(), tx_len) : std::nullopt;
  if (!rx || !tx) {
    if (rx) apps_->release(m.app_id(), *rx);
    flows_->release_id(*id);
    apps_->release_connection(m.app_id());
    return fail(ENOMEM, "the app's region has no room for the connection buffers");
  }
  uint32_t core = core_of_group(m.flow_group());
  abi::FlowState& fs = *flows_->flow(*id);
  {
    FlowLock lock(fs);
    uint32_t held = fs.lock;
    std::memset(static_cast<void*>(&fs), 0, sizeof(fs));
    fs.lock = held;
    fs.opaque = m.opaque();
    fs.rx_buffer = *rx;
    fs.tx_buffer = *tx;
    fs.rx_len = rx_len;
    fs.tx_len = tx_len;
    fs.local_ip = key.local_ip;
    fs.remote_ip = key.remote_ip;
    fs.local_port = key.local_port;
    fs.remote_port = key.remote_port;
    std::memcpy(fs.remote_mac, m.remote_mac().data(), std::min<size_t>(6, m.remote_mac().size()));
    fs.app_id = static_cast<uint16_t>(m.app_id());
    fs.context_id = static_cast<uint16_t>(m.context_id());
    fs.flow_group = static_cast<uint16_t>(m.flow_group() % abi::kFlowGroups);
    fs.mss = static_cast<uint16_t>(m.mss() ? m.mss() : 536);
    fs.snd_wscale = static_cast<uint8_t>(std::min<uint32_t>(m.snd_wscale(), 14));
    fs.rcv_wscale = static_cast<uint8_t>(std::min<uint32_t>(m.rcv_wscale(), 14));
    fs.rx_avail = rx_len;
    fs.rx_next_seq = m.rx_next_seq();
    fs.rx_remote_avail = m.remote_window();
    fs.tx_next_seq = m.tx_next_seq();
    fs.ts_recent = m.ts_recent();
    fs.tx_rate_kbps = m.tx_rate_kbps();
    fs.snd_wl1 = m.rx_next_seq() - 1;
    fs.snd_wl2 = m.tx_next_seq();
    fs.rx_adv_right = m.rx_next_seq() + (rx_len >> fs.rcv_wscale << fs.rcv_wscale);
    fs.last_ack_us = tcp_clock_us(static_cast<uint64_t>(now().time_since_epoch().count()));
    uint32_t flags = abi::kFlowActive;
    if (m.timestamps()) flags |= abi::kFlowTimestamps;
    if (m.sack()) flags |= abi::kFlowSackPermitted;
    if (m.ecn()) flags |= abi::kFlowEcn;
    std::atomic_ref<uint32_t>(fs.flags).store(flags, std::memory_order_release);
  }
  if (!flows_->publish(*id, hash)) {
    apps_->release(m.app_id(), *rx);
    apps_->release(m.app_id(), *tx);
    apps_->release_connection(m.app_id());
    fs.flags = 0;
    flows_->release_id(*id);
    return fail(ENOSPC, "flow hash index full around this key");
  }
  CoreCommand cmd{};
  cmd.type = static_cast<uint8_t>(CommandType::kFlowInstalled);
  cmd.flow_id = *id;
  cmd.pointer = app->contexts[m.context_id()]->per_core[core];
  command(core, cmd);
  if (m.has_packet() && !m.packet().frame().empty()) {
    send_frame(m.packet().frame(), core, m.packet().stamp_timestamp());
  }
  if (m.has_notify()) post_notify(m.notify(), *id, core);
  answer.set_ok(true);
  answer.set_flow_id(*id);
  answer.set_core(core);
  reply(in, answer);
}

void FastPathActor::remove_flow(uint32_t flow_id, bool send_reset) {
  abi::FlowState* fs = flows_->flow(flow_id);
  if (!fs || removals_.count(flow_id)) return;
  uint32_t core;
  {
    FlowLock lock(*fs);
    if (!(fs->flags & abi::kFlowActive)) return;
    flows_->unpublish(flow_id, flow_hash(key_of(*fs)));
    core = core_of_group(fs->flow_group);
    removals_[flow_id] = PendingRemoval{fs->app_id, fs->rx_buffer, fs->tx_buffer};
  }
  if (send_reset) {
    CoreCommand rst{};
    rst.type = static_cast<uint8_t>(CommandType::kSendReset);
    rst.flow_id = flow_id;
    command(core, rst);
  }
  {
    FlowLock lock(*fs);
    std::atomic_ref<uint32_t>(fs->flags).fetch_and(~abi::kFlowActive, std::memory_order_release);
  }
  CoreCommand cmd{};
  cmd.type = static_cast<uint8_t>(CommandType::kFlowRemove);
  cmd.flow_id = flow_id;
  command(core, cmd);
}

namespace {

// True when `fs` is the connection `expect` names, or `expect` names none.
bool is_expected_flow(const abi::FlowState& fs, const FlowTuple& expect) {
  if (expect.remote_port() == 0) return true;
  if (expect.local_ip() != 0 && ntohl(fs.local_ip) != expect.local_ip()) return false;
  return ntohl(fs.remote_ip) == expect.remote_ip() && ntohs(fs.local_port) == expect.local_port() &&
         ntohs(fs.remote_port) == expect.remote_port();
}

}  // namespace

void FastPathActor::handle_remove_flow(const RemoveFlow& m, const Incoming& in) {
  abi::FlowState* fs = flows_->flow(m.flow_id());
  supervisor::Ack ack;
  if (fs && (fs->flags & abi::kFlowActive) && !is_expected_flow(*fs, m.expect())) {
    // A stale request (its connection's flow went, the id was reused): the current owner is
    // left alone. The notify (by cookie) still goes to the app unless this is a resend: the
    // connection it names is gone, and the app may be waiting for the answer to its close.
    ++stale_flow_requests_;
    ack.set_ok(false);
    ack.set_error("flow " + std::to_string(m.flow_id()) + " belongs to another connection now");
    if (m.has_notify() && !m.resend()) post_notify(m.notify(), UINT32_MAX, 0);
    if (in.header().kind() == MESSAGE_KIND_REQUEST) reply(in, ack);
    return;
  }
  if (!fs || !(fs->flags & abi::kFlowActive)) {
    ack.set_ok(false);
    ack.set_error("no active flow " + std::to_string(m.flow_id()));
  } else {
    remove_flow(m.flow_id(), m.send_reset());
    ack.set_ok(true);
  }
  if (m.has_notify() && (ack.ok() || !m.resend())) post_notify(m.notify(), UINT32_MAX, 0);
  if (in.header().kind() == MESSAGE_KIND_REQUEST) reply(in, ack);
}

bool FastPathActor::send_frame(const std::string& frame, uint32_t core, bool stamp, bool receive) {
  if (frame.size() < 14 || frame.size() > 9000) return false;
  Packet p;
  if (port_->alloc_burst(static_cast<uint16_t>(core), &p, 1) != 1) {
    ++frames_dropped_;
    return false;
  }
  if (frame.size() > p.capacity) {
    port_->free_burst(&p, 1);
    return false;
  }
  std::memcpy(p.data, frame.data(), frame.size());
  // Frames leave with the port's MAC whatever the slow path wrote: it may not know it yet.
  if (!receive) port_->mac().copy_to(p.data + 6);
  CoreCommand cmd{};
  cmd.type = static_cast<uint8_t>(receive ? CommandType::kReceiveFrame : CommandType::kSendFrame);
  cmd.flags = stamp ? kCommandStampTimestamp : 0;
  cmd.length = static_cast<uint16_t>(frame.size());
  cmd.pointer = p.native;
  cmd.data = p.data;
  cmd.capacity = p.capacity;
  if (!command(core, cmd)) {
    port_->free_burst(&p, 1);
    return false;
  }
  return true;
}

void FastPathActor::handle_packet_out(const PacketOut& m, const Incoming&) {
  if (m.receive()) {
    send_frame(m.frame(), core_of_group(m.flow_group()), false, true);
    return;
  }
  if (kernel_port_) note_outgoing(m.frame());
  send_frame(m.frame(), core_of_group(m.flow_group()), m.stamp_timestamp());
}

void FastPathActor::handle_app_notify(const AppNotify& m, const Incoming&) {
  uint32_t flow = m.flow_id() != 0 || m.type() == AppNotify::TYPE_ACCEPTED ? m.flow_id() : UINT32_MAX;
  if (m.type() != AppNotify::TYPE_ACCEPTED && m.type() != AppNotify::TYPE_CONN_OPENED) flow = UINT32_MAX;
  post_notify(m, flow, 0);
}

void FastPathActor::handle_flow_query(const FlowQuery& m, const Incoming& in) {
  FlowInfo info;
  abi::FlowState* fs = flows_->flow(m.flow_id());
  if (fs && !is_expected_flow(*fs, m.expect())) {
    ++stale_flow_requests_;
    fs = nullptr;  // for the asker, its flow is gone
  }
  if (fs) {
    FlowLock lock(*fs);
    info.set_ok(fs->flags & abi::kFlowActive);
    info.set_flow_id(m.flow_id());
    info.set_flags(fs->flags);
    info.set_rx_next_seq(fs->rx_next_seq);
    info.set_tx_next_seq(fs->tx_next_seq);
    info.set_tx_sent(fs->tx_sent);
    info.set_tx_avail(fs->tx_avail);
    info.set_rtt_us(fs->rtt_us);
  }
  reply(in, info);
}

void FastPathActor::handle_retransmit(const Retransmit& m, const Incoming&) {
  abi::FlowState* fs = flows_->flow(m.flow_id());
  if (!fs) return;
  CoreCommand cmd{};
  cmd.type = static_cast<uint8_t>(CommandType::kRetransmit);
  cmd.flow_id = m.flow_id();
  command(core_of_group(fs->flow_group), cmd);
}

void FastPathActor::handle_window_probe(const WindowProbe& m, const Incoming&) {
  abi::FlowState* fs = flows_->flow(m.flow_id());
  if (!fs) return;
  CoreCommand cmd{};
  cmd.type = static_cast<uint8_t>(CommandType::kWindowProbe);
  cmd.flow_id = m.flow_id();
  command(core_of_group(fs->flow_group), cmd);
}

void FastPathActor::announce_mac() {
  arp::SetLocalMac m;
  wire::MacAddr mac = port_->mac();
  m.set_mac(mac.bytes.data(), mac.bytes.size());
  send(kArpActor, m);
}

void FastPathActor::handle_actor_event(const supervisor::ActorEvent& m, const Incoming&) {
  if (m.kind() != supervisor::ActorEvent::KIND_STARTED) return;
  if (m.actor() == kArpActor) {
    announce_mac();  // a new arp incarnation knows nothing about us yet
    return;
  }
  if (m.actor() != kConnActor) return;
  // conn is back: whatever it had not answered is asked again (it dedups by request id).
  log().info("conn restarted: resending {} unanswered app requests", unanswered_.size());
  for (const auto& [key, entry] : unanswered_) send(kConnActor, entry.request);
}

void FastPathActor::fill_flow_table(supervisor::StatsReport* report) {
  auto* table = report->add_tables();
  table->set_name("flows (first 32)");
  for (const char* col : {"flow", "local", "remote", "app", "flags", "rx_avail", "tx_avail", "tx_sent",
                          "rtt_us", "rate_kbps", "acked_bytes", "ecn_bytes", "drops"}) {
    table->add_columns(col);
  }
  auto addr = [](uint32_t ip, uint16_t port) {
    return wire::to_string(wire::Ipv4Addr{ntohl(ip)}) + ":" + std::to_string(ntohs(port));
  };
  int shown = 0;
  for (uint32_t id = 1; id < flows_->max_flows() && shown < 32; ++id) {
    const abi::FlowState& fs = *flows_->flow(id);
    uint32_t flags = std::atomic_ref<const uint32_t>(fs.flags).load(std::memory_order_relaxed);
    if (!(flags & abi::kFlowActive)) continue;
    ++shown;
    auto* row = table->add_rows();
    for (const std::string& cell :
         {std::to_string(id), addr(fs.local_ip, fs.local_port), addr(fs.remote_ip, fs.remote_port),
          std::to_string(fs.app_id), std::to_string(flags), std::to_string(fs.rx_avail),
          std::to_string(fs.tx_avail), std::to_string(fs.tx_sent), std::to_string(fs.rtt_us),
          std::to_string(fs.tx_rate_kbps), std::to_string(fs.cnt_rx_ack_bytes),
          std::to_string(fs.cnt_rx_ecn_bytes), std::to_string(fs.cnt_tx_drops)}) {
      row->add_cells(cell);
    }
  }
}

// App requests conn has not answered, accepts apart (an app keeps those posted ahead): a
// close or an open that stays here names a connection conn lost track of. Returns how many
// there are (the table shows the first 16).
size_t FastPathActor::fill_unanswered_table(supervisor::StatsReport* report) {
  auto* table = report->add_tables();
  table->set_name("unanswered app requests other than accepts (first 16)");
  for (const char* col : {"app", "context", "request", "type", "flow", "cookie", "age_ms"}) {
    table->add_columns(col);
  }
  size_t other_than_accepts = 0;
  for (const auto& [key, entry] : unanswered_) {
    const AppRequestIn& request = entry.request;
    if (request.type() == AppRequestIn::TYPE_ACCEPT) continue;
    if (++other_than_accepts > 16) continue;
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now() - entry.since);
    auto* row = table->add_rows();
    for (const std::string& cell :
         {std::to_string(request.app_id()), std::to_string(request.context_id()),
          std::to_string(request.request_id()), AppRequestIn::Type_Name(request.type()),
          std::to_string(request.flow_id()), std::to_string(request.opaque()),
          std::to_string(age.count())}) {
      row->add_cells(cell);
    }
  }
  return other_than_accepts;
}

void FastPathActor::fill_stats(supervisor::StatsReport* report) {
  add_counter(report, "apps", apps_ ? apps_->app_count() : 0);
  add_counter(report, "vms", apps_ ? apps_->vms().size() : 0);
  add_counter(report, "flows", flows_ ? flows_->flows_in_use() : 0);
  add_counter(report, "frames_to_conn", frames_to_conn_);
  add_counter(report, "frames_to_arp", frames_to_arp_);
  add_counter(report, "frames_out_dropped", frames_dropped_);
  add_counter(report, "stale_flow_requests", stale_flow_requests_);
  if (kernel_port_) {
    add_counter(report, "frames_to_kernel", frames_to_kernel_);
    add_counter(report, "frames_from_kernel", frames_from_kernel_);
    add_counter(report, "kernel_frames_dropped", kernel_drops_);
  }
  add_counter(report, "unanswered_app_requests", unanswered_.size());
  add_counter(report, "unanswered_requests_not_accepts", fill_unanswered_table(report));
  add_counter(report, "app_requests_refused", app_requests_refused_);
  add_counter(report, "attach_clients_dropped", apps_ ? apps_->pending_clients_dropped() : 0);
  if (port_) {
    PortStats ps = port_->stats();
    add_counter(report, "port_rx_packets", ps.rx_packets);
    add_counter(report, "port_tx_packets", ps.tx_packets);
    add_counter(report, "port_rx_missed", ps.rx_missed);
    add_counter(report, "port_rx_errors", ps.rx_errors);
    add_counter(report, "port_tx_errors", ps.tx_errors);
    add_counter(report, "port_rx_no_buffer", ps.rx_no_buffer);
    add_counter(report, "port_rx_kernel_drops", ps.rx_kernel_drops);
    add_counter(report, "port_queues", port_->capabilities().queues);
    add_counter(report, "port_reta_size", port_->capabilities().reta_size);
    add_counter(report, "port_reta_in_use", reta_in_use_ ? 1 : 0);
  }
  if (!flows_) return;
  fill_flow_table(report);
  auto* table = report->add_tables();
  table->set_name("cores");
  for (const char* col : {"core", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "exceptions",
                          "exception_drops", "rx_bad", "acks", "retransmits", "sleeps", "bad_app_bumps",
                          "bumps_parked", "steered", "steer_drops", "challenge_acks"}) {
    table->add_columns(col);
  }
  for (uint32_t c = 0; c < cores_.size(); ++c) {
    const abi::CoreCounters& k = *flows_->core_counters(c);
    auto* row = table->add_rows();
    for (uint64_t v : {uint64_t{c}, k.rx_packets, k.rx_bytes, k.tx_packets, k.tx_bytes, k.exceptions,
                       k.exception_drops, k.rx_bad, k.acks_sent, k.retransmits, k.sleeps, k.app_bad_bumps,
                       k.bumps_parked, k.steered, k.steer_drops, k.challenge_acks}) {
      row->add_cells(std::to_string(v));
    }
  }
}

// ---- --kni-name: the host kernel's interface --------------------------------------------------

namespace {

// How long a local port vtas sent from stays vtas's: the peer may still send to it (a
// retransmitted FIN, segments of a closed connection in TIME_WAIT: 2 MSL).
constexpr uint32_t kPortHoldSeconds = 240;

// Gives the kernel interface our address, so the kernel answers for it (ping, its own
// servers) and sends from it; a failure leaves the interface without an address (logged).
std::string configure_kernel_address(const std::string& name, wire::Ipv4Addr ip, uint8_t prefix) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return std::string("socket: ") + std::strerror(errno);
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  auto* addr = reinterpret_cast<sockaddr_in*>(&req.ifr_addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(ip.value);
  std::string error;
  if (::ioctl(s, SIOCSIFADDR, &req) != 0) error = std::string("SIOCSIFADDR: ") + std::strerror(errno);
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - std::min<uint8_t>(prefix, 32));
  addr->sin_addr.s_addr = htonl(mask);
  if (error.empty() && ::ioctl(s, SIOCSIFNETMASK, &req) != 0) {
    error = std::string("SIOCSIFNETMASK: ") + std::strerror(errno);
  }
  if (error.empty() && ::ioctl(s, SIOCGIFFLAGS, &req) == 0) {
    req.ifr_flags |= IFF_UP;
    if (::ioctl(s, SIOCSIFFLAGS, &req) != 0) error = std::string("SIOCSIFFLAGS: ") + std::strerror(errno);
  }
  ::close(s);
  return error;
}

// TCP destination port (host order) of an IPv4/TCP frame, or -1.
int tcp_destination_port(const std::string& frame) {
  if (frame.size() < 14 + 20 + 4) return -1;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(frame[i]); };
  if (byte(12) != 0x08 || byte(13) != 0x00 || byte(14 + 9) != 6) return -1;
  size_t ihl = (byte(14) & 0x0f) * 4u;
  if (ihl < 20 || frame.size() < 14 + ihl + 4) return -1;
  return (byte(14 + ihl + 2) << 8) | byte(14 + ihl + 3);
}

}  // namespace

Status FastPathActor::open_kernel_interface() {
  if (!dpdk_initialised_) {
    return make_error("--kni-name=" + config_.kni_name + ": needs the DPDK port (this fast path runs on an injected port)");
  }
  auto port = fastpath::open_kernel_interface(config_.kni_name, port_->mac());
  if (!port) return port.error();
  kernel_port_ = std::move(*port);
  port_last_used_s_.assign(65536, 0);
  if (std::string error = configure_kernel_address(config_.kni_name, config_.local_ip, config_.prefix_length);
      !error.empty()) {
    log().warn("kernel interface {}: could not set {}/{}: {}; configure it yourself (ip addr add)",
               config_.kni_name, wire::to_string(config_.local_ip), config_.prefix_length, error);
  }
  // On net_af_packet the NIC is a kernel interface too: with our address now on the kernel
  // interface, the kernel would also take frames for it straight off that interface (weak host
  // model) and answer vtas's own connections with resets. Strict reverse-path filtering there
  // makes it drop them (the route back to the peer is the kernel interface).
  if (config_.device.rfind("net_af_packet", 0) == 0) {
    size_t at = config_.device.find("iface=");
    if (at != std::string::npos) {
      std::string iface = config_.device.substr(at + 6, config_.device.find(',', at) - at - 6);
      std::ofstream rp("/proc/sys/net/ipv4/conf/" + iface + "/rp_filter");
      rp << "1\n";
      if (!rp.flush()) log().warn("could not set rp_filter=1 on {}: the kernel may answer vtas's traffic", iface);
    }
  }
  kernel_port_->enable_rx_wakeup(0, true);
  kernel_wakeup_fd_ = kernel_port_->rx_wakeup_fd(0);
  if (kernel_wakeup_fd_ >= 0) watch_fd(kernel_wakeup_fd_, [this] { from_kernel(); });
  // Also on a timer: the wake-up is an optimisation; without one, this is the only way.
  every(milliseconds(kernel_wakeup_fd_ >= 0 ? 100 : 1), [this] { from_kernel(); });
  log().info("kernel interface {} ({}/{}): frames vtas does not serve go to the host kernel",
             config_.kni_name, wire::to_string(config_.local_ip), config_.prefix_length);
  return Status();
}

void FastPathActor::from_kernel() {
  if (!kernel_port_) return;
  constexpr uint16_t kBurst = 32;
  Packet burst[kBurst];
  // Bounded per call so one chatty kernel cannot starve the control thread's other work.
  for (int round = 0; round < 8; ++round) {
    uint16_t n = kernel_port_->rx_burst(0, burst, kBurst);
    for (uint16_t i = 0; i < n; ++i) {
      std::string frame(reinterpret_cast<const char*>(burst[i].data), burst[i].length);
      if (send_frame(frame, 0, false)) {
        ++frames_from_kernel_;
      } else {
        ++kernel_drops_;
      }
    }
    kernel_port_->free_burst(burst, n);
    if (n < kBurst) break;
  }
}

void FastPathActor::to_kernel(const std::string& frame) {
  Packet p;
  if (kernel_port_->alloc_burst(0, &p, 1) != 1) {
    ++kernel_drops_;
    return;
  }
  if (frame.size() > p.capacity) {
    kernel_port_->free_burst(&p, 1);
    ++kernel_drops_;
    return;
  }
  std::memcpy(p.data, frame.data(), frame.size());
  p.length = static_cast<uint16_t>(frame.size());
  if (kernel_port_->tx_burst(0, &p, 1) != 1) {
    kernel_port_->free_burst(&p, 1);
    ++kernel_drops_;
    return;
  }
  ++frames_to_kernel_;
}

bool FastPathActor::serves(const std::string& frame) const {
  int port = tcp_destination_port(frame);
  if (port < 0) return false;  // not TCP: ICMP, UDP, other ethertypes are the kernel's
  if (listen_ports_.test(static_cast<size_t>(port))) return true;
  uint32_t last = port_last_used_s_[static_cast<size_t>(port)];
  uint64_t now_s = to_ns(now()) / 1000000000ull;
  return last != 0 && now_s - last <= kPortHoldSeconds;
}

void FastPathActor::note_vtas_port(uint16_t port) {
  port_last_used_s_[port] = static_cast<uint32_t>(std::max<uint64_t>(1, to_ns(now()) / 1000000000ull));
}

void FastPathActor::note_outgoing(const std::string& frame) {
  // conn's frames (SYNs of active opens, handshake answers, resets, TIME_WAIT ACKs): the
  // answers to them come back to their source port.
  if (frame.size() < 14 + 20 + 4) return;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(frame[i]); };
  if (byte(12) != 0x08 || byte(13) != 0x00 || byte(14 + 9) != 6) return;
  size_t ihl = (byte(14) & 0x0f) * 4u;
  if (ihl < 20 || frame.size() < 14 + ihl + 4) return;
  note_vtas_port(static_cast<uint16_t>((byte(14 + ihl) << 8) | byte(14 + ihl + 1)));
}

void register_actors(ActorRegistry& registry) {
  registry.add("fastpath", [](const ActorSpec& spec) {
    return std::make_unique<FastPathActor>(spec.actor.name(), spec.manifest);
  });
}

}  // namespace vtas::fastpath
