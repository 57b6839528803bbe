#include "clientlib/tests/client_fixture.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace vtas::client::testing {

void RuntimeDirTest::SetUp() {
  char pattern[] = "/tmp/vtas-clientlib.XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr) << std::strerror(errno);
  dir_ = pattern;
  ::setenv("VTAS_RUNTIME_DIR", dir_.c_str(), 1);
  ::unsetenv("VTAS_INSTANCE");
}

void RuntimeDirTest::TearDown() {
  EXPECT_EQ(vtas_fini(), 0) << vtas_last_error();
  service_.reset();  // stops its thread, removes the socket
  if (!dir_.empty()) {
    EXPECT_EQ(::rmdir(dir_.c_str()), 0) << dir_ << ": " << std::strerror(errno);
  }
  ::unsetenv("VTAS_RUNTIME_DIR");
}

void RuntimeDirTest::start_service(FakeServiceOptions options) {
  service_ = FakeService::start(dir_, std::move(options));
  ASSERT_NE(service_, nullptr) << "cannot serve " << dir_;
}

void ClientTest::SetUp() {
  RuntimeDirTest::SetUp();
  start_service(service_options());
  ASSERT_EQ(flextcp_init(), 0) << vtas_last_error();
  ASSERT_EQ(flextcp_context_create(&ctx_), 0) << vtas_last_error();
}

void ClientTest::TearDown() {
  for (auto& ctx : extra_contexts_) {
    if (ctx->vtas_impl != nullptr) {
      EXPECT_EQ(vtas_context_destroy(ctx.get()), 0);
    }
  }
  if (ctx_.vtas_impl != nullptr) {
    EXPECT_EQ(vtas_context_destroy(&ctx_), 0);
  }
  RuntimeDirTest::TearDown();
}

flextcp_context& ClientTest::add_context() {
  extra_contexts_.push_back(std::make_unique<flextcp_context>());
  flextcp_context& ctx = *extra_contexts_.back();
  EXPECT_EQ(flextcp_context_create(&ctx), 0) << vtas_last_error();
  return ctx;
}

FakeContext& ClientTest::fake(uint32_t context_id) {
  FakeContext* fake = service_->context(context_id);
  EXPECT_NE(fake, nullptr) << "no context " << context_id;
  return *fake;
}

std::vector<flextcp_event> ClientTest::poll(flextcp_context& ctx, int max) {
  std::vector<flextcp_event> all;
  std::vector<flextcp_event> batch(static_cast<size_t>(max));
  for (;;) {
    int n = flextcp_context_poll(&ctx, max, batch.data());
    if (n <= 0) break;
    all.insert(all.end(), batch.begin(), batch.begin() + n);
  }
  return all;
}

abi::AppRequest ClientTest::pop_request(FakeContext& fake) {
  auto request = fake.pop_request();
  EXPECT_TRUE(request.has_value()) << "no request on kout";
  return request.value_or(abi::AppRequest{});
}

abi::AtxEntry ClientTest::pop_bump(FakeContext& fake, uint32_t core) {
  auto bump = fake.pop_bump(core);
  EXPECT_TRUE(bump.has_value()) << "no bump on atx " << core;
  return bump.value_or(abi::AtxEntry{});
}

vtas_context_stats ClientTest::stats(flextcp_context& ctx) {
  vtas_context_stats s{};
  EXPECT_EQ(vtas_context_get_stats(&ctx, &s), 0);
  return s;
}

void ClientTest::open_listener(flextcp_context& ctx, flextcp_listener& listener, uint16_t port) {
  ASSERT_EQ(flextcp_listen_open(&ctx, &listener, port, 16, 0), 0) << vtas_last_error();
  FakeContext& f = fake(ctx.ctx_id);
  abi::AppRequest request = pop_request(f);
  ASSERT_EQ(request.type, static_cast<uint8_t>(abi::AppRequestType::kListenOpen));
  abi::AppEvent answer{};
  answer.type = static_cast<uint8_t>(abi::AppEventType::kListenOpened);
  answer.request_id = request.request_id;
  answer.opaque = request.opaque;
  answer.listener_id = 1000 + port;
  ASSERT_TRUE(f.push_kin(answer));
  auto events = poll(ctx);
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].event_type, FLEXTCP_EV_LISTEN_OPEN);
  ASSERT_EQ(events[0].ev.listen_open.status, 0);
  ASSERT_EQ(events[0].ev.listen_open.listener, &listener);
}

FakeFlow ClientTest::new_flow(FakeContext& f, const abi::AppRequest& request,
                              const FlowOptions& options) {
  FakeFlow flow;
  flow.context = &f;
  flow.flow_id = next_flow_id_++;
  flow.cookie = request.opaque;
  flow.rx_len = options.rx_len;
  flow.tx_len = options.tx_len;
  flow.rx_buffer = service_->allocate(options.rx_len);
  flow.tx_buffer = service_->allocate(options.tx_len);
  flow.core = options.core;
  EXPECT_NE(flow.rx_buffer, 0u);
  EXPECT_NE(flow.tx_buffer, 0u);
  return flow;
}

abi::AppEvent ClientTest::accepted_event(const FakeFlow& flow, const FlowOptions& options) {
  abi::AppEvent e{};
  e.type = static_cast<uint8_t>(abi::AppEventType::kAccepted);
  e.opaque = flow.cookie;
  e.flow_id = flow.flow_id;
  e.rx_buffer = flow.rx_buffer;
  e.tx_buffer = flow.tx_buffer;
  e.rx_len = flow.rx_len;
  e.tx_len = flow.tx_len;
  e.local_ip = htonl(0x0a000001);
  e.remote_ip = htonl(options.remote_ip);
  e.local_port = htons(7);
  e.remote_port = htons(options.remote_port);
  e.core = flow.core;
  return e;
}

FakeFlow ClientTest::accept(flextcp_context& ctx, flextcp_listener& listener,
                            flextcp_connection& conn, FlowOptions options) {
  EXPECT_EQ(flextcp_listen_accept(&ctx, &listener, &conn), 0) << vtas_last_error();
  FakeContext& f = fake(ctx.ctx_id);
  abi::AppRequest request = pop_request(f);
  EXPECT_EQ(request.type, static_cast<uint8_t>(abi::AppRequestType::kAccept));
  FakeFlow flow = new_flow(f, request, options);
  abi::AppEvent answer = accepted_event(flow, options);
  answer.request_id = request.request_id;
  answer.listener_id = request.listener_id;
  EXPECT_TRUE(f.push_kin(answer));
  auto events = poll(ctx);
  EXPECT_EQ(events.size(), 1u);
  if (!events.empty()) {
    EXPECT_EQ(events[0].event_type, FLEXTCP_EV_LISTEN_ACCEPT);
    EXPECT_EQ(events[0].ev.listen_accept.status, 0);
    EXPECT_EQ(events[0].ev.listen_accept.conn, &conn);
  }
  return flow;
}

abi::ArxEntry ClientTest::arx_entry(const FakeFlow& flow) {
  abi::ArxEntry e{};
  e.type = 1;
  e.core = flow.core;
  e.flow_id = flow.flow_id;
  e.opaque = flow.cookie;
  e.rx_stream_end = flow.rx_stream;  // the receive stream as it stands
  e.rx_end_pos = flow.rx_pos;
  return e;
}

void ClientTest::deliver(FakeFlow& flow, std::string_view data, uint8_t flags) {
  uint8_t* rx = service_->at(flow.rx_buffer);
  for (size_t i = 0; i < data.size(); ++i)
    rx[(flow.rx_pos + i) % flow.rx_len] = static_cast<uint8_t>(data[i]);
  flow.rx_pos = static_cast<uint32_t>((flow.rx_pos + data.size()) % flow.rx_len);
  flow.rx_stream += static_cast<uint32_t>(data.size());
  abi::ArxEntry e = arx_entry(flow);
  e.flags = flags;
  ASSERT_TRUE(flow.context->push_arx(flow.core, e));
}

void ClientTest::acknowledge(FakeFlow& flow, uint32_t bytes, uint8_t flags) {
  abi::ArxEntry e = arx_entry(flow);
  e.tx_bump = bytes;
  e.flags = flags;
  ASSERT_TRUE(flow.context->push_arx(flow.core, e));
}

std::string received_bytes(const std::vector<flextcp_event>& events) {
  std::string bytes;
  for (const auto& e : events) {
    if (e.event_type != FLEXTCP_EV_CONN_RECEIVED) continue;
    bytes.append(static_cast<const char*>(e.ev.conn_received.buf), e.ev.conn_received.len);
  }
  return bytes;
}

std::vector<int> types(const std::vector<flextcp_event>& events) {
  std::vector<int> out;
  for (const auto& e : events) out.push_back(e.event_type);
  return out;
}

}  // namespace vtas::client::testing
