// The service end of the attach protocol (components/fastpath/app_manager.cc) as apps meet
// it: clients speaking the raw protocol (abi/attach_protocol.h) against a real AppManager,
// driven on the test thread, with no fast-path cores and no DPDK. Checks what an app learns at
// attach (--fp-poll-interval-app) and that a silent client never holds up the others.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "components/fastpath/abi/attach_protocol.h"
#include "components/fastpath/abi/fd_passing.h"
#include "components/fastpath/app_manager.h"
#include "clientlib/tests/raw_attach.h"

namespace vtas::fastpath {
namespace {

using Clock = std::chrono::steady_clock;

class AttachServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vtas-attach-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    doorbell_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_GE(doorbell_, 0);
    AppManagerConfig c;
    c.socket_path = dir_ + "/app.sock";
    c.region_size = 4ull << 20;
    c.num_cores = 1;
    c.kin_capacity = c.kout_capacity = c.arx_capacity = c.atx_capacity = 64;
    c.core_doorbell_fds = {doorbell_};
    c.control_doorbell_fd = doorbell_;
    c.poll_interval_app_us = 1234;
    c.max_pending_clients = 2;
    c.pending_timeout = std::chrono::milliseconds(500);
    AppManager::Hooks hooks;
    hooks.watch_app_socket = [this](int fd, uint32_t) { watched_[fd] = "app"; };
    hooks.watch_vm_socket = [this](int fd, uint32_t) { watched_[fd] = "vm"; };
    hooks.watch_pending_client = [this](int fd) { watched_[fd] = "pending"; };
    hooks.unwatch = [this](int fd) { watched_.erase(fd); };
    hooks.attached = [](AppManager::App&) {};
    hooks.detaching = [this](AppManager::App& app) { detaching_.push_back(app.id); };
    hooks.context_created = [](AppManager::App&, AppManager::Context&) {};
    manager_ = std::make_unique<AppManager>(std::move(c), std::move(hooks));
    ASSERT_TRUE(manager_->listen());
  }

  void TearDown() override {
    for (int fd : clients_) ::close(fd);
    manager_.reset();  // closes its sockets and removes app.sock
    if (doorbell_ >= 0) ::close(doorbell_);
    EXPECT_EQ(::rmdir(dir_.c_str()), 0) << dir_ << ": " << std::strerror(errno);
  }

  // A connected client (closed in TearDown). Connecting completes at once: the listen
  // backlog takes it before the manager accepts.
  int connect_client() {
    int fd = vtas::testing::connect_attach_socket(dir_ + "/app.sock");
    EXPECT_GE(fd, 0) << std::strerror(errno);
    clients_.push_back(fd);
    return fd;
  }

  static void send_attach_request(int fd) { ASSERT_EQ(vtas::testing::send_attach_request(fd), 0); }

  // The response waiting on `fd` (does not block: fails when none is there).
  static abi::AttachResponse take_response(int fd) {
    abi::AttachResponse response{};
    int fds[abi::kAttachMaxFds];
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 1) << "no answer waiting";
    int got = abi::receive_with_fds(fd, &response, sizeof(response), fds, abi::kAttachMaxFds);
    EXPECT_GE(got, 0) << std::strerror(-got);
    for (int i = 0; i < got; ++i) ::close(fds[i]);
    return response;
  }

  static bool closed_by_service(int fd) {
    char byte;
    return ::recv(fd, &byte, 1, MSG_DONTWAIT) == 0;
  }

  std::string dir_;
  int doorbell_ = -1;
  std::unique_ptr<AppManager> manager_;
  std::map<int, std::string> watched_;  // what the actor would be polling
  std::vector<uint32_t> detaching_;
  std::vector<int> clients_;
};

TEST_F(AttachServerTest, TheResponseCarriesThePollIntervalForApps) {
  int client = connect_client();
  send_attach_request(client);
  manager_->accept_pending();
  abi::AttachResponse response = take_response(client);
  EXPECT_EQ(response.status, 0) << response.error;
  EXPECT_EQ(response.poll_interval_app_us, 1234u);
  EXPECT_EQ(manager_->app_count(), 1u);
}

TEST_F(AttachServerTest, ASilentClientDoesNotHoldUpAnAttach) {
  int silent = connect_client();
  int app = connect_client();
  send_attach_request(app);
  const auto start = Clock::now();
  manager_->accept_pending();  // the control thread's work for both connections
  const auto took = Clock::now() - start;
  // The answer is the readiness signal: it is there when accept_pending() returns.
  abi::AttachResponse response = take_response(app);
  EXPECT_EQ(response.status, 0) << response.error;
  EXPECT_LT(took, std::chrono::milliseconds(100)) << "the control thread blocked";
  EXPECT_EQ(manager_->pending_client_count(), 1u);

  // The silent client speaks later: answered when its socket turns readable.
  int pending_fd = -1;
  for (const auto& [fd, what] : watched_) {
    if (what == "pending") pending_fd = fd;
  }
  ASSERT_GE(pending_fd, 0) << "the pending client is watched";
  send_attach_request(silent);
  manager_->on_pending_client(pending_fd);
  EXPECT_EQ(take_response(silent).status, 0);
  EXPECT_EQ(manager_->pending_client_count(), 0u);
  EXPECT_EQ(manager_->app_count(), 2u);
  EXPECT_EQ(watched_.at(pending_fd), "app") << "the same fd, now an app's socket";
}

TEST_F(AttachServerTest, ASilentClientIsDroppedAfterTheTimeout) {
  int silent = connect_client();
  manager_->accept_pending();
  EXPECT_EQ(manager_->pending_client_count(), 1u);
  manager_->expire_pending_clients(Clock::now() + std::chrono::milliseconds(100));
  EXPECT_EQ(manager_->pending_client_count(), 1u) << "not before its time";
  manager_->expire_pending_clients(Clock::now() + std::chrono::seconds(1));
  EXPECT_EQ(manager_->pending_client_count(), 0u);
  EXPECT_EQ(manager_->pending_clients_dropped(), 1u);
  EXPECT_TRUE(closed_by_service(silent));
  EXPECT_TRUE(watched_.empty()) << "no longer watched";
}

TEST_F(AttachServerTest, PendingClientsAreBoundedByDroppingTheOldest) {
  int first = connect_client();
  manager_->accept_pending();
  connect_client();
  connect_client();
  manager_->accept_pending();
  EXPECT_EQ(manager_->pending_client_count(), 2u) << "max_pending_clients";
  EXPECT_EQ(manager_->pending_clients_dropped(), 1u);
  EXPECT_TRUE(closed_by_service(first)) << "the oldest went";
}

TEST_F(AttachServerTest, AClientThatHangsUpWhilePendingIsForgotten) {
  int client = connect_client();
  manager_->accept_pending();
  ASSERT_EQ(watched_.size(), 1u);
  const int fd = watched_.begin()->first;
  ::shutdown(client, SHUT_RDWR);
  manager_->on_pending_client(fd);
  EXPECT_EQ(manager_->pending_client_count(), 0u);
  EXPECT_EQ(manager_->app_count(), 0u);
  EXPECT_TRUE(watched_.empty());
}

}  // namespace
}  // namespace vtas::fastpath
