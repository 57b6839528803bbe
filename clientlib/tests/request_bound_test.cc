// The fast path's bound on an app's unanswered control requests (FastPathActor::
// FastPathConfig::max_unanswered_per_app): a real FastPathActor on an in-memory port, driven by the
// deterministic TestRunner, and an app speaking the raw attach protocol and writing its kout
// ring directly, as a hostile app could. conn never answers (it is down or slow), so without
// the bound the actor's list of requests to resend would grow with every request.
// The same set-up checks that RemoveFlow / FlowQuery naming another connection than the one
// now holding the flow id are refused (a stale conn record must not reset a new connection).
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "components/fastpath/abi/app_abi.h"
#include "components/fastpath/abi/attach_protocol.h"
#include "components/fastpath/abi/fd_passing.h"
#include "components/fastpath/fastpath_actor.h"
#include "components/fastpath/memory_port.h"
#include "clientlib/tests/raw_attach.h"
#include "runtime/shm/spsc_ring.h"
#include "tests/support/test_runner.h"

namespace vtas::fastpath {
namespace {

constexpr uint32_t kBound = 1024;  // FastPathConfig::max_unanswered_per_app, set below
constexpr uint32_t kRingEntries = 2048;

// The server side of the attach socket at `path` in this process: the listening socket, or
// the accepted connection. The test plays both ends in one thread, so it finds the actor's
// fds by their bound address instead of asking the actor.
int find_server_socket(const std::string& path, bool listening) {
  int found = -1;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::stoi(entry.path().filename().string());
    sockaddr_un addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sun_family != AF_UNIX ||
        len <= offsetof(sockaddr_un, sun_path) || path != addr.sun_path) {
      continue;
    }
    int accepting = 0;
    socklen_t alen = sizeof(accepting);
    ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &alen);
    if ((accepting != 0) == listening) found = fd;
  }
  return found;
}

class RequestBoundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vtas-bound-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    FastPathConfig c;
    c.runtime_dir = dir_;
    c.cores = 1;
    c.hugepages = false;
    c.max_flows = 1024;
    c.max_unanswered_per_app = kBound;
    c.kin_entries = kRingEntries;
    c.kout_entries = kRingEntries;
    c.app_region_size = 16ull << 20;
    c.local_ip.value = 0x0a000001;
    actor_ = std::make_unique<FastPathActor>("fastpath", c,
                                             std::make_unique<MemoryPort>(wire::MacAddr{{2, 0, 0, 0, 0, 1}}));
    runner_ = std::make_unique<vtas::testing::TestRunner>(*actor_);
    ASSERT_TRUE(runner_->start());
    attach();
  }

  void TearDown() override {
    if (client_ >= 0) ::close(client_);
    if (evfd_ >= 0) ::close(evfd_);
    if (region_ != nullptr) ::munmap(region_, region_size_);
    runner_.reset();
    actor_.reset();  // stops the cores, removes app.sock
    std::filesystem::remove_all(dir_);
  }

  void attach() {
    const std::string path = dir_ + "/app.sock";
    client_ = vtas::testing::connect_attach_socket(path);
    ASSERT_GE(client_, 0) << std::strerror(errno);
    ASSERT_EQ(vtas::testing::send_attach_request(client_), 0);
    ASSERT_TRUE(runner_->fire_fd(find_server_socket(path, true)));
    abi::AttachResponse response{};
    int fds[abi::kAttachMaxFds];
    int got = abi::receive_with_fds(client_, &response, sizeof(response), fds, abi::kAttachMaxFds);
    ASSERT_EQ(got, 3) << "region, control doorbell, one core doorbell";
    ASSERT_EQ(response.status, 0) << response.error;
    region_size_ = response.region_size;
    region_ = static_cast<uint8_t*>(::mmap(nullptr, region_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0));
    for (int fd : fds) ::close(fd);
    ASSERT_NE(region_, MAP_FAILED);

    abi::ContextRequest context{};
    context.magic = abi::kAttachMagic;
    context.version = abi::kAttachVersion;
    context.type = static_cast<uint32_t>(abi::AttachMessageType::kContextRequest);
    evfd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_EQ(abi::send_with_fds(client_, &context, sizeof(context), &evfd_, 1), 0);
    ASSERT_TRUE(runner_->fire_fd(find_server_socket(path, false)));
    abi::ContextResponse answer{};
    ASSERT_EQ(abi::receive_with_fds(client_, &answer, sizeof(answer), nullptr, 0), 0);
    ASSERT_EQ(answer.status, 0) << answer.error;
    auto layout = abi::queue_block_layout(1, kRingEntries, kRingEntries, 4096, 4096);
    uint8_t* block = region_ + answer.queue_block;
    auto kout = shm::RingProducer<abi::AppRequest>::attach(block + layout.kout, shm::ring_bytes(kRingEntries),
                                                           kRingEntries, "test kout");
    auto kin = shm::RingConsumer<abi::AppEvent>::attach(block + layout.kin, shm::ring_bytes(kRingEntries),
                                                        kRingEntries, "test kin");
    ASSERT_TRUE(kout) << kout.error().message;
    ASSERT_TRUE(kin) << kin.error().message;
    kout_.emplace(std::move(*kout));
    kin_.emplace(std::move(*kin));
    app_id_ = response.app_id;
  }

  void listen_request(uint32_t request_id) {
    abi::AppRequest r{};
    r.type = static_cast<uint8_t>(abi::AppRequestType::kListenOpen);
    r.request_id = request_id;
    r.opaque = 0x1000 + request_id;
    r.local_port = htons(static_cast<uint16_t>(1000 + request_id));
    r.backlog = 8;
    ASSERT_TRUE(kout_->try_push(r));
  }

  // Lets the control thread drain the kout ring (its periodic drain; no doorbell needed).
  void drain() {
    for (int i = 0; i < 20; ++i) runner_->advance(std::chrono::milliseconds(100));
  }

  uint64_t counter(const std::string& name) {
    supervisor::StatsReport report;
    actor_->fill_stats(&report);
    for (const auto& c : report.counters()) {
      if (c.name() == name) return c.value();
    }
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }

  std::string dir_;
  std::unique_ptr<FastPathActor> actor_;
  std::unique_ptr<vtas::testing::TestRunner> runner_;
  int client_ = -1;
  int evfd_ = -1;
  uint8_t* region_ = nullptr;
  uint64_t region_size_ = 0;
  uint32_t app_id_ = 0;
  std::optional<shm::RingProducer<abi::AppRequest>> kout_;
  std::optional<shm::RingConsumer<abi::AppEvent>> kin_;
};

TEST_F(RequestBoundTest, RequestsBeyondTheBoundAreAnsweredAtOnceWithENOBUFS) {
  constexpr uint32_t kExtra = 76;
  for (uint32_t id = 1; id <= kBound + kExtra; ++id) listen_request(id);
  drain();
  EXPECT_EQ(runner_->sent_of<AppRequestIn>("conn").size(), kBound) << "relayed up to the bound";
  EXPECT_EQ(counter("unanswered_app_requests"), kBound);
  EXPECT_EQ(counter("app_requests_refused"), kExtra);
  uint32_t refused = 0;
  abi::AppEvent e;
  while (kin_->try_pop(e)) {
    EXPECT_EQ(e.type, static_cast<uint8_t>(abi::AppEventType::kListenOpened));
    EXPECT_EQ(e.status, -ENOBUFS);
    EXPECT_EQ(e.request_id, kBound + 1 + refused) << "the requests past the bound, in order";
    EXPECT_EQ(e.opaque, 0x1000u + e.request_id) << "the app's cookie comes back";
    ++refused;
  }
  EXPECT_EQ(refused, kExtra);

  // An answer from conn frees a place: the next request is relayed again.
  AppNotify answer;
  answer.set_app_id(app_id_);
  answer.set_context_id(0);
  answer.set_type(AppNotify::TYPE_LISTEN_OPENED);
  answer.set_request_id(1);
  runner_->deliver_event("conn", answer);
  listen_request(kBound + kExtra + 1);
  drain();
  EXPECT_EQ(runner_->sent_of<AppRequestIn>("conn").size(), kBound + 1);
  EXPECT_EQ(counter("app_requests_refused"), kExtra);
}

TEST_F(RequestBoundTest, TheBoundIsFreedWhenTheAppDetaches) {
  for (uint32_t id = 1; id <= kBound; ++id) listen_request(id);
  drain();
  EXPECT_EQ(counter("unanswered_app_requests"), kBound);
  ::close(client_);
  client_ = -1;
  ASSERT_TRUE(runner_->fire_fd(find_server_socket(dir_ + "/app.sock", false)));
  EXPECT_EQ(counter("unanswered_app_requests"), 0u);
}

TEST_F(RequestBoundTest, RequestsAboutAReusedFlowIdLeaveItsNewOwnerAlone) {
  InstallFlow install;
  install.set_app_id(app_id_);
  install.set_context_id(0);
  install.set_local_ip(0x0a000001);
  install.set_remote_ip(0x0a000002);
  install.set_local_port(80);
  install.set_remote_port(40000);
  install.set_remote_mac(std::string(6, '\x02'));
  install.set_mss(1448);
  runner_->deliver_request("conn", install);
  ASSERT_FALSE(runner_->replies.empty());
  ASSERT_TRUE(runner_->replies.back().flow_installed().ok()) << runner_->replies.back().DebugString();
  const uint32_t flow = runner_->replies.back().flow_installed().flow_id();
  auto query = [&](uint32_t remote_port) {
    FlowQuery q;
    q.set_flow_id(flow);
    q.mutable_expect()->set_remote_ip(0x0a000002);
    q.mutable_expect()->set_local_port(80);
    q.mutable_expect()->set_remote_port(remote_port);
    runner_->deliver_request("conn", q);
    return runner_->replies.back().flow_info().ok();
  };
  EXPECT_TRUE(query(40000));
  EXPECT_FALSE(query(39999)) << "an older connection's query: its flow is gone";
  RemoveFlow stale;
  stale.set_flow_id(flow);
  stale.set_send_reset(true);
  stale.mutable_expect()->set_remote_ip(0x0a000002);
  stale.mutable_expect()->set_local_port(80);
  stale.mutable_expect()->set_remote_port(39999);
  runner_->deliver_request("conn", stale);
  EXPECT_FALSE(runner_->replies.back().ack().ok());
  EXPECT_EQ(counter("stale_flow_requests"), 2u);
  EXPECT_TRUE(query(40000)) << "still installed";
  RemoveFlow current = stale;
  current.mutable_expect()->set_remote_port(40000);
  runner_->deliver_request("conn", current);
  EXPECT_TRUE(runner_->replies.back().ack().ok());
}

}  // namespace
}  // namespace vtas::fastpath
