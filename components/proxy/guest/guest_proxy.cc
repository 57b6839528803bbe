#include "components/proxy/guest/guest_proxy.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "components/fastpath/abi/attach_protocol.h"
#include "components/fastpath/abi/fd_passing.h"

namespace vtas::proxy {
namespace {

// epoll tags: the kind in the high half, an fd or index in the low half.
enum Tag : uint64_t {
  kTagStop = 1,
  kTagListen = 2,
  kTagInterrupt = 3,
  kTagHangup = 4,
  kTagControl = 5,
  kTagCore = 6,
  kTagApp = 7,
};
uint64_t tag(Tag kind, uint32_t value = 0) { return (uint64_t{kind} << 32) | value; }

constexpr uint32_t kMaxCores = 16;

void note(const std::string& text) { std::fprintf(stderr, "vtas-proxy-guest: %s\n", text.c_str()); }

}  // namespace

Result<std::unique_ptr<GuestProxy>> GuestProxy::create(std::unique_ptr<GuestTransport> transport,
                                                       GuestProxyOptions options) {
  auto channel = ChannelEndpoint::attach_guest(transport->channel(), abi::kVmChannelBytes);
  if (!channel) return channel.error();
  if (channel->header().vm_peer_id != transport->peer_id()) {
    return make_error("the channel belongs to ivshmem peer " + std::to_string(channel->header().vm_peer_id) +
                      ", but this VM is peer " + std::to_string(transport->peer_id()));
  }
  std::unique_ptr<GuestProxy> proxy(new GuestProxy(std::move(transport), std::move(*channel), std::move(options)));
  auto stop = shm::Doorbell::create();
  if (!stop) return stop.error();
  proxy->stop_ = std::move(*stop);
  proxy->epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (proxy->epoll_ < 0) return make_error(std::string("epoll_create1: ") + std::strerror(errno));
  if (Status s = proxy->listen(); !s) return s.error();
  const GuestTransport& t = *proxy->transport_;
  for (auto [fd, kind] : {std::pair{proxy->stop_.fd(), kTagStop}, std::pair{proxy->listen_fd_, kTagListen},
                          std::pair{t.interrupt_fd(), kTagInterrupt}, std::pair{t.hangup_fd(), kTagHangup}}) {
    if (fd < 0) continue;
    if (Status s = proxy->watch(fd, tag(kind)); !s) return s.error();
  }
  return proxy;
}

GuestProxy::GuestProxy(std::unique_ptr<GuestTransport> transport, ChannelEndpoint channel, GuestProxyOptions options)
    : transport_(std::move(transport)), channel_(std::move(channel)), options_(std::move(options)) {}

GuestProxy::~GuestProxy() {
  for (auto& [fd, app] : apps_) ::close(fd);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(options_.socket_path.c_str());
  }
  if (epoll_ >= 0) ::close(epoll_);
}

Status GuestProxy::listen() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (options_.socket_path.size() >= sizeof(addr.sun_path)) {
    return make_error("attach socket path too long: " + options_.socket_path);
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(options_.socket_path).parent_path(), ec);
  std::strcpy(addr.sun_path, options_.socket_path.c_str());
  ::unlink(options_.socket_path.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::chmod(options_.socket_path.c_str(), 0600) != 0 || ::listen(listen_fd_, 64) != 0) {
    return make_error("cannot serve apps on " + options_.socket_path + ": " + std::strerror(errno));
  }
  return Status();
}

Status GuestProxy::watch(int fd, uint64_t value) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = value;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return make_error("epoll_ctl ADD fd " + std::to_string(fd) + ": " + std::strerror(errno));
  }
  return Status();
}

void GuestProxy::stop() { (void)stop_.ring(); }

// ---- the loop ------------------------------------------------------------------------------------

Status GuestProxy::run() {
  ChannelMessage hello;
  hello.mutable_guest_hello()->set_version(kChannelProtocolVersion);
  send_to_host(std::move(hello));
  epoll_event events[64];
  while (true) {
    if (Status s = process_channel(); !s) return s;
    if (Status s = flush(); !s) return s;
    int timeout = outbox_.empty() ? -1 : 1;  // a full channel: try again shortly
    if (!channel_.prepare_sleep()) timeout = 0;
    int n = ::epoll_wait(epoll_, events, 64, timeout);
    channel_.finish_sleep();
    if (n < 0 && errno != EINTR) return make_error(std::string("epoll_wait: ") + std::strerror(errno));
    for (int i = 0; i < n; ++i) {
      const uint64_t value = events[i].data.u64;
      const auto kind = static_cast<Tag>(value >> 32);
      const auto low = static_cast<uint32_t>(value);
      switch (kind) {
        case kTagStop:
          return Status();
        case kTagListen:
          accept_apps();
          break;
        case kTagInterrupt:
          transport_->clear_interrupt();
          wake_contexts();
          break;
        case kTagHangup:
          return make_error("the host proxy closed the connection (vtas stopped, or it dropped this VM)");
        case kTagControl:
          on_local_doorbell(-1);
          break;
        case kTagCore:
          on_local_doorbell(static_cast<int>(low));
          break;
        case kTagApp:
          on_app_readable(static_cast<int>(low));
          break;
      }
    }
  }
}

// ---- apps ----------------------------------------------------------------------------------------

void GuestProxy::accept_apps() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != ::geteuid() && cred.uid != 0)) {
      refuse_attach(fd, -EACCES, "permission denied");
      continue;
    }
    if (apps_.size() >= options_.max_apps) {
      refuse_attach(fd, -EMFILE, "too many apps in this VM");
      continue;
    }
    if (!watch(fd, tag(kTagApp, static_cast<uint32_t>(fd)))) {
      ::close(fd);
      continue;
    }
    apps_.emplace(fd, App{fd});
  }
}

void GuestProxy::refuse_attach(int fd, int status, const std::string& why) {
  ++counters_.apps_refused;
  abi::AttachResponse response{};
  abi::fill_header(response, abi::AttachMessageType::kAttachResponse);
  response.status = status;
  abi::copy_text(response.error, why);
  abi::send_with_fds(fd, &response, sizeof(response), nullptr, 0);
  ::close(fd);
}

void GuestProxy::on_app_readable(int fd) {
  auto found = apps_.find(fd);
  if (found == apps_.end()) return;
  App& app = found->second;
  if (app.state == AppState::kNew) return on_attach_request(app);
  if (app.state == AppState::kAttached) return on_context_request(app);
  // Attaching: the app must wait for its answer. Only its end (EOF) is expected here.
  char probe;
  ssize_t n = ::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN)) close_app(fd, true);
  if (n > 0) close_app(fd, true);  // spoke out of turn
}

void GuestProxy::on_attach_request(App& app) {
  abi::AttachRequest request{};
  int fds[abi::kAttachMaxFds];
  int got = abi::receive_with_fds(app.fd, &request, sizeof(request), fds, abi::kAttachMaxFds);
  if (got == -EAGAIN) return;
  for (int i = 0; i < got; ++i) ::close(fds[i]);
  if (got < 0) return close_app(app.fd, false);
  const int fd = app.fd;
  if (request.magic != abi::kAttachMagic || request.version != abi::kAttachVersion ||
      request.type != static_cast<uint32_t>(abi::AttachMessageType::kAttachRequest)) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    apps_.erase(fd);
    return refuse_attach(fd, -EPROTO, "protocol mismatch");
  }
  app.state = AppState::kAttaching;
  const uint32_t request_id = next_request_id_++;
  attach_requests_[request_id] = fd;
  ChannelMessage message;
  auto* a = message.mutable_app_attach();
  a->set_request_id(request_id);
  // Printable ASCII only: a proto3 string must be UTF-8, and a name that is not would make the
  // host refuse the whole frame (and break this VM's channel).
  std::string name(request.name, strnlen(request.name, sizeof(request.name)));
  for (char& c : name) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  a->set_name(name);
  send_to_host(std::move(message));
}

void GuestProxy::on_context_request(App& app) {
  abi::ContextRequest request{};
  int fd = -1;
  int got = abi::receive_with_fds(app.fd, &request, sizeof(request), &fd, 1);
  if (got == -EAGAIN) return;
  if (got < 0) return close_app(app.fd, true);
  if (request.magic != abi::kAttachMagic || request.version != abi::kAttachVersion ||
      request.type != static_cast<uint32_t>(abi::AttachMessageType::kContextRequest) || got != 1) {
    if (fd >= 0) ::close(fd);
    abi::ContextResponse response{};
    abi::fill_header(response, abi::AttachMessageType::kContextResponse);
    response.status = -EINVAL;
    abi::copy_text(response.error, "malformed context request");
    abi::send_with_fds(app.fd, &response, sizeof(response), nullptr, 0);
    return;
  }
  const uint32_t request_id = next_request_id_++;
  context_requests_.emplace(request_id, PendingContext{app.fd, shm::Doorbell::adopt(fd)});
  ChannelMessage message;
  auto* c = message.mutable_context_create();
  c->set_request_id(request_id);
  c->set_app_id(app.app_id);  // ours, never the one the app wrote
  send_to_host(std::move(message));
}

void GuestProxy::close_app(int fd, bool tell_host) {
  auto found = apps_.find(fd);
  if (found == apps_.end()) return;
  const uint32_t app_id = found->second.app_id;
  ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  apps_.erase(found);
  for (auto it = contexts_.begin(); it != contexts_.end();) {
    it = it->second.app_fd == fd ? contexts_.erase(it) : std::next(it);
  }
  for (auto it = context_requests_.begin(); it != context_requests_.end();) {
    it = it->second.app_fd == fd ? context_requests_.erase(it) : std::next(it);
  }
  for (auto it = attach_requests_.begin(); it != attach_requests_.end();) {
    // The answer may still come: remember that nobody waits for it (fd -1).
    if (it->second == fd) it->second = -1;
    ++it;
  }
  if (tell_host && app_id != 0) {
    ChannelMessage message;
    message.mutable_app_detach()->set_app_id(app_id);
    send_to_host(std::move(message));
  }
}

// ---- host -> guest -------------------------------------------------------------------------------

Status GuestProxy::process_channel() {
  ChannelMessage message;
  while (channel_.receive(&message)) {
    switch (message.body_case()) {
      case ChannelMessage::kAppAttached:
        on_app_attached(message.app_attached());
        break;
      case ChannelMessage::kContextCreated:
        on_context_created(message.context_created());
        break;
      case ChannelMessage::kServiceReset:
        on_service_reset(message.service_reset().reason());
        break;
      default:
        break;  // nothing else flows this way
    }
  }
  if (channel_.broken()) return make_error("the channel to the host broke: " + channel_.error());
  return Status();
}

void GuestProxy::on_app_attached(const AppAttached& m) {
  auto request = attach_requests_.find(m.request_id());
  if (request == attach_requests_.end()) return;
  const int fd = request->second;
  attach_requests_.erase(request);
  auto found = fd >= 0 ? apps_.find(fd) : apps_.end();
  if (found == apps_.end()) {
    // The app left before its answer came: release what the host made for it.
    if (m.status() == 0 && m.app_id() != 0) {
      ChannelMessage message;
      message.mutable_app_detach()->set_app_id(m.app_id());
      send_to_host(std::move(message));
    }
    return;
  }
  App& app = found->second;
  const bool fits = m.region_offset() <= transport_->region_size() &&
                    m.region_size() <= transport_->region_size() - m.region_offset() && m.region_size() > 0;
  if (m.status() == 0 && (!fits || m.num_cores() == 0 || m.num_cores() > kMaxCores)) {
    note("the host gave app " + std::to_string(m.app_id()) + " an impossible slice or core count");
    close_app(fd, true);
    return;
  }
  if (m.status() != 0) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    apps_.erase(found);
    return refuse_attach(fd, m.status() < 0 ? m.status() : -EPROTO, m.error());
  }
  if (Status s = ensure_doorbells(m.num_cores()); !s) {
    note(s.error().message);
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    apps_.erase(found);
    refuse_attach(fd, -EMFILE, "out of eventfds in the guest proxy");
    ChannelMessage message;
    message.mutable_app_detach()->set_app_id(m.app_id());
    return send_to_host(std::move(message));
  }
  abi::AttachResponse response{};
  abi::fill_header(response, abi::AttachMessageType::kAttachResponse);
  response.app_id = m.app_id();
  response.num_cores = m.num_cores();
  response.region_size = m.region_size();
  response.region_offset = transport_->region_offset() + m.region_offset();
  response.poll_interval_app_us = m.poll_interval_app_us();
  std::vector<int> fds{transport_->region_fd(), control_doorbell_->fd()};
  for (uint32_t c = 0; c < m.num_cores(); ++c) fds.push_back(core_doorbells_[c].fd());
  app.app_id = m.app_id();
  app.state = AppState::kAttached;
  if (abi::send_with_fds(fd, &response, sizeof(response), fds.data(), fds.size()) != 0) {
    close_app(fd, true);
    return;
  }
  ++counters_.apps_attached;
}

void GuestProxy::on_context_created(const ContextCreated& m) {
  auto request = context_requests_.find(m.request_id());
  if (request == context_requests_.end()) return;  // its app is gone; the host drops it with the app
  PendingContext pending = std::move(request->second);
  context_requests_.erase(request);
  abi::ContextResponse response{};
  abi::fill_header(response, abi::AttachMessageType::kContextResponse);
  response.status = m.status();
  response.context_id = m.context_id();
  response.queue_block = m.queue_block();
  abi::copy_text(response.error, m.error());
  if (m.status() == 0) {
    contexts_.insert_or_assign(m.wake_id(), Context{pending.app_fd, std::move(pending.app_eventfd)});
    ++counters_.contexts;
  }
  if (abi::send_with_fds(pending.app_fd, &response, sizeof(response), nullptr, 0) != 0) {
    close_app(pending.app_fd, true);
  }
}

void GuestProxy::wake_contexts() {
  // The interrupt says "something for this VM": a channel message, or the fast path waking a
  // context of ours (it rings the VM's interrupt directly). Which context is not said, so all
  // of them get a wake-up; an app woken for nothing polls its queues and sleeps again.
  if (contexts_.empty()) return;
  ++counters_.wakes_from_host;
  for (auto& [wake_id, context] : contexts_) (void)context.app_eventfd.ring();
}

void GuestProxy::on_service_reset(const std::string& reason) {
  note("the host lost the vtas fast path (" + reason + "): disconnecting " + std::to_string(apps_.size()) +
       " app(s)");
  std::vector<int> fds;
  for (auto& [fd, app] : apps_) fds.push_back(fd);
  for (int fd : fds) close_app(fd, false);
  attach_requests_.clear();
  context_requests_.clear();
  contexts_.clear();
}

// ---- doorbells -----------------------------------------------------------------------------------

Status GuestProxy::ensure_doorbells(uint32_t num_cores) {
  if (!control_doorbell_) {
    auto d = shm::Doorbell::create();
    if (!d) return d.error();
    control_doorbell_.emplace(std::move(*d));
    if (Status s = watch(control_doorbell_->fd(), tag(kTagControl)); !s) return s;
  }
  while (core_doorbells_.size() < num_cores) {
    auto d = shm::Doorbell::create();
    if (!d) return d.error();
    const auto core = static_cast<uint32_t>(core_doorbells_.size());
    core_doorbells_.push_back(std::move(*d));
    core_wake_queued_.push_back(false);
    if (Status s = watch(core_doorbells_.back().fd(), tag(kTagCore, core)); !s) return s;
  }
  return Status();
}

void GuestProxy::on_local_doorbell(int index) {
  ChannelMessage message;
  if (index < 0) {
    control_doorbell_->drain();
    if (control_wake_queued_) return;
    control_wake_queued_ = true;
    message.mutable_wake_control();
  } else {
    const auto core = static_cast<size_t>(index);
    if (core >= core_doorbells_.size()) return;
    core_doorbells_[core].drain();
    if (core_wake_queued_[core]) return;
    core_wake_queued_[core] = true;
    message.mutable_wake_core()->set_core(static_cast<uint32_t>(core));
  }
  ++counters_.wakes_to_host;
  send_to_host(std::move(message));
}

// ---- guest -> host -------------------------------------------------------------------------------

void GuestProxy::send_to_host(ChannelMessage message) {
  outbox_.push_back(std::move(message));
  (void)flush();
}

Status GuestProxy::flush() {
  bool pushed = false;
  while (!outbox_.empty() && channel_.send(outbox_.front())) {
    const ChannelMessage& sent = outbox_.front();
    if (sent.has_wake_control()) control_wake_queued_ = false;
    if (sent.has_wake_core() && sent.wake_core().core() < core_wake_queued_.size()) {
      core_wake_queued_[sent.wake_core().core()] = false;
    }
    outbox_.pop_front();
    pushed = true;
  }
  if (pushed && channel_.peer_needs_wakeup()) {
    ++counters_.host_doorbells;
    if (Status s = transport_->ring_host(channel_.header().host_peer_id, 0); !s) return s;
  }
  if (channel_.broken()) return make_error("the channel to the host broke: " + channel_.error());
  return Status();
}

}  // namespace vtas::proxy
