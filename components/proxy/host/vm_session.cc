#include "components/proxy/host/vm_session.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "components/proxy/channel/ivshmem_protocol.h"
#include "runtime/log.h"

namespace vtas::proxy {
namespace {

constexpr int kFastPathAttachTimeoutMs = 2000;

FastPathLink::Limits fastpath_limits(const VmLimits& limits) {
  return FastPathLink::Limits{limits.max_connections, limits.max_rate_kbps};
}
constexpr uint64_t kPageSize = 4096;

auto logger() { return log::get("proxy-host"); }

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// An app name from the guest, fit for logs: printable ASCII, at most 47 bytes.
std::string clean_name(const std::string& raw) {
  std::string name = raw.substr(0, 47);
  for (char& c : name) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return name.empty() ? "guest-app" : name;
}

}  // namespace

Result<std::unique_ptr<VmSession>> VmSession::create(uint32_t peer_id, int qemu_fd, const std::string& name,
                                                     const std::string& fastpath_socket,
                                                     const VmLimits& limits, const SharedFileAccess& access,
                                                     Hooks hooks) {
  auto refuse = [&](const std::string& why) {
    ::close(qemu_fd);
    return make_error(why);
  };
  if (!is_power_of_two(limits.region_size) || limits.region_size < (8ull << 20)) {
    return refuse("VM region size " + std::to_string(limits.region_size) +
                  " is not a power of two of at least 8 MiB (QEMU's ivshmem requires a power of two)");
  }
  auto region = shm::Region::create_memfd("vtas-vm-" + std::to_string(peer_id), limits.region_size, false);
  if (!region) return refuse(region.error().message);
  // A memfd is born 0777 (see SharedFileAccess for why that must not stay so).
  if (Status s = access.apply_to_fd(region->fd(), "VM " + std::to_string(peer_id) + "'s region"); !s) {
    return refuse(s.error().message);
  }
  if (!is_power_of_two(region->size())) {
    return refuse("VM region rounded to " + std::to_string(region->size()) + " bytes, not a power of two");
  }
  auto channel = ChannelEndpoint::create_host(region->base(), region->size(), peer_id);
  if (!channel) return refuse(channel.error().message);
  auto host_doorbell = shm::Doorbell::create();
  auto guest_interrupt = shm::Doorbell::create();
  if (!host_doorbell) return refuse(host_doorbell.error().message);
  if (!guest_interrupt) return refuse(guest_interrupt.error().message);
  std::unique_ptr<VmSession> session(new VmSession(peer_id, qemu_fd, name, fastpath_socket, limits,
                                                   std::move(hooks), std::move(*region), std::move(*channel),
                                                   std::move(*host_doorbell), std::move(*guest_interrupt)));
  auto link = FastPathLink::attach(fastpath_socket, session->region_.fd(), peer_id, name,
                                   fastpath_limits(limits), kFastPathAttachTimeoutMs);
  if (!link) return link.error();  // the session's destructor closes qemu_fd
  session->fastpath_.emplace(std::move(*link));
  return session;
}

VmSession::VmSession(uint32_t id, int qemu_fd, std::string name, std::string fastpath_socket, VmLimits limits,
                     Hooks hooks, shm::Region region, ChannelEndpoint channel, shm::Doorbell host_doorbell,
                     shm::Doorbell guest_interrupt)
    : id_(id),
      qemu_fd_(qemu_fd),
      name_(std::move(name)),
      fastpath_socket_(std::move(fastpath_socket)),
      limits_(limits),
      hooks_(std::move(hooks)),
      region_(std::move(region)),
      channel_(std::move(channel)),
      host_doorbell_(std::move(host_doorbell)),
      guest_interrupt_(std::move(guest_interrupt)) {}

VmSession::~VmSession() {
  if (!broken_) hooks_.unwatch(host_doorbell_.fd());
  if (fastpath_) hooks_.unwatch(fastpath_->fd());
  if (qemu_fd_ >= 0) ::close(qemu_fd_);
}

Status VmSession::start() {
  // QEMU reads these synchronously while it realizes the device; they must all go out now.
  const int64_t sequence[][2] = {
      {kIvshmemProtocolVersion, -1},
      {static_cast<int64_t>(id_), -1},
      {-1, region_.fd()},
      {static_cast<int64_t>(kHostPeerId), host_doorbell_.fd()},
      {static_cast<int64_t>(id_), guest_interrupt_.fd()},
  };
  for (const auto& [value, fd] : sequence) {
    if (int rc = send_ivshmem_message(qemu_fd_, value, static_cast<int>(fd)); rc != 0) {
      return make_error("VM " + std::to_string(id_) + ": ivshmem handshake failed: " + std::strerror(-rc));
    }
  }
  hooks_.watch(host_doorbell_.fd(), [this] { poll_channel(64); });
  hooks_.watch(fastpath_->fd(), [this] { on_fastpath_readable(); });
  return Status();
}

// ---- guest -> host -----------------------------------------------------------------------------

bool VmSession::poll_channel(uint32_t budget) {
  host_doorbell_.drain();
  if (broken_) return false;
  ChannelMessage message;
  uint32_t taken = 0;
  while (taken < budget && channel_.receive(&message)) {
    ++taken;
    ++counters_.messages_in;
    switch (message.body_case()) {
      case ChannelMessage::kWakeCore:
        if (!fastpath_ || message.wake_core().core() >= fastpath_->num_cores()) {
          ++counters_.bad;
          break;
        }
        ++counters_.core_wakes;
        (void)fastpath_->core_doorbell(message.wake_core().core()).ring();
        break;
      case ChannelMessage::kWakeControl:
        if (!fastpath_) break;
        ++counters_.control_wakes;
        (void)fastpath_->control_doorbell().ring();
        break;
      case ChannelMessage::kGuestHello:
      case ChannelMessage::kAppAttach:
      case ChannelMessage::kAppDetach:
      case ChannelMessage::kContextCreate:
        hooks_.relay(message);
        break;
      default:
        ++counters_.bad;  // a host -> guest message, or an empty one
        break;
    }
  }
  if (channel_.broken()) {
    fail("the guest broke the channel: " + channel_.error());
    return false;
  }
  // More than one turn's worth: come back after the others had theirs.
  if (taken == budget) (void)host_doorbell_.ring();
  return taken == budget;
}

void VmSession::handle_request(const ChannelMessage& message) {
  if (broken_) return;
  switch (message.body_case()) {
    case ChannelMessage::kGuestHello:
      on_guest_hello();
      break;
    case ChannelMessage::kAppAttach:
      on_app_attach(message.app_attach());
      break;
    case ChannelMessage::kAppDetach:
      on_app_detach(message.app_detach().app_id());
      break;
    case ChannelMessage::kContextCreate:
      on_context_create(message.context_create());
      break;
    default:
      ++counters_.bad;
      break;
  }
}

void VmSession::on_guest_hello() {
  // A new guest proxy incarnation knows none of the old one's apps: release them, and drop
  // what the old one was still waiting for.
  ++guest_generation_;
  drop_all_apps(true);
  outbox_.clear();
  logger()->info("VM {} '{}': guest proxy (re)started", id_, name_);
}

void VmSession::on_app_attach(const AppAttach& m) {
  size_t pending_apps = 0;
  for (const Pending& p : pending_) pending_apps += p.kind == Pending::Kind::kApp;
  if (!fastpath_) return answer_app(m.request_id(), -ENOTCONN, "vtas fast path not running");
  if (apps_.size() + pending_apps >= limits_.max_apps) {
    return answer_app(m.request_id(), -EMFILE, "too many apps in this VM");
  }
  if (pending_.size() >= limits_.max_pending_requests) {
    return answer_app(m.request_id(), -EBUSY, "too many requests in flight");
  }
  if (Status s = fastpath_->request_app(clean_name(m.name())); !s) return lose_service(s.error().message);
  pending_.push_back(Pending{Pending::Kind::kApp, m.request_id(), 0, guest_generation_});
}

void VmSession::on_app_detach(uint32_t app_id) {
  if (!apps_.count(app_id)) {
    ++counters_.bad;
    return;
  }
  drop_app(app_id, true);
}

void VmSession::on_context_create(const ContextCreate& m) {
  if (!fastpath_) return answer_context(m.request_id(), -ENOTCONN, "vtas fast path not running");
  if (!apps_.count(m.app_id())) {
    // A guest may only name its own apps (the fast path checks it again).
    return answer_context(m.request_id(), -EPERM, "no such app in this VM");
  }
  size_t pending_contexts = 0;
  for (const Pending& p : pending_) pending_contexts += p.kind == Pending::Kind::kContext;
  if (contexts_.size() + pending_contexts >= limits_.max_contexts) {
    return answer_context(m.request_id(), -ENOSPC, "too many contexts in this VM");
  }
  if (pending_.size() >= limits_.max_pending_requests) {
    return answer_context(m.request_id(), -EBUSY, "too many requests in flight");
  }
  // The fast path wakes the context by interrupting the VM (see the header).
  if (Status s = fastpath_->request_context(m.app_id(), guest_interrupt_.fd()); !s) {
    return lose_service(s.error().message);
  }
  pending_.push_back(Pending{Pending::Kind::kContext, m.request_id(), m.app_id(), guest_generation_});
}

void VmSession::answer_app(uint32_t request_id, int status, const std::string& error) {
  ++counters_.refused;
  ChannelMessage message;
  auto* a = message.mutable_app_attached();
  a->set_request_id(request_id);
  a->set_status(status);
  a->set_error(error);
  send_to_guest(std::move(message));
}

void VmSession::answer_context(uint32_t request_id, int status, const std::string& error) {
  ++counters_.refused;
  ChannelMessage message;
  auto* c = message.mutable_context_created();
  c->set_request_id(request_id);
  c->set_status(status);
  c->set_error(error);
  send_to_guest(std::move(message));
}

// ---- fast path -> host -------------------------------------------------------------------------

void VmSession::on_fastpath_readable() {
  while (fastpath_) {
    auto answer = fastpath_->read_answer();
    if (!answer) return lose_service(answer.error().message);
    if (!*answer) return;
    on_answer(**answer);
  }
}

void VmSession::on_answer(const FastPathLink::Answer& answer) {
  if (pending_.empty()) return lose_service("the fast path answered a request the proxy did not make");
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  const bool current = p.guest_generation == guest_generation_;
  if (p.kind == Pending::Kind::kApp) {
    if (answer.type != abi::AttachMessageType::kAttachResponse) {
      return lose_service("the fast path answered an app request with a context answer");
    }
    const abi::AttachResponse& r = answer.attach;
    if (!current) {
      if (r.status == 0) (void)fastpath_->detach_app(r.app_id);
      return;
    }
    if (r.status != 0) return answer_app(p.request_id, r.status, abi::text_of(r.error));
    const bool fits = r.region_offset >= abi::kVmChannelBytes && r.region_offset % kPageSize == 0 &&
                      r.region_size > 0 && r.region_offset <= region_.size() &&
                      r.region_size <= region_.size() - r.region_offset &&
                      r.num_cores == fastpath_->num_cores() && r.app_id != 0;
    if (!fits) {
      (void)fastpath_->detach_app(r.app_id);
      logger()->error("VM {}: the fast path gave app {} the slice [{}, +{}) of a {} byte region", id_,
                      r.app_id, r.region_offset, r.region_size, region_.size());
      return answer_app(p.request_id, -EPROTO, "inconsistent slice from the fast path");
    }
    apps_.insert(r.app_id);
    ChannelMessage message;
    auto* a = message.mutable_app_attached();
    a->set_request_id(p.request_id);
    a->set_status(0);
    a->set_app_id(r.app_id);
    a->set_num_cores(r.num_cores);
    a->set_region_offset(r.region_offset);
    a->set_region_size(r.region_size);
    a->set_poll_interval_app_us(r.poll_interval_app_us);
    logger()->info("VM {}: app {} attached (slice at {} MiB)", id_, r.app_id, r.region_offset >> 20);
    return send_to_guest(std::move(message));
  }
  if (answer.type != abi::AttachMessageType::kContextResponse) {
    return lose_service("the fast path answered a context request with an app answer");
  }
  const abi::ContextResponse& r = answer.context;
  // The app may have left (or the guest proxy restarted) meanwhile: the context goes with it.
  if (!current || !apps_.count(p.app_id)) return;
  if (r.status != 0) return answer_context(p.request_id, r.status, abi::text_of(r.error));
  uint32_t wake_id = next_wake_id_;
  while (wake_id == 0 || contexts_.count(wake_id)) ++wake_id;
  next_wake_id_ = wake_id + 1;
  contexts_.emplace(wake_id, Context{p.app_id});
  ChannelMessage message;
  auto* c = message.mutable_context_created();
  c->set_request_id(p.request_id);
  c->set_status(0);
  c->set_context_id(r.context_id);
  c->set_queue_block(r.queue_block);
  c->set_wake_id(wake_id);
  send_to_guest(std::move(message));
}

// ---- host -> guest -----------------------------------------------------------------------------

void VmSession::send_to_guest(ChannelMessage message) {
  if (broken_) return;
  outbox_.push_back(std::move(message));
  if (flush()) hooks_.flush_later();
}

bool VmSession::flush() {
  if (broken_) return false;
  bool pushed = false;
  while (!outbox_.empty() && channel_.send(outbox_.front())) {
    outbox_.pop_front();
    ++counters_.messages_out;
    pushed = true;
  }
  if (pushed && channel_.peer_needs_wakeup()) (void)guest_interrupt_.ring();
  if (channel_.broken()) {
    fail("the guest broke the channel: " + channel_.error());
    return false;
  }
  return !outbox_.empty();
}

void VmSession::prepare_sleep() {
  if (broken_) return;
  if (!channel_.prepare_sleep()) (void)host_doorbell_.ring();  // a message (or a fault) is waiting
}

void VmSession::finish_sleep() {
  if (!broken_) channel_.finish_sleep();
}

// ---- losing and regaining things -----------------------------------------------------------------

void VmSession::drop_app(uint32_t app_id, bool tell_fastpath) {
  for (auto it = contexts_.begin(); it != contexts_.end();) {
    if (it->second.app_id == app_id) {
      it = contexts_.erase(it);
    } else {
      ++it;
    }
  }
  apps_.erase(app_id);
  if (tell_fastpath && fastpath_) {
    if (Status s = fastpath_->detach_app(app_id); !s) lose_service(s.error().message);
  }
}

void VmSession::drop_all_apps(bool tell_fastpath) {
  std::set<uint32_t> apps = apps_;
  for (uint32_t app_id : apps) drop_app(app_id, tell_fastpath);
}

void VmSession::lose_service(const std::string& why) {
  if (!fastpath_) return;
  logger()->warn("VM {} '{}': lost the fast path: {}", id_, name_, why);
  hooks_.unwatch(fastpath_->fd());
  fastpath_.reset();  // closing the socket releases whatever the fast path still holds
  drop_all_apps(false);
  pending_.clear();
  ChannelMessage message;
  message.mutable_service_reset()->set_reason(why);
  send_to_guest(std::move(message));
  hooks_.event(VM_EVENT_KIND_SERVICE_LOST, why);
}

bool VmSession::reattach() {
  if (fastpath_ || broken_) return true;
  auto link = FastPathLink::attach(fastpath_socket_, region_.fd(), id_, name_, fastpath_limits(limits_),
                                   kFastPathAttachTimeoutMs);
  if (!link) return false;
  fastpath_.emplace(std::move(*link));
  hooks_.watch(fastpath_->fd(), [this] { on_fastpath_readable(); });
  logger()->info("VM {} '{}': attached to the fast path again", id_, name_);
  return true;
}

void VmSession::fail(const std::string& why) {
  if (broken_) return;
  logger()->error("VM {} '{}': {}; the VM loses its vtas service", id_, name_, why);
  broken_ = true;
  broken_reason_ = why;
  hooks_.unwatch(host_doorbell_.fd());
  if (fastpath_) {
    hooks_.unwatch(fastpath_->fd());
    fastpath_.reset();
  }
  drop_all_apps(false);
  pending_.clear();
  outbox_.clear();
  hooks_.event(VM_EVENT_KIND_BROKEN, why);
}

}  // namespace vtas::proxy
