#include "tests/long/impairments.h"

#include <algorithm>
#include <iostream>

namespace vtas::testing {

double ImpairmentFixture::transfer_under(const std::vector<std::string>& relay_options,
                                         uint64_t bytes, std::chrono::seconds bound) {
  start_relayed(relay_options);
  if (HasFatalFailure()) return 0;
  spawn_app({"serve", "7200", "--echo"}, "server");
  EXPECT_TRUE(wait_output("server", "listening")) << output("server.err");
  spawn_peer({"sink-server", "9200", "--count", "1"}, "sink");
  EXPECT_TRUE(wait_output("sink", "listening")) << output("sink.err");
  if (HasFailure()) return 0;

  const auto t0 = std::chrono::steady_clock::now();
  const pid_t echo =
      spawn_peer({"echo-client", vtas_ip(), "7200", std::to_string(bytes)}, "client");
  const pid_t send =
      spawn_app({"connect", peer_ip(), "9200", "--bytes", std::to_string(bytes)}, "sender");
  // Both must end within the bound; a stalled connection shows up as a timeout here.
  const auto deadline = t0 + bound;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
  };
  double echo_s = 0, send_s = 0;
  const int send_code = wait_pid(send, std::max(left(), std::chrono::milliseconds(1)));
  send_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int echo_code = wait_pid(echo, std::max(left(), std::chrono::milliseconds(1)));
  echo_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(send_code, 0) << "vtas -> Linux did not finish within " << bound.count()
                          << " s: " << output("sender") << output("sender.err");
  EXPECT_EQ(echo_code, 0) << "Linux -> vtas -> Linux did not finish within " << bound.count()
                          << " s: " << output("client") << output("client.err");

  // Linux -> vtas: the client checked the echo byte for byte; the server hashed what it got.
  EXPECT_NE(output("client").find("echo ok bytes=" + std::to_string(bytes)), std::string::npos)
      << output("client");
  EXPECT_TRUE(wait_output("server", "closed bytes=", std::chrono::seconds(10))) << output("server");
  EXPECT_EQ(key_values(output("server"), "sha256"), key_values(output("client"), "sha256"));
  // vtas -> Linux: the sink hashed what the sender sent.
  EXPECT_TRUE(
      wait_output("sink", "closed bytes=" + std::to_string(bytes), std::chrono::seconds(10)))
      << output("sink");
  EXPECT_EQ(key_values(output("sink"), "sha256"), key_values(output("sender"), "sha256"));
  EXPECT_EQ(key_values(output("sink"), "sha256").size(), 1u);

  const std::string stats = relayed_->relay_stats();
  std::cout << "impairment: options=";
  for (const auto& o : relay_options) std::cout << o << " ";
  std::cout << "bytes=" << bytes << " vtas_to_linux_s=" << send_s << " linux_echo_s=" << echo_s
            << "\n"
            << stats << "\n";
  return std::max(send_s, echo_s);
}

}  // namespace vtas::testing
