// The host proxy actor and the guest proxy together, in one process, against a fake fast path
// that speaks the VM side of the attach protocol: an app attaches through both proxies, gets
// its slice of the VM region, and wake-ups cross both ways; apps and VMs that leave are
// released; a hostile guest can break only its own VM's service.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "components/fastpath/abi/attach_protocol.h"
#include "components/fastpath/abi/fd_passing.h"
#include "components/proxy/guest/client_transport.h"
#include "components/proxy/guest/guest_proxy.h"
#include "components/proxy/host/host_proxy_actor.h"
#include "runtime/manifest/manifest_loader.h"
#include "runtime/shm/doorbell.h"
#include "runtime/shm/region.h"

namespace vtas::proxy {
namespace {

using namespace std::chrono_literals;

bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

// Runs an actor on a real poll loop in its own thread: watched fds, timers, and envelopes the
// actor sends to itself (the host proxy's traced guest requests) delivered back to it.
class ActorThread final : public ActorIo {
 public:
  explicit ActorThread(Actor& actor) : actor_(actor) {}
  ~ActorThread() override { stop(); }

  Status start() {
    actor_.bind_io(this, 1);
    Status s = actor_.on_start();
    if (s) thread_ = std::thread([this] { loop(); });
    return s;
  }
  void stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    thread_.join();
    actor_.on_stop();
  }
  // Bodies of the envelopes the actor sent (read after stop()).
  std::vector<Envelope> sent;

  bool transmit(Envelope& envelope) override {
    sent.push_back(envelope);
    if (envelope.header().receiver() == actor_.name()) loopback_.push_back(envelope);
    return true;
  }
  bool transmit_reply(const ReplyRoute&, Envelope&) override { return true; }
  const Clock& clock() const override { return SteadyClock::instance(); }
  TimerQueue& timers() override { return timers_; }
  void watch_fd(int fd, std::function<void()> fn) override { fds_[fd] = std::move(fn); }
  void unwatch_fd(int fd) override { fds_.erase(fd); }
  void stop_loop() override { stopping_ = true; }

 private:
  void loop() {
    while (!stopping_) {
      while (!loopback_.empty()) {
        Envelope e = std::move(loopback_.front());
        loopback_.pop_front();
        actor_.dispatch(e, ReplyRoute{});
      }
      std::vector<pollfd> polled;
      for (auto& [fd, fn] : fds_) polled.push_back({fd, POLLIN, 0});
      int timeout = 10;
      if (auto next = timers_.next_deadline()) {
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*next - clock().now()).count();
        timeout = std::max<int>(0, std::min<int>(timeout, static_cast<int>(wait)));
      }
      if (!actor_.prepare_to_wait()) timeout = 0;
      ::poll(polled.data(), polled.size(), timeout);
      actor_.after_wait();
      for (const pollfd& p : polled) {
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
        auto found = fds_.find(p.fd);
        if (found == fds_.end()) continue;
        auto fn = found->second;  // the callback may unwatch itself
        fn();
      }
      timers_.run_due(clock().now());
    }
  }

  Actor& actor_;
  TimerQueue timers_;
  std::map<int, std::function<void()>> fds_;
  std::deque<Envelope> loopback_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// The fast path's side of VMs, reduced to what the proxy relies on: VM attach with two
// doorbells (control, one core), an app slice per VmAppRequest (marked so the test can find it
// through the guest's mapping), contexts for this VM's apps only, and the record of detaches.
class FakeFastPath {
 public:
  explicit FakeFastPath(const std::string& path) {
    listen_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    EXPECT_EQ(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_, 8), 0);
    control_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    core_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    stop_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeFastPath() {
    uint64_t one = 1;
    (void)!::write(stop_, &one, sizeof(one));
    thread_.join();
    for (auto& vm : vms_) ::close(vm.fd);
    for (int fd : {listen_, control_, core_, stop_}) ::close(fd);
  }

  int core_doorbell() const { return core_; }
  int control_doorbell() const { return control_; }
  // Rings the doorbell of the newest context (as a core would when it posted an event).
  void ring_last_context() {
    std::lock_guard<std::mutex> lock(mutex_);
    ASSERT_FALSE(contexts_.empty());
    uint64_t one = 1;
    ASSERT_EQ(::write(contexts_.back(), &one, sizeof(one)), 8);
  }
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return pred(); });
  }
  int vms_attached = 0, vms_closed = 0;
  std::vector<uint32_t> detached_apps;
  std::vector<std::pair<uint32_t, int>> context_answers;  // app id, status

 private:
  struct Vm {
    int fd;
    void* base;
    size_t size;
    std::vector<uint32_t> apps;
  };

  void loop() {
    while (true) {
      std::vector<pollfd> p{{stop_, POLLIN, 0}, {listen_, POLLIN, 0}};
      for (auto& vm : vms_) p.push_back({vm.fd, POLLIN, 0});
      ::poll(p.data(), p.size(), 1000);
      if (p[0].revents) return;
      if (p[1].revents) accept_vm();
      for (size_t i = 2; i < p.size(); ++i) {
        if (p[i].revents) serve(i - 2);
      }
      std::lock_guard<std::mutex> lock(mutex_);
      vms_.erase(std::remove_if(vms_.begin(), vms_.end(), [](const Vm& v) { return v.fd < 0; }), vms_.end());
    }
  }

  void accept_vm() {
    int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
    abi::VmAttachRequest request{};
    int region = -1;
    ASSERT_EQ(abi::receive_with_fds(fd, &request, sizeof(request), &region, 1), 1);
    struct stat st {};
    ::fstat(region, &st);
    void* base = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, region, 0);
    ::close(region);
    abi::VmAttachResponse response{};
    abi::fill_header(response, abi::AttachMessageType::kVmAttachResponse);
    response.num_cores = 1;
    int fds[2] = {control_, core_};
    ASSERT_EQ(abi::send_with_fds(fd, &response, sizeof(response), fds, 2), 0);
    std::lock_guard<std::mutex> lock(mutex_);
    vms_.push_back(Vm{fd, base, static_cast<size_t>(st.st_size), {}});
    ++vms_attached;
    changed_.notify_all();
  }

  void serve(size_t index) {
    Vm& vm = vms_[index];
    union {
      abi::VmAppRequest app;
      abi::ContextRequest context;
    } request{};
    int fd = -1;
    int got = abi::receive_with_fds(vm.fd, &request, sizeof(request), &fd, 1);
    std::lock_guard<std::mutex> lock(mutex_);
    if (got < 0) {
      ::close(vm.fd);
      ::munmap(vm.base, vm.size);
      vm.fd = -1;
      ++vms_closed;
      changed_.notify_all();
      return;
    }
    auto type = static_cast<abi::AttachMessageType>(request.app.type);
    if (type == abi::AttachMessageType::kVmAppRequest) {
      uint32_t app_id = next_app_id_++;
      uint64_t offset = (2ull << 20) * (1 + vm.apps.size());
      vm.apps.push_back(app_id);
      std::snprintf(static_cast<char*>(vm.base) + offset, 16, "slice of %u", app_id);
      abi::AttachResponse r{};
      abi::fill_header(r, abi::AttachMessageType::kAttachResponse);
      r.app_id = app_id;
      r.num_cores = 1;
      r.region_offset = offset;
      r.region_size = 2ull << 20;
      r.poll_interval_app_us = 7777;  // --fp-poll-interval-app, to be passed on to the app
      abi::send_with_fds(vm.fd, &r, sizeof(r), nullptr, 0);
    } else if (type == abi::AttachMessageType::kContextRequest) {
      abi::ContextResponse r{};
      abi::fill_header(r, abi::AttachMessageType::kContextResponse);
      bool mine = std::find(vm.apps.begin(), vm.apps.end(), request.context.app_id) != vm.apps.end();
      r.status = mine ? 0 : -EPERM;
      if (mine) {
        r.context_id = static_cast<uint32_t>(contexts_.size());
        contexts_.push_back(fd);
      } else {
        ::close(fd);
      }
      context_answers.emplace_back(request.context.app_id, r.status);
      abi::send_with_fds(vm.fd, &r, sizeof(r), nullptr, 0);
    } else if (type == abi::AttachMessageType::kVmAppDetach) {
      detached_apps.push_back(request.app.app_id);
    }
    changed_.notify_all();
  }

  int listen_ = -1, control_ = -1, core_ = -1, stop_ = -1;
  std::vector<Vm> vms_;
  std::vector<int> contexts_;
  uint32_t next_app_id_ = 100;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread thread_;
};

// A guest proxy in client mode, running in its own thread.
class GuestThread {
 public:
  GuestThread(const std::string& ivshmem_socket, const std::string& app_socket) {
    auto t = ClientTransport::connect(ivshmem_socket, 5000);
    EXPECT_TRUE(t) << (t ? "" : t.error().message);
    if (!t) return;
    GuestProxyOptions options;
    options.socket_path = app_socket;
    auto p = GuestProxy::create(std::move(*t), options);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    if (!p) return;
    proxy_ = std::move(*p);
    thread_ = std::thread([this] { result_ = proxy_->run(); });
  }
  ~GuestThread() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    proxy_->stop();
    thread_.join();
    proxy_.reset();  // closes the ivshmem connection: the VM is gone
  }
  bool ok() const { return proxy_ != nullptr; }

 private:
  std::unique_ptr<GuestProxy> proxy_;
  std::thread thread_;
  Status result_;
};

// An app in the VM speaking the raw attach protocol to the guest proxy.
struct RawApp {
  int fd = -1;
  abi::AttachResponse response{};
  int fds[abi::kAttachMaxFds];
  int nfds = 0;
  ~RawApp() {
    if (fd >= 0) ::close(fd);
    for (int i = 0; i < nfds; ++i) ::close(fds[i]);
  }
  bool attach(const std::string& path) {
    fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
    abi::AttachRequest request{};
    abi::fill_header(request, abi::AttachMessageType::kAttachRequest);
    std::strcpy(request.name, "raw-app");
    if (abi::send_with_fds(fd, &request, sizeof(request), nullptr, 0) != 0) return false;
    if (!wait_readable(fd, 5000)) return false;
    nfds = abi::receive_with_fds(fd, &response, sizeof(response), fds, abi::kAttachMaxFds);
    return nfds >= 0;
  }
  // Returns the context eventfd (the app's), or -1.
  int context(abi::ContextResponse* out) {
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    abi::ContextRequest request{};
    abi::fill_header(request, abi::AttachMessageType::kContextRequest);
    request.app_id = 12345;  // ignored by the guest proxy: it knows who we are
    if (abi::send_with_fds(fd, &request, sizeof(request), &efd, 1) != 0) return -1;
    if (!wait_readable(fd, 5000)) return -1;
    if (abi::receive_with_fds(fd, out, sizeof(*out), nullptr, 0) < 0) return -1;
    return efd;
  }
};

class HostProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vtas-proxy-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fastpath_ = std::make_unique<FakeFastPath>(dir_ + "/app.sock");
    start_actor(base_config());
  }
  // The socket and the fake fast path in the test's directory, 16 MiB regions.
  HostProxyConfig base_config() const {
    HostProxyConfig config;
    config.socket_path = dir_ + "/ivshmem.sock";
    config.fastpath_socket = dir_ + "/app.sock";
    config.limits.region_size = 16ull << 20;
    return config;
  }
  // (Re)starts the actor under test with `config`.
  void start_actor(const HostProxyConfig& config) {
    if (io_) io_->stop();
    io_.reset();
    actor_ = std::make_unique<HostProxyActor>("proxy", config);
    io_ = std::make_unique<ActorThread>(*actor_);
    Status started = io_->start();
    ASSERT_TRUE(started) << started.error().message;
  }
  void TearDown() override {
    guests_.clear();
    if (io_) io_->stop();
    io_.reset();
    actor_.reset();
    fastpath_.reset();
    std::filesystem::remove_all(dir_);
  }
  GuestThread& start_guest(const std::string& name) {
    guests_.push_back(std::make_unique<GuestThread>(dir_ + "/ivshmem.sock", dir_ + "/" + name + "/app.sock"));
    return *guests_.back();
  }

  std::string dir_;
  std::unique_ptr<FakeFastPath> fastpath_;
  std::unique_ptr<HostProxyActor> actor_;
  std::unique_ptr<ActorThread> io_;
  std::vector<std::unique_ptr<GuestThread>> guests_;
};

TEST_F(HostProxyTest, AnAppAttachesThroughBothProxiesAndMapsItsSlice) {
  ASSERT_TRUE(start_guest("vm1").ok());
  RawApp app;
  ASSERT_TRUE(app.attach(dir_ + "/vm1/app.sock"));
  ASSERT_EQ(app.response.status, 0) << app.response.error;
  EXPECT_EQ(app.response.app_id, 100u);
  ASSERT_EQ(app.nfds, 3);  // region, control doorbell, one core doorbell
  EXPECT_EQ(app.response.region_offset, 2ull << 20);
  EXPECT_EQ(app.response.poll_interval_app_us, 7777u);  // the fast path's, through both proxies
  void* slice = ::mmap(nullptr, app.response.region_size, PROT_READ, MAP_SHARED, app.fds[0],
                       static_cast<off_t>(app.response.region_offset));
  ASSERT_NE(slice, MAP_FAILED);
  EXPECT_STREQ(static_cast<const char*>(slice), "slice of 100");  // the fast path's memory
  ::munmap(slice, app.response.region_size);
}

TEST_F(HostProxyTest, WakeUpsCrossBothWays) {
  ASSERT_TRUE(start_guest("vm1").ok());
  RawApp app;
  ASSERT_TRUE(app.attach(dir_ + "/vm1/app.sock"));
  abi::ContextResponse context{};
  int efd = app.context(&context);
  ASSERT_GE(efd, 0);
  ASSERT_EQ(context.status, 0) << context.error;
  // fast path -> app: the core rings the context's eventfd, the app's own eventfd fires.
  fastpath_->ring_last_context();
  EXPECT_TRUE(wait_readable(efd, 5000));
  // app -> fast path: the app rings its core doorbell, the fast path's core eventfd fires.
  shm::Doorbell core = shm::Doorbell::adopt(::dup(app.fds[2]));
  ASSERT_TRUE(core.ring());
  EXPECT_TRUE(wait_readable(fastpath_->core_doorbell(), 5000));
  shm::Doorbell control = shm::Doorbell::adopt(::dup(app.fds[1]));
  ASSERT_TRUE(control.ring());
  EXPECT_TRUE(wait_readable(fastpath_->control_doorbell(), 5000));
  ::close(efd);
}

TEST_F(HostProxyTest, AppsAndVmsThatLeaveAreReleased) {
  ASSERT_TRUE(start_guest("vm1").ok());
  {
    RawApp app;
    ASSERT_TRUE(app.attach(dir_ + "/vm1/app.sock"));
    ASSERT_EQ(app.response.status, 0);
  }  // the app closes its socket
  EXPECT_TRUE(fastpath_->wait([&] { return fastpath_->detached_apps == std::vector<uint32_t>{100}; }));
  guests_.front()->stop();  // the VM is gone: its fast-path link closes
  EXPECT_TRUE(fastpath_->wait([&] { return fastpath_->vms_closed == 1; }));
}

TEST_F(HostProxyTest, AGuestCannotNameAnotherVmsAppAndAHostileOneBreaksOnlyItself) {
  ASSERT_TRUE(start_guest("vm1").ok());
  RawApp victim;
  ASSERT_TRUE(victim.attach(dir_ + "/vm1/app.sock"));
  ASSERT_EQ(victim.response.status, 0);

  // A second "VM" whose guest is hostile: it drives the channel by hand.
  auto t = ClientTransport::connect(dir_ + "/ivshmem.sock", 5000);
  ASSERT_TRUE(t) << t.error().message;
  // It received exactly the host's doorbell and its own vector: no other VM's eventfds.
  EXPECT_EQ((*t)->peer_vector_counts(), (std::map<uint32_t, size_t>{{kHostPeerId, 1}}));
  auto channel = ChannelEndpoint::attach_guest((*t)->channel(), abi::kVmChannelBytes);
  ASSERT_TRUE(channel) << channel.error().message;
  ChannelMessage m;
  m.mutable_context_create()->set_request_id(1);
  m.mutable_context_create()->set_app_id(victim.response.app_id);
  ASSERT_TRUE(channel->send(m));
  ASSERT_TRUE((*t)->ring_host(kHostPeerId, 0));
  ChannelMessage answer;
  bool got = false;
  for (int i = 0; i < 500 && !got; ++i) {
    got = channel->receive(&answer);
    if (!got) std::this_thread::sleep_for(10ms);  // no doorbell wait: the test plays a guest that polls
  }
  ASSERT_TRUE(got);
  ASSERT_TRUE(answer.has_context_created());
  EXPECT_EQ(answer.context_created().status(), -EPERM);
  // The fast path was never even asked.
  EXPECT_TRUE(fastpath_->wait([&] { return fastpath_->context_answers.empty(); }, 0ms));

  // Now it writes garbage: a frame with an impossible length. It loses its service...
  ASSERT_TRUE(channel->send(m));
  uint32_t huge = 1u << 30;
  auto* ring = static_cast<uint8_t*>((*t)->channel()) + kGuestToHostRingOffset;
  auto* head = reinterpret_cast<uint32_t*>(ring + shm::kRingProducerOffset);
  uint32_t index = (*head - 1) & (kChannelRingCapacity - 1);
  std::memcpy(ring + shm::kRingEntriesOffset + index * shm::kRingEntrySize, &huge, sizeof(huge));
  ASSERT_TRUE((*t)->ring_host(kHostPeerId, 0));
  EXPECT_TRUE(fastpath_->wait([&] { return fastpath_->vms_closed == 1; }));
  // ...and the first VM's app keeps working.
  abi::ContextResponse context{};
  int efd = victim.context(&context);
  ASSERT_GE(efd, 0);
  EXPECT_EQ(context.status, 0) << context.error;
  ::close(efd);
  EXPECT_TRUE(fastpath_->wait([&] { return fastpath_->vms_closed == 1; }, 0ms));
}

TEST_F(HostProxyTest, TheSocketAndEachVmsRegionAreOwnerOnly) {
  struct stat sock {};
  ASSERT_EQ(::stat((dir_ + "/ivshmem.sock").c_str(), &sock), 0);
  EXPECT_TRUE(S_ISSOCK(sock.st_mode));
  EXPECT_EQ(sock.st_mode & 0777, 0600u);
  auto t = ClientTransport::connect(dir_ + "/ivshmem.sock", 5000);
  ASSERT_TRUE(t) << t.error().message;
  struct stat region {};
  ASSERT_EQ(::fstat((*t)->region_fd(), &region), 0);
  EXPECT_EQ(region.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<uint64_t>(region.st_size), 16ull << 20);
}

// With a socket group, a QEMU running as another user of that group can attach: the socket and
// the regions are 0660 and that group.
TEST_F(HostProxyTest, TheSocketAndEachVmsRegionTakeTheConfiguredGroup) {
  // Root may give files any group; anyone else may use their own.
  const gid_t gid = ::geteuid() == 0 ? 4242 : ::getegid();
  HostProxyConfig config = base_config();
  config.socket_group = std::to_string(gid);
  start_actor(config);
  struct stat sock {};
  ASSERT_EQ(::stat((dir_ + "/ivshmem.sock").c_str(), &sock), 0);
  EXPECT_EQ(sock.st_mode & 0777, 0660u);
  EXPECT_EQ(sock.st_gid, gid);
  auto t = ClientTransport::connect(dir_ + "/ivshmem.sock", 5000);
  ASSERT_TRUE(t) << t.error().message;
  struct stat region {};
  ASSERT_EQ(::fstat((*t)->region_fd(), &region), 0);
  EXPECT_EQ(region.st_mode & 0777, 0660u);
  EXPECT_EQ(region.st_gid, gid);
}

TEST_F(HostProxyTest, AnUnknownSocketGroupFailsTheStartWithItsName) {
  HostProxyConfig config = base_config();
  config.socket_group = "no-such-group-vt";
  io_->stop();
  io_.reset();
  HostProxyActor actor("proxy", config);
  ActorThread io(actor);
  Status started = io.start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("unknown group \"no-such-group-vt\""), std::string::npos)
      << started.error().message;
}

// The per-VM limits of a manifest's proxy_host settings, end to end through the guest proxy:
// a VM over a limit gets an error, and the other VM is served as before.
TEST_F(HostProxyTest, ManifestLimitsAreEnforcedPerVm) {
  auto loaded = load_manifest_text("runtime_dir: \"" + dir_ + "\"\n"
                                   "actor { name: \"proxy\" kind: \"proxy-host\"\n"
                                   "  proxy_host { region_size_mib: 16 max_vms: 2 max_apps: 2 max_contexts: 1 } }\n",
                                   "limits.txtpb", ManifestRules{});
  ASSERT_TRUE(loaded) << loaded.error().message;
  start_actor(host_proxy_config_from_manifest(*loaded, loaded->actor(0).proxy_host()));

  // max_vms: 2. The third is refused (its QEMU would fail to start its ivshmem device).
  ASSERT_TRUE(start_guest("vm1").ok());
  ASSERT_TRUE(start_guest("vm2").ok());
  auto third = ClientTransport::connect(dir_ + "/ivshmem.sock", 5000);
  EXPECT_FALSE(third) << "a third VM attached with max_vms: 2";
  EXPECT_EQ(fastpath_->vms_attached, 2);

  // max_apps: 2. VM 1's third app gets EMFILE; VM 2's apps attach as before.
  RawApp a1, a2, a3, b1, b2;
  ASSERT_TRUE(a1.attach(dir_ + "/vm1/app.sock"));
  ASSERT_TRUE(a2.attach(dir_ + "/vm1/app.sock"));
  ASSERT_TRUE(a3.attach(dir_ + "/vm1/app.sock"));
  EXPECT_EQ(a1.response.status, 0);
  EXPECT_EQ(a2.response.status, 0);
  EXPECT_EQ(a3.response.status, -EMFILE) << a3.response.error;
  ASSERT_TRUE(b1.attach(dir_ + "/vm2/app.sock"));
  ASSERT_TRUE(b2.attach(dir_ + "/vm2/app.sock"));
  EXPECT_EQ(b1.response.status, 0) << b1.response.error;
  EXPECT_EQ(b2.response.status, 0) << b2.response.error;

  // max_contexts: 1. VM 1's second context gets ENOSPC; VM 2 gets its first.
  abi::ContextResponse context{};
  int efd = a1.context(&context);
  ASSERT_GE(efd, 0);
  EXPECT_EQ(context.status, 0) << context.error;
  ::close(efd);
  efd = a2.context(&context);
  ASSERT_GE(efd, 0);
  EXPECT_EQ(context.status, -ENOSPC) << context.error;
  ::close(efd);
  efd = b1.context(&context);
  ASSERT_GE(efd, 0);
  EXPECT_EQ(context.status, 0) << context.error;
  ::close(efd);

  // The limits count what a VM holds now: once an app left, another one fits.
  ::close(a2.fd);
  a2.fd = -1;
  ASSERT_TRUE(fastpath_->wait([&] { return !fastpath_->detached_apps.empty(); }));
  RawApp a4;
  ASSERT_TRUE(a4.attach(dir_ + "/vm1/app.sock"));
  EXPECT_EQ(a4.response.status, 0) << a4.response.error;
}

// A guest that says things no honest guest proxy says, then writes garbage over the ring: the
// nonsense is counted and ignored, the garbage costs that VM its service, and every other VM
// (and the actor) carries on.
TEST_F(HostProxyTest, GarbageInTheControlRingCostsOnlyThatVm) {
  ASSERT_TRUE(start_guest("vm1").ok());
  RawApp victim;
  ASSERT_TRUE(victim.attach(dir_ + "/vm1/app.sock"));
  ASSERT_EQ(victim.response.status, 0);

  auto exchange = [](ClientTransport& t, ChannelEndpoint& channel, const ChannelMessage& m,
                     ChannelMessage* answer) {
    if (!channel.send(m) || !t.ring_host(kHostPeerId, 0)) return false;
    for (int i = 0; i < 500; ++i) {
      if (channel.receive(answer)) return true;
      std::this_thread::sleep_for(10ms);  // the test plays a guest that polls
    }
    return false;
  };
  int broken_vms = 0;
  // Three hostile VMs, one kind of garbage each.
  for (int kind = 0; kind < 3; ++kind) {
    auto t = ClientTransport::connect(dir_ + "/ivshmem.sock", 5000);
    ASSERT_TRUE(t) << t.error().message;
    auto channel = ChannelEndpoint::attach_guest((*t)->channel(), abi::kVmChannelBytes);
    ASSERT_TRUE(channel) << channel.error().message;
    // Well-formed nonsense: a core that does not exist, host->guest messages sent the wrong way,
    // an empty message, detaches and contexts of apps that are not this VM's.
    std::vector<ChannelMessage> nonsense(6);
    nonsense[0].mutable_wake_core()->set_core(1u << 31);
    nonsense[1].mutable_app_attached()->set_app_id(victim.response.app_id);
    nonsense[2].mutable_service_reset()->set_reason("not yours to say");
    nonsense[4].mutable_app_detach()->set_app_id(0xffffffffu);
    nonsense[5].mutable_context_created()->set_wake_id(1);
    for (const ChannelMessage& m : nonsense) ASSERT_TRUE(channel->send(m));
    // The channel still works: an app attach is answered.
    ChannelMessage attach, answer;
    attach.mutable_app_attach()->set_request_id(9);
    attach.mutable_app_attach()->set_name(std::string(40, '\x01'));  // unprintable: cleaned for logs
    ASSERT_TRUE(exchange(**t, *channel, attach, &answer));
    ASSERT_TRUE(answer.has_app_attached()) << answer.DebugString();
    EXPECT_EQ(answer.app_attached().status(), 0) << answer.app_attached().error();
    EXPECT_NE(answer.app_attached().app_id(), victim.response.app_id);

    // Now garbage over the ring itself.
    auto* ring = static_cast<uint8_t*>((*t)->channel()) + kGuestToHostRingOffset;
    auto* head = reinterpret_cast<uint32_t*>(ring + shm::kRingProducerOffset);
    const uint32_t tail = *reinterpret_cast<uint32_t*>(ring + shm::kRingConsumerOffset);
    if (kind == 0) {  // bytes that are no frame
      std::memset(ring + shm::kRingEntriesOffset, 0xee, kChannelRingCapacity * shm::kRingEntrySize);
      *head = tail + 4;
    } else if (kind == 1) {  // a head no producer could have written
      *head = tail + kChannelRingCapacity * 7;
    } else {  // a frame claiming more entries than were published
      const uint32_t claimed = 900;
      std::memcpy(ring + shm::kRingEntriesOffset + (tail % kChannelRingCapacity) * shm::kRingEntrySize, &claimed,
                  sizeof(claimed));
      *head = tail + 1;
    }
    ASSERT_TRUE((*t)->ring_host(kHostPeerId, 0));
    ++broken_vms;
    EXPECT_TRUE(fastpath_->wait([&] { return fastpath_->vms_closed == broken_vms; })) << "garbage kind " << kind;
    // The first VM's app keeps being served.
    abi::ContextResponse context{};
    int efd = victim.context(&context);
    ASSERT_GE(efd, 0);
    EXPECT_EQ(context.status, 0) << context.error;
    ::close(efd);
  }
}

TEST_F(HostProxyTest, GuestRequestsAreTracedWithTheirVm) {
  ASSERT_TRUE(start_guest("vm1").ok());
  RawApp app;
  ASSERT_TRUE(app.attach(dir_ + "/vm1/app.sock"));
  ASSERT_EQ(app.response.status, 0);
  guests_.clear();
  io_->stop();
  int attaches = 0, connects = 0;
  for (const Envelope& e : io_->sent) {
    if (e.has_proxy_guest_message() && e.proxy_guest_message().message().has_app_attach()) {
      ++attaches;
      EXPECT_EQ(e.proxy_guest_message().vm_id(), 1u);
      EXPECT_EQ(e.proxy_guest_message().message().app_attach().name(), "raw-app");
    }
    if (e.has_proxy_vm_event() && e.proxy_vm_event().kind() == VM_EVENT_KIND_CONNECTED) ++connects;
  }
  EXPECT_EQ(attaches, 1);
  EXPECT_EQ(connects, 1);
}

TEST_F(HostProxyTest, NoFastPathMeansTheVmIsRefused) {
  fastpath_.reset();  // nothing listens on app.sock any more
  std::filesystem::remove(dir_ + "/app.sock");
  auto t = ClientTransport::connect(dir_ + "/ivshmem.sock", 5000);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("closed the connection"), std::string::npos) << t.error().message;
}

}  // namespace
}  // namespace vtas::proxy
