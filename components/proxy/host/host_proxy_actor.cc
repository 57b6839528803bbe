#include "components/proxy/host/host_proxy_actor.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/directory.h"
#include "runtime/manifest/unix_group.h"

namespace vtas::proxy {
namespace {

constexpr auto kFlushRetry = std::chrono::milliseconds(1);
constexpr auto kReattachRetry = std::chrono::milliseconds(200);
constexpr uint32_t kChannelBudget = 64;  // messages per VM per turn

void add_counter(supervisor::StatsReport* report, const std::string& name, uint64_t value) {
  auto* c = report->add_counters();
  c->set_name(name);
  c->set_value(value);
}

}  // namespace

HostProxyConfig host_proxy_config_from_manifest(const manifest::Manifest& manifest,
                                                const manifest::ProxyHostSettings& settings) {
  HostProxyConfig c;
  std::string dir = runtime_dir_of(manifest);
  c.socket_path = settings.has_socket_path() ? settings.socket_path() : dir + "/ivshmem.sock";
  c.fastpath_socket = dir + "/" + abi::kAttachSocketName;
  c.socket_group = settings.socket_group();
  c.limits.region_size = static_cast<uint64_t>(settings.region_size_mib()) << 20;
  c.limits.max_connections = settings.max_connections();
  c.limits.max_rate_kbps = settings.max_rate_kbps();
  c.limits.max_apps = settings.max_apps();
  c.limits.max_contexts = settings.max_contexts();
  c.max_vms = settings.max_vms();
  return c;
}

HostProxyActor::HostProxyActor(std::string name, HostProxyConfig config)
    : Actor(std::move(name)), config_(std::move(config)) {
  on(&HostProxyActor::handle_guest_message);
  on(&HostProxyActor::handle_vm_event);
}

HostProxyActor::~HostProxyActor() {
  vms_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Status HostProxyActor::on_start() {
  if (!config_.socket_group.empty()) {
    auto gid = resolve_group(config_.socket_group);
    if (!gid) return make_error("proxy_host.socket_group: " + gid.error().message);
    access_.group = *gid;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (config_.socket_path.size() >= sizeof(addr.sun_path)) {
    return make_error("ivshmem socket path too long (" + std::to_string(config_.socket_path.size()) +
                      " bytes, limit " + std::to_string(sizeof(addr.sun_path) - 1) + "): " +
                      config_.socket_path + "; use a shorter runtime_dir");
  }
  std::strcpy(addr.sun_path, config_.socket_path.c_str());
  ::unlink(config_.socket_path.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return make_error("cannot serve VMs on " + config_.socket_path + ": " + std::strerror(errno));
  }
  if (Status s = access_.apply_to_path(config_.socket_path); !s) return s;
  if (::listen(listen_fd_, 16) != 0) {
    return make_error("cannot serve VMs on " + config_.socket_path + ": " + std::strerror(errno));
  }
  watch_fd(listen_fd_, [this] { accept_vms(); });
  log().info("serving VMs on {} (mode {:o}{}; at most {} VMs; per VM: region {} MiB, {} apps, {} contexts, "
             "{} connections, transmit rate {}; QEMU: -chardev socket,path={},id=vtas -device "
             "ivshmem-doorbell,vectors=1,chardev=vtas)",
             config_.socket_path, access_.mode(), access_.group ? ", gid " + std::to_string(*access_.group) : "",
             config_.max_vms, config_.limits.region_size >> 20, config_.limits.max_apps, config_.limits.max_contexts,
             config_.limits.max_connections == 0 ? std::string("unlimited")
                                                 : std::to_string(config_.limits.max_connections),
             config_.limits.max_rate_kbps == 0 ? std::string("unlimited")
                                               : std::to_string(config_.limits.max_rate_kbps) + " kbps",
             config_.socket_path);
  return Status();
}

void HostProxyActor::on_stop() {
  vms_.clear();  // closes every VM's fast-path link: the fast path frees their apps
  if (listen_fd_ >= 0) {
    unwatch_fd(listen_fd_);
    ::close(listen_fd_);
    listen_fd_ = -1;
    ::unlink(config_.socket_path.c_str());
  }
}

uint32_t HostProxyActor::next_vm_id() {
  // Ids are not reused right away, so a late message about an old VM cannot hit a new one.
  for (uint32_t tries = 0; tries < 0xffff; ++tries) {
    last_vm_id_ = last_vm_id_ % 0xffff + 1;
    if (last_vm_id_ != kHostPeerId && !vms_.count(last_vm_id_)) return last_vm_id_;
  }
  return 0;
}

VmSession* HostProxyActor::find(uint32_t vm_id) {
  auto found = vms_.find(vm_id);
  return found == vms_.end() ? nullptr : found->second.get();
}

void HostProxyActor::accept_vms() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    ucred cred{};
    socklen_t len = sizeof(cred);
    // With a socket group, the socket's mode (0660) and group already decided who may connect
    // (the kernel checks supplementary groups too, SO_PEERCRED only has the primary one).
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != ::geteuid() && cred.uid != 0 && !access_.group)) {
      log().warn("refused a VM connection from uid {}", cred.uid);
      ++vms_refused_;
      ::close(fd);
      continue;
    }
    uint32_t id = vms_.size() >= config_.max_vms ? 0 : next_vm_id();
    if (id == 0) {
      log().warn("refused a VM (pid {}): {} VMs attached already (proxy_host.max_vms)", cred.pid, vms_.size());
      ++vms_refused_;
      ::close(fd);
      continue;
    }
    VmSession::Hooks hooks;
    hooks.watch = [this](int w, std::function<void()> fn) { watch_fd(w, std::move(fn)); };
    hooks.unwatch = [this](int w) { unwatch_fd(w); };
    hooks.relay = [this, id](const ChannelMessage& m) {
      GuestMessage g;
      g.set_vm_id(id);
      *g.mutable_message() = m;
      if (!send(name(), g)) log().warn("VM {}: could not queue a guest request to myself", id);
    };
    hooks.flush_later = [this] { schedule_flush(); };
    hooks.event = [this, id](VmEventKind kind, const std::string& detail) {
      report(id, kind, detail);
      if (kind == VM_EVENT_KIND_SERVICE_LOST) schedule_reattach();
      if (kind == VM_EVENT_KIND_BROKEN) ++vms_broken_;
    };
    std::string vm_name = name() + "-vm" + std::to_string(id);
    auto session = VmSession::create(id, fd, vm_name, config_.fastpath_socket, config_.limits, access_,
                                   std::move(hooks));
    if (!session) {
      // QEMU gets nothing and fails to start its ivshmem device (its error names the socket).
      log().error("VM {} (pid {}) refused: {}", id, cred.pid, session.error().message);
      ++vms_refused_;
      continue;
    }
    if (Status s = (*session)->start(); !s) {
      log().error("{}", s.error().message);
      ++vms_refused_;
      continue;
    }
    watch_fd(fd, [this, id] { on_qemu_socket(id); });
    vms_.emplace(id, std::move(*session));
    ++vms_connected_;
    log().info("VM {} (pid {}) connected: {} MiB region, ivshmem peer id {}", id, cred.pid,
               config_.limits.region_size >> 20, id);
    report(id, VM_EVENT_KIND_CONNECTED, "pid " + std::to_string(cred.pid));
  }
}

void HostProxyActor::on_qemu_socket(uint32_t vm_id) {
  VmSession* vm = find(vm_id);
  if (!vm) return;
  // Peers send nothing after the handshake; read and drop anything, watch for the end.
  char buf[256];
  ssize_t n = ::recv(vm->qemu_fd(), buf, sizeof(buf), MSG_DONTWAIT);
  if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) return;
  drop_vm(vm_id, n == 0 ? "closed its ivshmem socket" : std::strerror(errno));
}

void HostProxyActor::drop_vm(uint32_t vm_id, const std::string& why) {
  auto found = vms_.find(vm_id);
  if (found == vms_.end()) return;
  unwatch_fd(found->second->qemu_fd());
  vms_.erase(found);  // closes its fast-path link: the fast path frees its apps, flows, region
  log().info("VM {} {}: released", vm_id, why);
  report(vm_id, VM_EVENT_KIND_DISCONNECTED, why);
}

void HostProxyActor::handle_guest_message(const GuestMessage& message, const Incoming& in) {
  if (in.sender() != name()) return;  // only this actor speaks for guests
  if (VmSession* vm = find(message.vm_id())) vm->handle_request(message.message());
}

void HostProxyActor::handle_vm_event(const VmEvent& /*event*/, const Incoming& /*in*/) {
  // Sent to ourselves only so the trace shows VM lifecycle next to the guest requests.
}

void HostProxyActor::report(uint32_t vm_id, VmEventKind kind, const std::string& detail) {
  VmEvent event;
  event.set_vm_id(vm_id);
  event.set_kind(kind);
  event.set_detail(detail);
  (void)send(name(), event);
}

void HostProxyActor::schedule_flush() {
  if (flush_armed_) return;
  flush_armed_ = true;
  after(kFlushRetry, [this] {
    flush_armed_ = false;
    bool again = false;
    for (auto& [id, vm] : vms_) again = vm->flush() || again;
    if (again) schedule_flush();
  });
}

void HostProxyActor::schedule_reattach() {
  if (reattach_armed_) return;
  reattach_armed_ = true;
  after(kReattachRetry, [this] {
    reattach_armed_ = false;
    bool again = false;
    for (auto& [id, vm] : vms_) again = !vm->reattach() || again;
    if (again) schedule_reattach();
  });
}

bool HostProxyActor::prepare_to_wait() {
  for (auto& [id, vm] : vms_) vm->prepare_sleep();
  return true;
}

void HostProxyActor::after_wait() {
  for (auto& [id, vm] : vms_) vm->finish_sleep();
}

void HostProxyActor::fill_stats(supervisor::StatsReport* report) {
  add_counter(report, "vm_sessions", vms_.size());
  add_counter(report, "vms_connected", vms_connected_);
  add_counter(report, "vms_refused", vms_refused_);
  add_counter(report, "vms_broken", vms_broken_);
  auto* table = report->add_tables();
  table->set_name("vms");
  for (const char* col : {"vm", "name", "service", "apps", "contexts", "msgs_in", "msgs_out", "core_wakes",
                          "control_wakes", "refused", "bad"}) {
    table->add_columns(col);
  }
  for (const auto& [id, vm] : vms_) {
    const VmCounters& c = vm->counters();
    auto* row = table->add_rows();
    for (const std::string& cell :
         {std::to_string(id), vm->name(), std::string(vm->broken() ? "broken" : vm->has_service() ? "up" : "lost"),
          std::to_string(vm->app_count()), std::to_string(vm->context_count()), std::to_string(c.messages_in),
          std::to_string(c.messages_out), std::to_string(c.core_wakes), std::to_string(c.control_wakes),
          std::to_string(c.refused), std::to_string(c.bad)}) {
      row->add_cells(cell);
    }
  }
}

void register_actors(ActorRegistry& registry) {
  registry.add("proxy-host", [](const ActorSpec& spec) -> std::unique_ptr<Actor> {
    return std::make_unique<HostProxyActor>(spec.actor.name(),
                                            host_proxy_config_from_manifest(spec.manifest, spec.actor.proxy_host()));
  });
}

}  // namespace vtas::proxy
