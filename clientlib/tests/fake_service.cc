#include "clientlib/tests/fake_service.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "components/fastpath/abi/fd_passing.h"
#include "runtime/shm/abi.h"

namespace vtas::client::testing {
namespace {

void copy_error(char* dst, size_t size, const std::string& text) {
  std::strncpy(dst, text.c_str(), size - 1);
  dst[size - 1] = '\0';
}

}  // namespace

bool FakeContext::push_kin(const abi::AppEvent& event) {
  if (!kin->try_push(event)) return false;
  if (kin->consumer_needs_wakeup()) (void)app_doorbell->ring();
  return true;
}

bool FakeContext::push_arx(uint32_t core, const abi::ArxEntry& entry) {
  if (!arx[core].try_push(entry)) return false;
  if (arx[core].consumer_needs_wakeup()) (void)app_doorbell->ring();
  return true;
}

std::optional<abi::AppRequest> FakeContext::pop_request() {
  abi::AppRequest request;
  if (!kout->try_pop(request)) return std::nullopt;
  return request;
}

std::optional<abi::AtxEntry> FakeContext::pop_bump(uint32_t core) {
  abi::AtxEntry bump;
  if (!atx[core].try_pop(bump)) return std::nullopt;
  return bump;
}

FakeService::FakeService(std::string socket_path, FakeServiceOptions options)
    : socket_path_(std::move(socket_path)), options_(std::move(options)) {}

std::unique_ptr<FakeService> FakeService::start(const std::string& runtime_dir,
                                                FakeServiceOptions options) {
  std::unique_ptr<FakeService> service(
      new FakeService(runtime_dir + "/" + abi::kAttachSocketName, std::move(options)));
  if (!service->setup()) return nullptr;
  service->thread_ = std::thread([s = service.get()] { s->serve(); });
  return service;
}

bool FakeService::setup() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path)) return false;
  std::strcpy(addr.sun_path, socket_path_.c_str());
  ::unlink(socket_path_.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return false;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::chmod(socket_path_.c_str(), 0600) != 0 || ::listen(listen_fd_, 8) != 0) {
    return false;
  }
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  auto control = shm::Doorbell::create();
  if (stop_fd_ < 0 || !control) return false;
  control_doorbell_.emplace(std::move(*control));
  for (uint32_t core = 0; core < options_.num_cores; ++core) {
    auto bell = shm::Doorbell::create();
    if (!bell) return false;
    core_doorbells_.push_back(std::move(*bell));
  }
  return true;
}

FakeService::~FakeService() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (client_fd_ >= 0) ::close(client_fd_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  ::unlink(socket_path_.c_str());
}

void FakeService::serve() {
  for (;;) {
    pollfd fds[3] = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}, {client_fd_, POLLIN, 0}};
    const nfds_t count = client_fd_ >= 0 ? 3 : 2;
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) return;
    if (fds[1].revents & POLLIN) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0 && client_fd_ >= 0) {
        ::close(fd);  // one app at a time
      } else if (fd >= 0) {
        answer_attach(fd);
      }
    }
    if (count == 3 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      abi::ContextRequest request{};
      int fd = -1;
      int got = abi::receive_with_fds(client_fd_, &request, sizeof(request), &fd, 1);
      if (got < 0) {  // EOF: the app detached
        ::close(client_fd_);
        client_fd_ = -1;
        std::lock_guard<std::mutex> lock(mutex_);
        detached_ = true;
        attached_ = false;
        changed_.notify_all();
        continue;
      }
      answer_context(client_fd_, got == 1 ? fd : -1);
    }
  }
}

void FakeService::answer_attach(int client) {
  abi::AttachRequest request{};
  int got = abi::receive_with_fds(client, &request, sizeof(request), nullptr, 0);
  abi::AttachResponse response{};
  abi::fill_header(response, abi::AttachMessageType::kAttachResponse);
  response.version = options_.attach_version;  // a test may play an older or newer service
  if (got < 0 || request.magic != abi::kAttachMagic ||
      request.type != static_cast<uint32_t>(abi::AttachMessageType::kAttachRequest)) {
    ::close(client);
    return;
  }
  if (options_.attach_status != 0 || options_.attach_version != abi::kAttachVersion) {
    response.status = options_.attach_status;
    copy_error(response.error, sizeof(response.error), options_.attach_error);
    abi::send_with_fds(client, &response, sizeof(response), nullptr, 0);
    ::close(client);
    return;
  }

  // The app region, laid out as AppManager::create_app does.
  auto region = shm::Region::create_memfd("vtas-fake-app", options_.region_size, false);
  if (!region) {
    ::close(client);
    return;
  }
  auto* header = region->at<abi::AppRegionHeader>(abi::kAppRegionHeaderOffset);
  if (header == nullptr) {
    ::close(client);
    return;
  }
  const uint64_t heap_offset = abi::kContextDescriptorsOffset +
                               uint64_t{abi::kMaxAppContexts} * sizeof(abi::ContextDescriptor);
  header->app_id = 7;
  header->num_cores = options_.num_cores;
  header->max_contexts = abi::kMaxAppContexts;
  header->heap_offset = static_cast<uint32_t>(heap_offset);
  header->heap_size = region->size() - heap_offset;
  header->kin_capacity = options_.kin_capacity;
  header->kout_capacity = options_.kout_capacity;
  header->arx_capacity = options_.arx_capacity;
  header->atx_capacity = options_.atx_capacity;
  header->fastpath_cpus = options_.fastpath_cpus;
  header->local_ip = 0x0100000a;  // 10.0.0.1, network order
  (void)shm::init_region_header(region->base(), region->size(), shm::RegionKind::kAppContext,
                                options_.layout_version);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    contexts_.clear();
    region_.emplace(std::move(*region));
    heap_next_ = heap_offset;
    heap_end_ = region_->size();
  }

  response.status = 0;
  response.app_id = 7;
  response.num_cores = options_.num_cores;
  response.region_size = region_->size();
  response.poll_interval_app_us = options_.poll_interval_app_us;
  std::vector<int> fds{region_->fd(), control_doorbell_->fd()};
  for (auto& bell : core_doorbells_) fds.push_back(bell.fd());
  fds.resize(fds.size() - std::min<size_t>(options_.fds_missing, fds.size()));
  if (abi::send_with_fds(client, &response, sizeof(response), fds.data(), fds.size()) != 0) {
    ::close(client);
    return;
  }
  client_fd_ = client;
  std::lock_guard<std::mutex> lock(mutex_);
  attached_ = true;
  detached_ = false;
  changed_.notify_all();
}

void FakeService::answer_context(int client, int app_eventfd) {
  abi::ContextResponse response{};
  abi::fill_header(response, abi::AttachMessageType::kContextResponse);
  if (app_eventfd < 0) {
    response.status = -EINVAL;
    copy_error(response.error, sizeof(response.error), "malformed context request");
  } else if (options_.context_status != 0) {
    ::close(app_eventfd);
    response.status = options_.context_status;
    copy_error(response.error, sizeof(response.error), "refused by the test");
  } else if (!create_context(app_eventfd, response)) {
    response.status = -ENOMEM;
    copy_error(response.error, sizeof(response.error), "no room");
  }
  abi::send_with_fds(client, &response, sizeof(response), nullptr, 0);
}

bool FakeService::create_context(int app_eventfd, abi::ContextResponse& response) {
  const FakeServiceOptions& o = options_;
  auto layout = abi::queue_block_layout(o.num_cores, o.kin_capacity, o.kout_capacity,
                                        o.arx_capacity, o.atx_capacity);
  auto fake = std::make_unique<FakeContext>();
  fake->app_doorbell.emplace(shm::Doorbell::adopt(app_eventfd));
  uint64_t block = allocate(layout.total);
  if (block == 0) return false;
  uint8_t* base = at(block);
  std::memset(base, 0, layout.total);
  auto init = [&](uint64_t offset, uint32_t capacity) {
    return shm::ring_init(base + offset, shm::ring_bytes(capacity), capacity);
  };
  bool ok = init(layout.kin, o.kin_capacity).ok() && init(layout.kout, o.kout_capacity).ok();
  for (uint32_t c = 0; ok && c < o.num_cores; ++c) {
    ok = init(layout.arx0 + c * layout.arx_stride, o.arx_capacity).ok() &&
         init(layout.atx0 + c * layout.atx_stride, o.atx_capacity).ok();
  }
  if (!ok) return false;
  uint32_t id;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    id = static_cast<uint32_t>(contexts_.size());
  }
  auto kin = shm::RingProducer<abi::AppEvent>::attach(
      base + layout.kin, shm::ring_bytes(o.kin_capacity), o.kin_capacity, "fake kin");
  auto kout = shm::RingConsumer<abi::AppRequest>::attach(
      base + layout.kout, shm::ring_bytes(o.kout_capacity), o.kout_capacity, "fake kout");
  if (!kin || !kout) return false;
  fake->kin.emplace(std::move(*kin));
  fake->kout.emplace(std::move(*kout));
  fake->kout->prepare_sleep();  // as the real control thread: announced once and for all
  for (uint32_t c = 0; c < o.num_cores; ++c) {
    auto arx = shm::RingProducer<abi::ArxEntry>::attach(
        base + layout.arx0 + c * layout.arx_stride, layout.arx_stride, o.arx_capacity, "fake arx");
    auto atx = shm::RingConsumer<abi::AtxEntry>::attach(
        base + layout.atx0 + c * layout.atx_stride, layout.atx_stride, o.atx_capacity, "fake atx");
    if (!arx || !atx) return false;
    fake->arx.push_back(std::move(*arx));
    fake->atx.push_back(std::move(*atx));
  }
  fake->id = id;
  fake->queue_block = block;
  auto* desc = region_->at<abi::ContextDescriptor>(abi::kContextDescriptorsOffset +
                                                   uint64_t{id} * sizeof(abi::ContextDescriptor));
  if (desc == nullptr) return false;
  desc->context_id = id;
  desc->queue_block = block;
  std::atomic_ref<uint32_t>(desc->state)
      .store(static_cast<uint32_t>(abi::ContextState::kActive), std::memory_order_release);
  response.status = 0;
  response.context_id = id;
  response.queue_block = block;
  std::lock_guard<std::mutex> lock(mutex_);
  contexts_.push_back(std::move(fake));
  changed_.notify_all();
  return true;
}

FakeContext* FakeService::context(uint32_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return id < contexts_.size() ? contexts_[id].get() : nullptr;
}

FakeContext* FakeService::wait_for_context(uint32_t id, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [&] { return id < contexts_.size(); });
  return id < contexts_.size() ? contexts_[id].get() : nullptr;
}

bool FakeService::wait_detached(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return detached_; });
}

bool FakeService::attached() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return attached_;
}

uint64_t FakeService::allocate(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t size = (bytes + 63) & ~uint64_t{63};
  if (size > heap_end_ - heap_next_) return 0;
  const uint64_t offset = heap_next_;
  heap_next_ += size;
  return offset;
}

}  // namespace vtas::client::testing
