#include "components/fastpath/testing/core_harness.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstdio>
#include <cstring>


namespace vtas::fastpath::testing {
namespace {

template <class T>
T must(Result<T> r) {
  if (!r) {
    std::fprintf(stderr, "core harness: %s\n", r.error().message.c_str());
    std::abort();
  }
  return std::move(*r);
}

shm::Doorbell doorbell() { return must(shm::Doorbell::create()); }

}  // namespace

LocalRing::LocalRing(uint32_t capacity)
    : memory_(static_cast<uint8_t*>(std::aligned_alloc(64, shm::ring_bytes(capacity)))),
      capacity_(capacity) {
  if (!shm::ring_init(memory_.get(), shm::ring_bytes(capacity), capacity)) std::abort();
}

CoreHarness::CoreHarness(uint32_t buffer_len, uint32_t port_buffers, uint32_t delayed_ack_us)
    : buffer_length(buffer_len),
      port(kOurMac, port_buffers),
      flow_region(must(shm::Region::create_memfd("flows", FlowTable::region_bytes(64), false))),
      flows(must(FlowTable::create(flow_region, 64))),
      app_region(must(shm::Region::create_memfd("app", kTxBuffer + buffer_len + 4096, false))),
      commands(kRingCapacity),
      reports(kRingCapacity),
      arx(kRingCapacity),
      atx(kRingCapacity),
      command_in(commands.producer<CoreCommand>()),
      report_out(reports.consumer<CoreReport>()),
      app_arx(arx.consumer<abi::ArxEntry>()),
      app_atx(atx.producer<abi::AtxEntry>()),
      control_bell(doorbell()) {
  CoreConfig config;
  config.local_mac = kOurMac;
  config.local_ip = htonl(kOurIp.value);
  config.interrupts = false;
  config.yield_when_idle = false;
  config.delayed_ack_us = delayed_ack_us;
  core = std::make_unique<FastPathCore>(config, port, flows, commands.consumer<CoreCommand>(),
                                        reports.producer<CoreReport>(), doorbell(), control_bell.fd());
  context = std::unique_ptr<CoreAppContext>(
      new CoreAppContext{1, 0, arx.producer<abi::ArxEntry>(), atx.consumer<abi::AtxEntry>(), -1, false});
  CoreCommand attach_app{};
  attach_app.type = static_cast<uint8_t>(CommandType::kAttachApp);
  attach_app.app_id = 1;
  attach_app.pointer = app_region.base();
  attach_app.size = app_region.size();
  push(attach_app);
  CoreCommand attach_context{};
  attach_context.type = static_cast<uint8_t>(CommandType::kAttachContext);
  attach_context.app_id = 1;
  attach_context.pointer = context.get();
  push(attach_context);
  run();
}

void CoreHarness::push(const CoreCommand& c) {
  if (!command_in.try_push(c)) std::abort();
}

void CoreHarness::run(int iterations) {
  for (int i = 0; i < iterations; ++i) core->iterate(now_ns += 1000);
}

uint32_t CoreHarness::install() {
  uint32_t id = *flows.allocate_id();
  abi::FlowState* slot = flows.flow(id);
  if (!slot) std::abort();
  abi::FlowState& fs = *slot;
  fs = abi::FlowState{};
  fs.opaque = 0xabcdef;
  fs.rx_buffer = kRxBuffer;
  fs.tx_buffer = kTxBuffer;
  fs.rx_len = fs.tx_len = buffer_length;
  fs.local_ip = htonl(kOurIp.value);
  fs.remote_ip = htonl(kPeerIp.value);
  fs.local_port = htons(kOurPort);
  fs.remote_port = htons(kPeerPort);
  kPeerMac.copy_to(fs.remote_mac);
  fs.app_id = 1;
  fs.context_id = 0;
  fs.mss = 1448;
  fs.rx_avail = buffer_length;
  fs.rx_next_seq = 5001;
  fs.rx_remote_avail = 1 << 30;
  fs.snd_wscale = 0;
  fs.tx_next_seq = 1001;
  fs.snd_wl1 = 5000;
  fs.snd_wl2 = 1001;
  fs.rx_adv_right = 5001 + buffer_length;
  fs.flags = abi::kFlowActive | abi::kFlowTimestamps;
  if (!flows.publish(id, flow_hash(key_of(fs)))) std::abort();
  CoreCommand installed{};
  installed.type = static_cast<uint8_t>(CommandType::kFlowInstalled);
  installed.flow_id = id;
  installed.app_id = 1;
  installed.pointer = context.get();
  push(installed);
  run();
  return id;
}

void CoreHarness::inject(uint32_t seq, uint32_t ack, uint8_t flags, const std::string& payload,
                         uint16_t dst_port) {
  wire::TcpSegmentSpec s;
  s.src_mac = kPeerMac;
  s.dst_mac = kOurMac;
  s.src_ip = kPeerIp;
  s.dst_ip = kOurIp;
  s.src_port = kPeerPort;
  s.dst_port = dst_port;
  s.seq = seq;
  s.ack = ack;
  s.flags = flags;
  s.window = 65535;
  s.options.has_timestamps = true;
  s.options.tsval = 777;
  s.options.tsecr = 0;
  s.payload = reinterpret_cast<const uint8_t*>(payload.data());
  s.payload_length = payload.size();
  uint8_t frame[2048];
  size_t n = wire::build_tcp_segment(frame, sizeof(frame), s);
  if (n == 0 || !port.inject(frame, n)) std::abort();
}

std::vector<wire::Frame> CoreHarness::sent_frames(std::vector<std::vector<uint8_t>>* raw) {
  std::vector<wire::Frame> out;
  auto sent = port.take_sent();
  for (auto& f : sent) {
    wire::Frame frame;
    if (wire::parse_frame(f.data(), f.size(), &frame, wire::RxChecksum::kVerify) != wire::ParseResult::kOk) {
      std::fprintf(stderr, "core harness: the core sent a frame that does not parse\n");
      std::abort();
    }
    out.push_back(frame);
  }
  if (raw) *raw = std::move(sent);
  return out;
}

}  // namespace vtas::fastpath::testing
