// Test fixtures for libvtas: a temporary runtime directory (VTAS_RUNTIME_DIR) with a
// FakeService on it, an attached library with one context, and helpers that play the
// service's part of common exchanges (answer a listen, accept a connection, deliver data).
// Used by every clientlib test file.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "clientlib/tests/fake_service.h"
#include "vtas/tas_ll.h"

namespace vtas::client::testing {

// A temporary runtime directory, exported as VTAS_RUNTIME_DIR; no service, not attached.
class RuntimeDirTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts a fake service in the runtime directory.
  void start_service(FakeServiceOptions options = {});

  std::string dir_;
  std::unique_ptr<FakeService> service_;
};

// The service side of one connection, as the tests drive it.
struct FakeFlow {
  FakeContext* context = nullptr;
  uint32_t flow_id = 0;
  uint64_t cookie = 0;
  uint64_t rx_buffer = 0, tx_buffer = 0;
  uint32_t rx_len = 0, tx_len = 0;
  uint16_t core = 0;
  uint32_t rx_pos = 0;  // where the service writes the next received byte
  uint32_t rx_stream = 0;  // bytes delivered since open (ArxEntry::rx_stream_end)
};

struct FlowOptions {
  uint32_t rx_len = 4096;
  uint32_t tx_len = 4096;
  uint16_t core = 0;
  uint32_t remote_ip = 0x0a000002;  // 10.0.0.2, host order
  uint16_t remote_port = 40000;
};

// Attached, with one context (ctx_) whose service side is fake(0).
class ClientTest : public RuntimeDirTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  virtual FakeServiceOptions service_options() { return {}; }

  // Creates another context (destroyed in TearDown).
  flextcp_context& add_context();
  FakeContext& fake(uint32_t context_id = 0);

  // Polls until nothing more comes (at most `max` events per call).
  std::vector<flextcp_event> poll(flextcp_context& ctx, int max = 64);
  std::vector<flextcp_event> poll() { return poll(ctx_); }
  // The next kout request of a context; fails the test if there is none.
  abi::AppRequest pop_request(FakeContext& fake);
  // The next atx bump on a core; fails the test if there is none.
  abi::AtxEntry pop_bump(FakeContext& fake, uint32_t core);
  vtas_context_stats stats(flextcp_context& ctx);

  // listen_open + the service's answer + the LISTEN_OPEN event.
  void open_listener(flextcp_context& ctx, flextcp_listener& listener, uint16_t port);
  // listen_accept + the service's kAccepted + the LISTEN_ACCEPT event: an open connection.
  FakeFlow accept(flextcp_context& ctx, flextcp_listener& listener, flextcp_connection& conn,
                  FlowOptions options = {});
  // The kAccepted event the service would send for `flow` (buffers allocated by accept()).
  abi::AppEvent accepted_event(const FakeFlow& flow, const FlowOptions& options);
  // Allocates connection buffers for a new flow answering `request`.
  FakeFlow new_flow(FakeContext& fake, const abi::AppRequest& request, const FlowOptions& options);

  // An arx update for `flow` (no data, no flags) on its core.
  abi::ArxEntry arx_entry(const FakeFlow& flow);
  // Writes `data` into the flow's rx buffer (wrapping) and pushes an arx entry for it.
  void deliver(FakeFlow& flow, std::string_view data, uint8_t flags = 0);
  // Pushes an arx entry acknowledging `bytes` of tx data and/or carrying `flags`.
  void acknowledge(FakeFlow& flow, uint32_t bytes, uint8_t flags = 0);

  flextcp_context ctx_{};
  std::vector<std::unique_ptr<flextcp_context>> extra_contexts_;
  uint32_t next_flow_id_ = 100;
};

// The bytes of RECEIVED events, concatenated.
std::string received_bytes(const std::vector<flextcp_event>& events);
// The event types, for readable assertions.
std::vector<int> types(const std::vector<flextcp_event>& events);

}  // namespace vtas::client::testing
