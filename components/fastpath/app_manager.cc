#include "components/fastpath/app_manager.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "components/fastpath/abi/attach_protocol.h"
#include "components/fastpath/abi/fd_passing.h"
#include "runtime/log.h"
#include "runtime/shm/abi.h"

namespace vtas::fastpath {
namespace {

auto logger() { return log::get("fastpath"); }

template <class T>
void fill_header(T& message, abi::AttachMessageType type) {
  message.magic = abi::kAttachMagic;
  message.version = abi::kAttachVersion;
  message.type = static_cast<uint32_t>(type);
}

void copy_error(char* dst, size_t size, const std::string& text) {
  std::strncpy(dst, text.c_str(), size - 1);
  dst[size - 1] = '\0';
}

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

void AppManager::accept_pending() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    abi::AttachRequest request{};
    abi::AttachResponse response{};
    fill_header(response, abi::AttachMessageType::kAttachResponse);
    // The attach request is sent right after connect; wait for it briefly (blocking read).
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int got = abi::receive_with_fds(fd, &request, sizeof(request), nullptr, 0);
    ::fcntl(fd, F_SETFL, flags);
    if (got < 0 || request.magic != abi::kAttachMagic ||
        request.type != static_cast<uint32_t>(abi::AttachMessageType::kAttachRequest)) {
      logger()->warn("attach: refused a client that did not speak the attach protocol");
      ::close(fd);
      continue;
    }
    if (request.version != abi::kAttachVersion) {
      response.status = -EPROTO;
      copy_error(response.error, sizeof(response.error), "attach protocol version mismatch");
      abi::send_with_fds(fd, &response, sizeof(response), nullptr, 0);
      ::close(fd);
      continue;
    }
    // The socket is 0600 already; a process of another user that got an fd to it anyway
    // (or root's group setting) is still checked here.
    ucred cred{};
    socklen_t cred_len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) != 0 ||
        (cred.uid != ::geteuid() && cred.uid != 0)) {
      response.status = -EACCES;
      copy_error(response.error, sizeof(response.error), "permission denied");
      abi::send_with_fds(fd, &response, sizeof(response), nullptr, 0);
      ::close(fd);
      continue;
    }
    auto app = create_app(fd, cred, request);
    if (!app) {
      response.status = -ENOMEM;
      copy_error(response.error, sizeof(response.error), app.error().message);
      logger()->error("attach: {}", app.error().message);
      abi::send_with_fds(fd, &response, sizeof(response), nullptr, 0);
      ::close(fd);
      continue;
    }
    App& a = **app;
    response.status = 0;
    response.app_id = a.id;
    response.num_cores = config_.num_cores;
    response.region_size = a.region.size();
    std::vector<int> fds{a.region.fd(), config_.control_doorbell_fd};
    fds.insert(fds.end(), config_.core_doorbell_fds.begin(), config_.core_doorbell_fds.end());
    if (int rc = abi::send_with_fds(fd, &response, sizeof(response), fds.data(), fds.size()); rc != 0) {
      logger()->warn("attach: could not answer app {}: {}", a.id, ::strerror(-rc));
      ::close(fd);
      continue;
    }
    uint32_t id = a.id;
    apps_.emplace(id, std::move(*app));
    logger()->info("app {} '{}' (pid {}) attached", id, apps_[id]->name, apps_[id]->pid);
    hooks_.watch_app_socket(fd, id);
    hooks_.attached(*apps_[id]);
  }
}

Result<std::unique_ptr<AppManager::App>> AppManager::create_app(int socket_fd, const ucred& cred,
                                                                const abi::AttachRequest& request) {
  auto id = next_app_id();
  if (!id) return make_error("too many apps attached (" + std::to_string(config_.max_apps) + ")");
  auto region = shm::Region::create_memfd("vtas-app-" + std::to_string(*id), config_.region_size,
                                          config_.hugepages);
  if (!region) return region.error();
  auto* header = region->at<abi::AppRegionHeader>(abi::kAppRegionHeaderOffset);
  uint64_t heap_offset =
      abi::kContextDescriptorsOffset + uint64_t{abi::kMaxAppContexts} * sizeof(abi::ContextDescriptor);
  header->app_id = *id;
  header->num_cores = config_.num_cores;
  header->max_contexts = abi::kMaxAppContexts;
  header->heap_offset = static_cast<uint32_t>(heap_offset);
  header->heap_size = region->size() - heap_offset;
  header->kin_capacity = config_.kin_capacity;
  header->kout_capacity = config_.kout_capacity;
  header->arx_capacity = config_.arx_capacity;
  header->atx_capacity = config_.atx_capacity;
  header->local_ip = config_.local_ip;
  config_.local_mac.copy_to(header->local_mac);
  if (Status s = shm::init_region_header(region->base(), region->size(), shm::RegionKind::kAppContext,
                                         abi::kAppLayoutVersion);
      !s) {
    return s.error();
  }
  auto app = std::make_unique<App>(App{*id, cred.pid, cred.uid, "", socket_fd, std::move(*region),
                                       OffsetAllocator(heap_offset, 0), {}});
  app->heap = OffsetAllocator(heap_offset, app->region.size() - heap_offset);
  char name[sizeof(request.name) + 1] = {};
  std::memcpy(name, request.name, sizeof(request.name));
  app->name = name;
  return app;
}

void AppManager::on_app_socket(uint32_t app_id) {
  App* app = find(app_id);
  if (!app || app->detaching) return;
  while (true) {
    abi::ContextRequest request{};
    int fds[1] = {-1};
    int got = abi::receive_with_fds(app->socket_fd, &request, sizeof(request), fds, 1);
    if (got == -EAGAIN || got == -EWOULDBLOCK) return;
    if (got < 0) {
      start_detach(*app, got == -ECONNRESET ? "closed its attach socket" : ::strerror(-got));
      return;
    }
    abi::ContextResponse response{};
    fill_header(response, abi::AttachMessageType::kContextResponse);
    if (request.magic != abi::kAttachMagic ||
        request.type != static_cast<uint32_t>(abi::AttachMessageType::kContextRequest) || got != 1) {
      for (int i = 0; i < got; ++i) ::close(fds[i]);
      ++app->bad_requests;
      response.status = -EINVAL;
      copy_error(response.error, sizeof(response.error), "malformed context request");
    } else if (Status s = create_context(*app, fds[0], &response); !s) {
      response.status = response.status ? response.status : -ENOMEM;
      copy_error(response.error, sizeof(response.error), s.error().message);
      logger()->warn("app {}: context refused: {}", app_id, s.error().message);
    }
    abi::send_with_fds(app->socket_fd, &response, sizeof(response), nullptr, 0);
  }
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
  uint8_t* base = static_cast<uint8_t*>(app.region.base()) + *block;
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
  auto* desc = app.region.at<abi::ContextDescriptor>(abi::kContextDescriptorsOffset +
                                                      uint64_t{id} * sizeof(abi::ContextDescriptor));
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

void AppManager::start_detach(App& app, const std::string& why) {
  logger()->info("app {} '{}' {}: releasing its connections", app.id, app.name, why);
  app.detaching = true;
  hooks_.unwatch(app.socket_fd);
  ::close(app.socket_fd);
  app.socket_fd = -1;
  hooks_.detaching(app);
}

void AppManager::finish_detach(uint32_t app_id) {
  auto found = apps_.find(app_id);
  if (found == apps_.end()) return;
  for (auto& ctx : found->second->contexts) {
    for (CoreAppContext* c : ctx->per_core) delete c;
  }
  apps_.erase(found);
}

AppManager::App* AppManager::find(uint32_t app_id) {
  auto found = apps_.find(app_id);
  return found == apps_.end() ? nullptr : found->second.get();
}

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
