// Runs examples/echo_server as a child process against the fake service and plays one
// connection through it: listen, accept, data (wrapping the buffers), the peer's FIN, the
// echo's FIN, close, then SIGTERM for a clean exit. Proves the example (and the library as a
// separate process sees it) works end to end over real shared memory and eventfds.
#include <arpa/inet.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "clientlib/tests/client_fixture.h"

extern char** environ;

namespace vtas::client::testing {
namespace {

constexpr int kTimeoutMs = 10000;

class EchoExampleTest : public RuntimeDirTest {
 protected:
  void SetUp() override {
    RuntimeDirTest::SetUp();
    FakeServiceOptions options;
    options.num_cores = 1;
    start_service(options);
    char* argv[] = {const_cast<char*>(VTAS_ECHO_SERVER), const_cast<char*>("7"), nullptr};
    ASSERT_EQ(::posix_spawn(&child_, VTAS_ECHO_SERVER, nullptr, nullptr, argv, environ), 0);
  }
  void TearDown() override {
    if (child_ > 0) {  // only when the test failed half way
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    RuntimeDirTest::TearDown();
  }

  // The next control request, waiting for the app to ring the control doorbell.
  abi::AppRequest next_request(FakeContext& f) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
    for (;;) {
      if (auto request = f.pop_request()) return *request;
      if (std::chrono::steady_clock::now() > deadline) break;
      service_->control_doorbell().wait(100);
      service_->control_doorbell().drain();
    }
    ADD_FAILURE() << "the echo server sent no request";
    return {};
  }

  // Bumps on atx ring 0 until they add up to `tx` and `rx` bytes and carry `flags`, sleeping
  // on the core doorbell as a fast-path core does. (The server may split an echo in two
  // when it wraps around a buffer.)
  std::vector<abi::AtxEntry> bumps(FakeContext& f, uint32_t tx, uint32_t rx, uint8_t flags = 0) {
    std::vector<abi::AtxEntry> got;
    uint32_t tx_sum = 0, rx_sum = 0;
    uint8_t flag_sum = 0;
    auto done = [&] { return tx_sum >= tx && rx_sum >= rx && (flag_sum & flags) == flags; };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      while (auto bump = f.pop_bump(0)) {
        got.push_back(*bump);
        tx_sum += bump->tx_bump;
        rx_sum += bump->rx_bump;
        flag_sum |= bump->flags;
      }
      if (done()) break;
      if (f.atx[0].prepare_sleep()) {
        service_->core_doorbell(0).wait(100);
        service_->core_doorbell(0).drain();
      }
      f.atx[0].finish_sleep();
    }
    EXPECT_EQ(tx_sum, tx) << "tx bytes bumped by the echo server";
    EXPECT_EQ(rx_sum, rx) << "rx bytes released by the echo server";
    EXPECT_EQ(flag_sum, flags);
    return got;
  }

  pid_t child_ = -1;
};

TEST_F(EchoExampleTest, EchoesAConnectionAndExitsCleanly) {
  FakeContext* f = service_->wait_for_context(0, kTimeoutMs);
  ASSERT_NE(f, nullptr) << "the echo server did not attach";

  abi::AppRequest listen = next_request(*f);
  ASSERT_EQ(listen.type, static_cast<uint8_t>(abi::AppRequestType::kListenOpen));
  EXPECT_EQ(listen.local_port, htons(7));
  abi::AppEvent opened{};
  opened.type = static_cast<uint8_t>(abi::AppEventType::kListenOpened);
  opened.request_id = listen.request_id;
  opened.opaque = listen.opaque;
  opened.listener_id = 1;
  ASSERT_TRUE(f->push_kin(opened));

  abi::AppRequest accept = next_request(*f);
  ASSERT_EQ(accept.type, static_cast<uint8_t>(abi::AppRequestType::kAccept));
  const uint32_t kLen = 16;  // small buffers: the echo wraps around both
  abi::AppEvent accepted{};
  accepted.type = static_cast<uint8_t>(abi::AppEventType::kAccepted);
  accepted.opaque = accept.opaque;
  accepted.flow_id = 42;
  accepted.listener_id = 1;
  accepted.rx_buffer = service_->allocate(kLen);
  accepted.tx_buffer = service_->allocate(kLen);
  accepted.rx_len = accepted.tx_len = kLen;
  accepted.remote_ip = htonl(0x0a000002);
  accepted.remote_port = htons(40000);
  ASSERT_TRUE(f->push_kin(accepted));
  EXPECT_EQ(next_request(*f).type, static_cast<uint8_t>(abi::AppRequestType::kAccept))
      << "the server posts the next accept";

  // Three rounds of 10 bytes through 16-byte buffers; each is acknowledged before the next.
  uint32_t rx_pos = 0, tx_pos = 0, rx_stream = 0;
  uint16_t last_seq = 0;
  for (char round = 'a'; round < 'd'; ++round) {
    const std::string data(10, round);
    for (size_t i = 0; i < data.size(); ++i) {
      service_->at(accepted.rx_buffer)[(rx_pos + i) % kLen] = static_cast<uint8_t>(data[i]);
    }
    abi::ArxEntry in{};
    in.type = 1;
    in.flow_id = 42;
    in.opaque = accept.opaque;
    rx_pos = (rx_pos + 10) % kLen;
    rx_stream += 10;
    in.rx_end_pos = rx_pos;  // the stream now ends 10 bytes further
    in.rx_stream_end = rx_stream;
    ASSERT_TRUE(f->push_arx(0, in));

    for (const abi::AtxEntry& b : bumps(*f, 10, 10)) {
      EXPECT_EQ(b.flow_id, 42u);
      EXPECT_EQ(b.bump_seq, static_cast<uint16_t>(last_seq + 1)) << "in sequence";
      last_seq = b.bump_seq;
    }
    std::string echoed;
    for (uint32_t i = 0; i < 10; ++i) {
      echoed += static_cast<char>(service_->at(accepted.tx_buffer)[(tx_pos + i) % kLen]);
    }
    EXPECT_EQ(echoed, data);
    tx_pos = (tx_pos + 10) % kLen;
    abi::ArxEntry ack{};
    ack.type = 1;
    ack.flow_id = 42;
    ack.opaque = accept.opaque;
    ack.rx_end_pos = rx_pos;
    ack.rx_stream_end = rx_stream;
    ack.tx_bump = 10;
    ASSERT_TRUE(f->push_arx(0, ack));
  }

  abi::ArxEntry fin{};
  fin.type = 1;
  fin.flow_id = 42;
  fin.opaque = accept.opaque;
  fin.flags = abi::kArxRxFin;
  fin.rx_end_pos = rx_pos;
  fin.rx_stream_end = rx_stream;
  ASSERT_TRUE(f->push_arx(0, fin));
  // The server closes its side once everything was echoed.
  EXPECT_EQ(bumps(*f, 0, 0, abi::kAtxTxFin).size(), 1u);

  fin.flags = abi::kArxTxFinAcked;
  ASSERT_TRUE(f->push_arx(0, fin));
  abi::AppRequest close = next_request(*f);
  ASSERT_EQ(close.type, static_cast<uint8_t>(abi::AppRequestType::kConnClose));
  EXPECT_EQ(close.flow_id, 42u);
  EXPECT_EQ(close.flags, 0) << "graceful";
  abi::AppEvent closed{};
  closed.type = static_cast<uint8_t>(abi::AppEventType::kConnClosed);
  closed.request_id = close.request_id;
  closed.opaque = close.opaque;
  ASSERT_TRUE(f->push_kin(closed));

  ASSERT_EQ(::kill(child_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child_, &status, 0), child_);
  child_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_TRUE(service_->wait_detached(kTimeoutMs)) << "vtas_fini closed the attach socket";
}

}  // namespace
}  // namespace vtas::client::testing
