#include "components/fastpath/app_manager.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "components/fastpath/abi/fd_passing.h"
#include "runtime/log.h"
#include "runtime/shm/abi.h"

namespace vtas::fastpath {
namespace {

// VM apps' slices are page aligned (hugepage aligned: also fine for 4 KiB pages) so a guest
// app can mmap exactly its slice.
constexpr uint64_t kSliceAlignment = 2ull << 20;

auto logger() { return log::get("fastpath"); }

}  // namespace

AppManager::AppManager(AppManagerConfig config, Hooks hooks)
    : config_(std::move(config)), hooks_(std::move(hooks)) {}

AppManager::~AppManager() {
  for (auto& [id, app] : apps_) {
    for (auto& ctx : app->contexts) {
      for (CoreAppContext* c : ctx->per_core) delete c;
    }
    if (app->socket_fd >= 0) ::close(app->socket_fd);
  }
  for (auto& [id, vm] : vms_) {
    if (vm->socket_fd >= 0) ::close(vm->socket_fd);
  }
  for (auto& [fd, since] : pending_clients_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (!config_.socket_path.empty()) ::unlink(config_.socket_path.c_str());
}

Status AppManager::listen() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (config_.socket_path.size() >= sizeof(addr.sun_path)) {
    return make_error("attach socket path too long: " + config_.socket_path);
  }
  std::strcpy(addr.sun_path, config_.socket_path.c_str());
  ::unlink(config_.socket_path.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return make_error(std::string("socket: ") + ::strerror(errno));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::chmod(config_.socket_path.c_str(), 0600) != 0 || ::listen(listen_fd_, 128) != 0) {
    return make_error("cannot serve apps on " + config_.socket_path + ": " + ::strerror(errno));
  }
  return Status();
}

std::optional<uint32_t> AppManager::next_app_id() {
  if (apps_.size() >= config_.max_apps) return std::nullopt;
  // Ids are not reused right away, so a late message about an old app cannot hit a new one.
  for (uint32_t tries = 0; tries < 65535; ++tries) {
    last_app_id_ = last_app_id_ % 65535 + 1;
    if (!apps_.count(last_app_id_)) return last_app_id_;
  }
  return std::nullopt;
}

// ---- attach ----------------------------------------------------------------------------------

void AppManager::accept_pending() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    // Most clients sent their request right after connecting: serve them now.
    if (serve_first_message(fd)) continue;
    if (pending_clients_.size() >= std::max<uint32_t>(1, config_.max_pending_clients)) {
      // Full of clients that say nothing: the oldest has had the longest chance.
      auto oldest = std::min_element(pending_clients_.begin(), pending_clients_.end(),
                                     [](const auto& x, const auto& y) { return x.second < y.second; });
      drop_pending_client(oldest->first, "too many clients waiting to attach; dropped the oldest");
    }
    pending_clients_.emplace(fd, std::chrono::steady_clock::now());
    hooks_.watch_pending_client(fd);
  }
}

void AppManager::on_pending_client(int fd) {
  auto found = pending_clients_.find(fd);
  if (found == pending_clients_.end()) return;
  // Unwatch first: once served, the fd belongs to an app or a VM (watched anew) or is closed.
  const auto since = found->second;
  pending_clients_.erase(found);
  hooks_.unwatch(fd);
  if (serve_first_message(fd)) return;
  pending_clients_.emplace(fd, since);  // a spurious wake-up: keep waiting, same deadline
  hooks_.watch_pending_client(fd);
}

void AppManager::expire_pending_clients(std::chrono::steady_clock::time_point now) {
  std::vector<int> expired;
  for (const auto& [fd, since] : pending_clients_) {
    if (now - since >= config_.pending_timeout) expired.push_back(fd);
  }
  for (int fd : expired) drop_pending_client(fd, "sent no attach request in time");
}

void AppManager::drop_pending_client(int fd, const char* why) {
  pending_clients_.erase(fd);
  hooks_.unwatch(fd);
  ::close(fd);
  // A flood of silent clients must not flood the log: the first, then every 100th.
  if (pending_clients_dropped_++ % 100 == 0) {
    logger()->warn("attach: dropped a client: {} ({} dropped so far; see the stats counter "
                   "attach_clients_dropped)", why, pending_clients_dropped_);
  }
}

bool AppManager::serve_first_message(int fd) {
  union {
    abi::AttachRequest app;
    abi::VmAttachRequest vm;
  } request{};
  int passed = -1;
  int got = abi::receive_with_fds(fd, &request, sizeof(request), &passed, 1);
  if (got == -EAGAIN || got == -EWOULDBLOCK) return false;
  if (got == -ECONNRESET) {  // it hung up before saying anything
    ::close(fd);
    return true;
  }
  if (got < 0 || request.app.magic != abi::kAttachMagic) {
    logger()->warn("attach: refused a client that did not speak the attach protocol");
    if (passed >= 0) ::close(passed);
    ::close(fd);
    return true;
  }
  // The socket is 0600 already; a process of another user that got hold of a connection
  // anyway is still refused here.
  ucred cred{};
  socklen_t cred_len = sizeof(cred);
  bool allowed = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0 &&
                 (cred.uid == ::geteuid() || cred.uid == 0);
  bool version_ok = request.app.version == abi::kAttachVersion;
  auto type = static_cast<abi::AttachMessageType>(request.app.type);
  if (!allowed || !version_ok ||
      (type != abi::AttachMessageType::kAttachRequest && type != abi::AttachMessageType::kVmAttachRequest)) {
    abi::AttachResponse response{};
    abi::fill_header(response, abi::AttachMessageType::kAttachResponse);
    response.status = !allowed ? -EACCES : -EPROTO;
    abi::copy_text(response.error, !allowed ? "permission denied" : "protocol mismatch");
    abi::send_with_fds(fd, &response, sizeof(response), nullptr, 0);
    if (passed >= 0) ::close(passed);
    ::close(fd);
    return true;
  }
  if (type == abi::AttachMessageType::kVmAttachRequest) {
    accept_vm(fd, request.vm, passed);
  } else {
    if (passed >= 0) ::close(passed);
    accept_app(fd, request.app);
  }
  return true;
}

std::unique_ptr<AppManager::App> AppManager::make_app(uint32_t id, uint8_t* base, uint64_t size,
                                                      const char* name) {
  auto app = std::make_unique<App>();
  app->id = id;
  app->name = name;
  app->base = base;
  app->size = size;
  auto* header = reinterpret_cast<abi::AppRegionHeader*>(base + abi::kAppRegionHeaderOffset);
  uint64_t heap_offset =
      abi::kContextDescriptorsOffset + uint64_t{abi::kMaxAppContexts} * sizeof(abi::ContextDescriptor);
  std::memset(base, 0, heap_offset);
  header->app_id = id;
  header->num_cores = config_.num_cores;
  header->max_contexts = abi::kMaxAppContexts;
  header->heap_offset = static_cast<uint32_t>(heap_offset);
  header->heap_size = size - heap_offset;
  header->kin_capacity = config_.kin_capacity;
  header->kout_capacity = config_.kout_capacity;
  header->arx_capacity = config_.arx_capacity;
  header->atx_capacity = config_.atx_capacity;
  header->local_ip = config_.local_ip;
  config_.local_mac.copy_to(header->local_mac);
  if (!shm::init_region_header(base, size, shm::RegionKind::kAppContext, abi::kAppLayoutVersion)) {
    return nullptr;
  }
  app->heap = OffsetAllocator(heap_offset, size - heap_offset);
  return app;
}

Result<std::unique_ptr<AppManager::App>> AppManager::create_host_app(int socket_fd, const ucred& cred,
                                                                     const abi::AttachRequest& request) {
  auto id = next_app_id();
  if (!id) return make_error("too many apps attached (" + std::to_string(config_.max_apps) + ")");
  auto region = shm::Region::create_memfd("vtas-app-" + std::to_string(*id), config_.region_size,
                                          config_.hugepages);
  if (!region) return region.error();
  std::string name = abi::text_of(request.name);
  auto app = make_app(*id, static_cast<uint8_t*>(region->base()), region->size(), name.c_str());
  if (!app) return make_error("cannot lay out the app region");
  reinterpret_cast<abi::AppRegionHeader*>(app->base + abi::kAppRegionHeaderOffset)->fastpath_cpus =
      config_.fastpath_cpus;  // host apps only: a VM's apps run on the VM's CPUs
  app->pid = cred.pid;
  app->uid = cred.uid;
  app->socket_fd = socket_fd;
  app->region.emplace(std::move(*region));
  return app;
}

void AppManager::accept_app(int fd, const abi::AttachRequest& request) {
  ucred cred{};
  socklen_t cred_len = sizeof(cred);
  ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len);
  abi::AttachResponse response{};
  abi::fill_header(response, abi::AttachMessageType::kAttachResponse);
  auto app = create_host_app(fd, cred, request);
  if (!app) {
    response.status = -ENOMEM;
    abi::copy_text(response.error, app.error().message);
    logger()->error("attach: {}", app.error().message);
    abi::send_with_fds(fd, &response, sizeof(response), nullptr, 0);
    ::close(fd);
    return;
  }
  App& a = **app;
  response.app_id = a.id;
  response.num_cores = config_.num_cores;
  response.region_size = a.size;
  response.poll_interval_app_us = config_.poll_interval_app_us;
  std::vector<int> fds{a.region->fd(), config_.control_doorbell_fd};
  fds.insert(fds.end(), config_.core_doorbell_fds.begin(), config_.core_doorbell_fds.end());
  if (int rc = abi::send_with_fds(fd, &response, sizeof(response), fds.data(), fds.size()); rc != 0) {
    logger()->warn("attach: could not answer app {}: {}", a.id, ::strerror(-rc));
    ::close(fd);
    return;
  }
  uint32_t id = a.id;
  apps_.emplace(id, std::move(*app));
  logger()->info("app {} '{}' (pid {}) attached", id, apps_[id]->name, apps_[id]->pid);
  hooks_.watch_app_socket(fd, id);
  hooks_.attached(*apps_[id]);
}

void AppManager::accept_vm(int fd, const abi::VmAttachRequest& request, int region_fd) {
  abi::VmAttachResponse response{};
  abi::fill_header(response, abi::AttachMessageType::kVmAttachResponse);
  auto fail = [&](int err, const std::string& why) {
    response.status = -err;
    abi::copy_text(response.error, why);
    logger()->warn("VM attach refused: {}", why);
    abi::send_with_fds(fd, &response, sizeof(response), nullptr, 0);
    ::close(fd);
  };
  if (region_fd < 0) {
    fail(EINVAL, "no region fd");
    return;
  }
  // The region comes from the VM proxy; the VM itself writes into it. Map it, never trust it.
  auto region = shm::Region::map_fd(region_fd, shm::Access::kReadWrite);
  if (!region) {
    fail(EINVAL, region.error().message);
    return;
  }
  if (region->size() < abi::kVmChannelBytes + kSliceAlignment * 2) {
    fail(EINVAL, "VM region too small");
    return;
  }
  auto vm = std::make_unique<Vm>();
  vm->id = ++last_vm_id_;
  vm->proxy_vm_id = request.vm_id;
  vm->name = abi::text_of(request.name);
  vm->socket_fd = fd;
  vm->max_connections = request.max_connections;
  if (request.max_rate_kbps != 0) vm->rate_limit = std::make_unique<SharedRateLimit>(request.max_rate_kbps);
  uint64_t start = (abi::kVmChannelBytes + kSliceAlignment - 1) / kSliceAlignment * kSliceAlignment;
  vm->region.emplace(std::move(*region));
  vm->heap = OffsetAllocator(start, vm->region->size() - start);
  response.num_cores = config_.num_cores;
  std::vector<int> fds{config_.control_doorbell_fd};
  fds.insert(fds.end(), config_.core_doorbell_fds.begin(), config_.core_doorbell_fds.end());
  if (abi::send_with_fds(fd, &response, sizeof(response), fds.data(), fds.size()) != 0) {
    ::close(fd);
    return;
  }
  uint32_t id = vm->id;
  logger()->info("VM {} '{}' attached ({} MiB region, {})", id, vm->name, vm->region->size() >> 20,
                 vm->rate_limit ? "transmit rate " + std::to_string(request.max_rate_kbps) + " kbps"
                                : std::string("no rate limit"));
  vms_.emplace(id, std::move(vm));
  hooks_.watch_vm_socket(fd, id);
}

void AppManager::add_vm_app(Vm& vm, const abi::VmAppRequest& request) {
  abi::AttachResponse response{};
  abi::fill_header(response, abi::AttachMessageType::kAttachResponse);
  auto id = next_app_id();
  auto slice = id ? vm.heap.allocate(config_.region_size) : std::nullopt;
  if (!id || !slice) {
    response.status = -ENOMEM;
    abi::copy_text(response.error, !id ? "too many apps" : "the VM's region is full");
    abi::send_with_fds(vm.socket_fd, &response, sizeof(response), nullptr, 0);
    return;
  }
  uint8_t* base = static_cast<uint8_t*>(vm.region->base()) + *slice;
  std::string name = abi::text_of(request.name);
  auto app = make_app(*id, base, config_.region_size, name.c_str());
  if (!app) {
    vm.heap.free(*slice);
    response.status = -ENOMEM;
    abi::copy_text(response.error, "cannot lay out the app region");
    abi::send_with_fds(vm.socket_fd, &response, sizeof(response), nullptr, 0);
    return;
  }
  app->vm_id = vm.id;
  app->slice_offset = *slice;
  app->socket_fd = -1;
  response.app_id = app->id;
  response.num_cores = config_.num_cores;
  response.region_size = app->size;
  response.region_offset = *slice;
  response.poll_interval_app_us = config_.poll_interval_app_us;
  abi::send_with_fds(vm.socket_fd, &response, sizeof(response), nullptr, 0);
  vm.apps.push_back(app->id);
  uint32_t app_id = app->id;
  apps_.emplace(app_id, std::move(app));
  logger()->info("app {} '{}' attached in VM {}", app_id, name, vm.id);
  hooks_.attached(*apps_[app_id]);
}

// ---- sockets -----------------------------------------------------------------------------------

void AppManager::on_app_socket(uint32_t app_id) {
  App* app = find(app_id);
  if (!app || app->detaching) return;
  while (true) {
    abi::ContextRequest request{};
    int fd = -1;
    int got = abi::receive_with_fds(app->socket_fd, &request, sizeof(request), &fd, 1);
    if (got == -EAGAIN || got == -EWOULDBLOCK) return;
    if (got < 0) {
      start_detach(*app, got == -ECONNRESET ? "closed its attach socket" : ::strerror(-got));
      return;
    }
    handle_context_request(*app, app->socket_fd, request, got, fd);
  }
}

void AppManager::on_vm_socket(uint32_t vm_id) {
  Vm* vm = find_vm(vm_id);
  if (!vm || vm->detaching) return;
  while (true) {
    union {
      abi::ContextRequest context;
      abi::VmAppRequest app;
    } request{};
    int fd = -1;
    int got = abi::receive_with_fds(vm->socket_fd, &request, sizeof(request), &fd, 1);
    if (got == -EAGAIN || got == -EWOULDBLOCK) return;
    if (got < 0) {
      start_vm_detach(*vm, got == -ECONNRESET ? "its proxy closed the socket" : ::strerror(-got));
      return;
    }
    auto type = static_cast<abi::AttachMessageType>(request.app.type);
    if (request.app.magic != abi::kAttachMagic) type = abi::AttachMessageType{};
    switch (type) {
      case abi::AttachMessageType::kVmAppRequest:
        if (fd >= 0) ::close(fd);
        add_vm_app(*vm, request.app);
        break;
      case abi::AttachMessageType::kVmAppDetach: {
        if (fd >= 0) ::close(fd);
        App* app = find(request.app.app_id);
        if (app && app->vm_id == vm->id && !app->detaching) start_detach(*app, "left its VM");
        break;
      }
      case abi::AttachMessageType::kContextRequest: {
        App* app = find(request.context.app_id);
        if (!app || app->vm_id != vm->id || app->detaching) {
          // A proxy may only speak for its own VM's apps.
          if (fd >= 0) ::close(fd);
          abi::ContextResponse response{};
          abi::fill_header(response, abi::AttachMessageType::kContextResponse);
          response.status = -EPERM;
          abi::copy_text(response.error, "no such app in this VM");
          abi::send_with_fds(vm->socket_fd, &response, sizeof(response), nullptr, 0);
          break;
        }
        handle_context_request(*app, vm->socket_fd, request.context, got, fd);
        break;
      }
      default:
        if (fd >= 0) ::close(fd);
        logger()->warn("VM {}: ignored a malformed message from its proxy", vm->id);
        break;
    }
  }
}

void AppManager::handle_context_request(App& app, int reply_socket, const abi::ContextRequest& request,
                                        int fd_count, int fd) {
  abi::ContextResponse response{};
  abi::fill_header(response, abi::AttachMessageType::kContextResponse);
  if (request.magic != abi::kAttachMagic ||
      request.type != static_cast<uint32_t>(abi::AttachMessageType::kContextRequest) || fd_count != 1) {
    if (fd >= 0) ::close(fd);
    ++app.bad_requests;
    response.status = -EINVAL;
    abi::copy_text(response.error, "malformed context request");
  } else if (Status s = create_context(app, fd, &response); !s) {
    response.status = response.status ? response.status : -ENOMEM;
    abi::copy_text(response.error, s.error().message);
    logger()->warn("app {}: context refused: {}", app.id, s.error().message);
  }
  abi::send_with_fds(reply_socket, &response, sizeof(response), nullptr, 0);
}

Status AppManager::create_context(App& app, int app_eventfd, abi::ContextResponse* response) {
  shm::Doorbell doorbell = shm::Doorbell::adopt(app_eventfd);
  if (app.contexts.size() >= abi::kMaxAppContexts) {
    response->status = -ENOSPC;
    return make_error("too many contexts (" + std::to_string(abi::kMaxAppContexts) + ")");
  }
  auto layout = abi::queue_block_layout(config_.num_cores, config_.kin_capacity, config_.kout_capacity,
                                        config_.arx_capacity, config_.atx_capacity);
  auto block = app.heap.allocate(layout.total);
  if (!block) {
    response->status = -ENOMEM;
    return make_error("the app's region has no room for another context");
  }
  uint32_t id = static_cast<uint32_t>(app.contexts.size());
  uint8_t* base = app.base + *block;
  std::memset(base, 0, layout.total);
  auto init = [&](uint64_t offset, uint32_t capacity) {
    return shm::ring_init(base + offset, shm::ring_bytes(capacity), capacity);
  };
  Status s = init(layout.kin, config_.kin_capacity);
  if (s) s = init(layout.kout, config_.kout_capacity);
  for (uint32_t c = 0; s && c < config_.num_cores; ++c) {
    s = init(layout.arx0 + c * layout.arx_stride, config_.arx_capacity);
    if (s) s = init(layout.atx0 + c * layout.atx_stride, config_.atx_capacity);
  }
  if (!s) {
    app.heap.free(*block);
    return s;
  }
  std::string prefix = "app " + std::to_string(app.id) + " ctx " + std::to_string(id);
  auto kin = shm::RingProducer<abi::AppEvent>::attach(base + layout.kin, shm::ring_bytes(config_.kin_capacity),
                                                      config_.kin_capacity, prefix + " kin");
  auto kout = shm::RingConsumer<abi::AppRequest>::attach(base + layout.kout, shm::ring_bytes(config_.kout_capacity),
                                                         config_.kout_capacity, prefix + " kout");
  if (!kin || !kout) {
    app.heap.free(*block);
    return kin ? kout.error() : kin.error();
  }
  // The control thread never sleeps on a kout ring in particular: it asks apps to always
  // ring its doorbell after a request (control requests are rare; a lost one is not).
  kout->prepare_sleep();
  auto ctx = std::make_unique<Context>(Context{id, *block, std::move(*kin), std::move(*kout),
                                               std::move(doorbell), {}});
  for (uint32_t c = 0; c < config_.num_cores; ++c) {
    auto arx = shm::RingProducer<abi::ArxEntry>::attach(base + layout.arx0 + c * layout.arx_stride,
                                                        layout.arx_stride, config_.arx_capacity,
                                                        prefix + " arx" + std::to_string(c));
    auto atx = shm::RingConsumer<abi::AtxEntry>::attach(base + layout.atx0 + c * layout.atx_stride,
                                                        layout.atx_stride, config_.atx_capacity,
                                                        prefix + " atx" + std::to_string(c));
    if (!arx || !atx) return arx ? atx.error() : arx.error();
    ctx->per_core.push_back(new CoreAppContext{app.id, id, std::move(*arx), std::move(*atx),
                                               ctx->app_doorbell.fd(), false});
  }
  auto* desc = reinterpret_cast<abi::ContextDescriptor*>(
      app.base + abi::kContextDescriptorsOffset + uint64_t{id} * sizeof(abi::ContextDescriptor));
  desc->context_id = id;
  desc->queue_block = *block;
  std::atomic_ref<uint32_t>(desc->state).store(static_cast<uint32_t>(abi::ContextState::kActive),
                                               std::memory_order_release);
  response->status = 0;
  response->context_id = id;
  response->queue_block = *block;
  app.contexts.push_back(std::move(ctx));
  hooks_.context_created(app, *app.contexts.back());
  return Status();
}

// ---- detach ------------------------------------------------------------------------------------

void AppManager::start_detach(App& app, const std::string& why) {
  logger()->info("app {} '{}' {}: releasing its connections", app.id, app.name, why);
  app.detaching = true;
  if (app.socket_fd >= 0) {
    hooks_.unwatch(app.socket_fd);
    ::close(app.socket_fd);
    app.socket_fd = -1;
  }
  hooks_.detaching(app);
}

void AppManager::start_vm_detach(Vm& vm, const std::string& why) {
  logger()->info("VM {} '{}': {}: releasing its apps and region", vm.id, vm.name, why);
  vm.detaching = true;
  hooks_.unwatch(vm.socket_fd);
  ::close(vm.socket_fd);
  vm.socket_fd = -1;
  std::vector<uint32_t> apps = vm.apps;
  for (uint32_t id : apps) {
    if (App* app = find(id); app && !app->detaching) start_detach(*app, "lost its VM");
  }
  if (vm.apps.empty()) vms_.erase(vm.id);
}

void AppManager::finish_detach(uint32_t app_id) {
  auto found = apps_.find(app_id);
  if (found == apps_.end()) return;
  App& app = *found->second;
  for (auto& ctx : app.contexts) {
    for (CoreAppContext* c : ctx->per_core) delete c;
  }
  uint32_t vm_id = app.vm_id;
  uint64_t slice = app.slice_offset;
  apps_.erase(found);
  if (Vm* vm = find_vm(vm_id)) {
    vm->heap.free(slice);
    vm->apps.erase(std::remove(vm->apps.begin(), vm->apps.end(), app_id), vm->apps.end());
    if (vm->detaching && vm->apps.empty()) vms_.erase(vm_id);  // the region is unmapped here
  }
}

AppManager::App* AppManager::find(uint32_t app_id) {
  auto found = apps_.find(app_id);
  return found == apps_.end() ? nullptr : found->second.get();
}

AppManager::Vm* AppManager::find_vm(uint32_t vm_id) {
  auto found = vms_.find(vm_id);
  return found == vms_.end() ? nullptr : found->second.get();
}

SharedRateLimit* AppManager::rate_limit_of(const App& app) {
  Vm* vm = find_vm(app.vm_id);
  return vm ? vm->rate_limit.get() : nullptr;
}

bool AppManager::admit_connection(uint32_t app_id) {
  App* app = find(app_id);
  if (!app) return false;
  Vm* vm = find_vm(app->vm_id);
  if (!vm) return true;
  if (vm->max_connections != 0 && vm->connections >= vm->max_connections) return false;
  ++vm->connections;
  return true;
}

void AppManager::release_connection(uint32_t app_id) {
  App* app = find(app_id);
  Vm* vm = app ? find_vm(app->vm_id) : nullptr;
  if (vm && vm->connections > 0) --vm->connections;
}

// ---- requests and events -------------------------------------------------------------------------

size_t AppManager::drain_requests(
    const std::function<void(App&, Context&, const abi::AppRequest&)>& relay, size_t max) {
  size_t done = 0;
  for (auto& [id, app] : apps_) {
    if (app->detaching) continue;
    for (auto& ctx : app->contexts) {
      abi::AppRequest request;
      while (done < max && ctx->kout.try_pop(request)) {
        ++done;
        ++app->requests;
        relay(*app, *ctx, request);
      }
      if (ctx->kout.corrupted()) {
        // The app broke its own ring: it can no longer talk to us. Nothing else is affected.
        start_detach(*app, "corrupted its control ring (" + ctx->kout.error() + ")");
        return done;
      }
    }
  }
  return done;
}

bool AppManager::post_event(uint32_t app_id, uint32_t context_id, const abi::AppEvent& event) {
  App* app = find(app_id);
  if (!app || app->detaching || context_id >= app->contexts.size()) return false;
  Context& ctx = *app->contexts[context_id];
  if (!ctx.kin.try_push(event)) return false;
  if (ctx.kin.consumer_needs_wakeup()) (void)ctx.app_doorbell.ring();
  return true;
}

std::optional<uint64_t> AppManager::allocate(uint32_t app_id, uint64_t bytes) {
  App* app = find(app_id);
  if (!app || app->detaching) return std::nullopt;
  return app->heap.allocate(bytes);
}

void AppManager::release(uint32_t app_id, uint64_t offset) {
  if (App* app = find(app_id)) app->heap.free(offset);
}

}  // namespace vtas::fastpath
