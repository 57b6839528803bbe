// The fast-path loop on an in-memory port: a flow installed by hand, segments built with the
// wire library, an app context with real rings. Checks what goes to the wire, to the app and
// to the control thread.
#include "components/fastpath/fast_path_core.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>

#include "components/fastpath/memory_port.h"
#include "runtime/shm/abi.h"

namespace vtas::fastpath {
namespace {

const wire::MacAddr kOurMac{{0x02, 0, 0, 0, 0, 1}};
const wire::MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 2}};
const wire::Ipv4Addr kOurIp = wire::Ipv4Addr::from_octets(10, 77, 0, 1);
const wire::Ipv4Addr kPeerIp = wire::Ipv4Addr::from_octets(10, 77, 0, 2);
constexpr uint16_t kOurPort = 7000, kPeerPort = 40000;
constexpr uint32_t kRingCap = 256;

struct Rings {
  explicit Rings(uint32_t cap) : memory(static_cast<uint8_t*>(std::aligned_alloc(64, shm::ring_bytes(cap)))), capacity(cap) {
    EXPECT_TRUE(shm::ring_init(memory.get(), shm::ring_bytes(cap), cap));
  }
  struct Free { void operator()(uint8_t* p) const { std::free(p); } };
  std::unique_ptr<uint8_t, Free> memory;
  uint32_t capacity;
  template <class E> shm::RingProducer<E> producer() {
    return std::move(*shm::RingProducer<E>::attach(memory.get(), shm::ring_bytes(capacity), capacity, "p"));
  }
  template <class E> shm::RingConsumer<E> consumer() {
    return std::move(*shm::RingConsumer<E>::attach(memory.get(), shm::ring_bytes(capacity), capacity, "c"));
  }
};

class CoreFixture : public ::testing::Test {
 protected:
  CoreFixture()
      : port(kOurMac, 1024),
        flow_region(std::move(*shm::Region::create_memfd("flows", FlowTable::region_bytes(64), false))),
        flows(std::move(*FlowTable::create(flow_region, 64))),
        app_region(std::move(*shm::Region::create_memfd("app", 1 << 20, false))),
        commands(kRingCap), reports(kRingCap), arx(kRingCap), atx(kRingCap),
        command_in(commands.producer<CoreCommand>()), report_out(reports.consumer<CoreReport>()),
        app_arx(arx.consumer<abi::ArxEntry>()), app_atx(atx.producer<abi::AtxEntry>()) {
    CoreConfig config;
    config.local_mac = kOurMac;
    config.local_ip = htonl(kOurIp.value);
    config.interrupts = false;
    auto bell = shm::Doorbell::create();
    control_bell = std::move(*shm::Doorbell::create());
    core = std::make_unique<FastPathCore>(config, port, flows, commands.consumer<CoreCommand>(),
                                          reports.producer<CoreReport>(), std::move(*bell), control_bell.fd());
    context = std::unique_ptr<CoreAppContext>(new CoreAppContext{
        1, 0, arx.producer<abi::ArxEntry>(), atx.consumer<abi::AtxEntry>(), -1, false});
    push(CoreCommand{static_cast<uint8_t>(CommandType::kAttachApp), 0, 0, 0, 1, 0, app_region.base(),
                     nullptr, app_region.size(), 0, {}});
    push(CoreCommand{static_cast<uint8_t>(CommandType::kAttachContext), 0, 0, 0, 1, 0, context.get(),
                     nullptr, 0, 0, {}});
    run();
  }

  void push(const CoreCommand& c) { ASSERT_TRUE(command_in.try_push(c)); }
  void run(int iterations = 3) {
    for (int i = 0; i < iterations; ++i) core->iterate(now_ns += 1000);
  }

  // Installs an established flow: our ISN 1000, peer's 5000, 4 KiB buffers, timestamps on.
  uint32_t install() {
    uint32_t id = *flows.allocate_id();
    abi::FlowState* slot = flows.flow(id);
    if (!slot) std::abort();
    abi::FlowState& fs = *slot;
    fs = abi::FlowState{};
    fs.opaque = 0xabcdef;
    fs.rx_buffer = 4096;
    fs.tx_buffer = 8192;
    fs.rx_len = fs.tx_len = 4096;
    fs.local_ip = htonl(kOurIp.value);
    fs.remote_ip = htonl(kPeerIp.value);
    fs.local_port = htons(kOurPort);
    fs.remote_port = htons(kPeerPort);
    kPeerMac.copy_to(fs.remote_mac);
    fs.app_id = 1;
    fs.context_id = 0;
    fs.mss = 1448;
    fs.rx_avail = 4096;
    fs.rx_next_seq = 5001;
    fs.rx_remote_avail = 65535;
    fs.tx_next_seq = 1001;
    fs.snd_wl1 = 5000;
    fs.snd_wl2 = 1001;
    fs.rx_adv_right = 5001 + 4096;
    fs.flags = abi::kFlowActive | abi::kFlowTimestamps;
    EXPECT_TRUE(flows.publish(id, flow_hash(key_of(fs))));
    push(CoreCommand{static_cast<uint8_t>(CommandType::kFlowInstalled), 0, 0, id, 1, 0, context.get(),
                     nullptr, 0, 0, {}});
    run();
    return id;
  }

  void inject(uint32_t seq, uint32_t ack, uint8_t flags, const std::string& payload,
              uint16_t dst_port = kOurPort) {
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
    ASSERT_GT(n, 0u);
    ASSERT_TRUE(port.inject(frame, n));
  }

  std::vector<wire::Frame> sent_frames(std::vector<std::vector<uint8_t>>* raw = nullptr) {
    std::vector<wire::Frame> out;
    auto sent = port.take_sent();
    for (auto& f : sent) {
      wire::Frame frame;
      EXPECT_EQ(wire::parse_frame(f.data(), f.size(), &frame, wire::RxChecksum::kVerify), wire::ParseResult::kOk);
      out.push_back(frame);
    }
    if (raw) *raw = std::move(sent);
    return out;
  }

  uint64_t now_ns = 1'000'000'000;
  MemoryPort port;
  shm::Region flow_region;
  FlowTable flows;
  shm::Region app_region;
  Rings commands, reports, arx, atx;
  shm::RingProducer<CoreCommand> command_in;
  shm::RingConsumer<CoreReport> report_out;
  shm::RingConsumer<abi::ArxEntry> app_arx;
  shm::RingProducer<abi::AtxEntry> app_atx;
  shm::Doorbell control_bell = std::move(*shm::Doorbell::create());
  std::unique_ptr<CoreAppContext> context;
  std::unique_ptr<FastPathCore> core;
};

TEST_F(CoreFixture, InOrderDataIsAckedCopiedAndReportedToTheApp) {
  uint32_t id = install();
  inject(5001, 1001, tcp::kTcpAck | tcp::kTcpPsh, "hello vtas");
  run();
  auto frames = sent_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].tcp.flags, tcp::kTcpAck);
  EXPECT_EQ(frames[0].tcp.ack, 5011u);
  EXPECT_EQ(frames[0].tcp.seq, 1001u);
  EXPECT_TRUE(frames[0].tcp.options.has_timestamps);
  EXPECT_EQ(frames[0].tcp.options.tsecr, 777u);
  EXPECT_EQ(frames[0].eth.dst, kPeerMac);
  abi::ArxEntry e;
  ASSERT_TRUE(app_arx.try_pop(e));
  EXPECT_EQ(e.flow_id, id);
  EXPECT_EQ(e.opaque, 0xabcdefu);
  EXPECT_EQ(e.rx_bump, 10u);
  EXPECT_EQ(e.rx_pos, 0u);
  EXPECT_EQ(std::memcmp(static_cast<uint8_t*>(app_region.base()) + 4096, "hello vtas", 10), 0);
}

TEST_F(CoreFixture, AppBumpSendsDataFromTheTxBuffer) {
  uint32_t id = install();
  std::string data(3000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  std::memcpy(static_cast<uint8_t*>(app_region.base()) + 8192, data.data(), data.size());
  abi::AtxEntry bump{};
  bump.type = 1;
  bump.bump_seq = 1;
  bump.flow_id = id;
  bump.tx_bump = static_cast<uint32_t>(data.size());
  ASSERT_TRUE(app_atx.try_push(bump));
  run();
  std::vector<std::vector<uint8_t>> raw;
  auto frames = sent_frames(&raw);
  ASSERT_EQ(frames.size(), 3u);  // 1448 + 1448 + 104
  std::string got;
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].tcp.seq, 1001u + got.size());
    got.append(reinterpret_cast<const char*>(raw[i].data() + frames[i].tcp.payload_offset),
               frames[i].tcp.payload_length);
  }
  EXPECT_EQ(got, data);
  // The peer acknowledges everything: the app hears that its buffer is free again.
  inject(5001, 1001 + 3000, tcp::kTcpAck, "");
  run();
  abi::ArxEntry e;
  ASSERT_TRUE(app_arx.try_pop(e));
  EXPECT_EQ(e.tx_bump, 3000u);
}

TEST_F(CoreFixture, UnknownFlowsAndArpGoToTheControlThread) {
  install();
  inject(1, 0, tcp::kTcpSyn, "", 8080);  // SYN to another port: no flow
  run();
  CoreReport r;
  ASSERT_TRUE(report_out.try_pop(r));
  EXPECT_EQ(r.type, static_cast<uint8_t>(ReportType::kPacket));
  EXPECT_EQ(r.flow_id, 0u);
  Packet p{r.data, r.length, 0, 0, 0, r.packet_native};
  port.free_burst(&p, 1);
  uint8_t arp[64];
  size_t n = wire::build_arp_request(arp, sizeof(arp), kPeerMac, kPeerIp, kOurIp);
  ASSERT_TRUE(port.inject(arp, n));
  run();
  ASSERT_TRUE(report_out.try_pop(r));
  EXPECT_EQ(r.type, static_cast<uint8_t>(ReportType::kPacket));
  p = Packet{r.data, r.length, 0, 0, 0, r.packet_native};
  port.free_burst(&p, 1);
  EXPECT_EQ(port.buffers_free(), 1024u);  // nothing leaked
}

TEST_F(CoreFixture, RetransmittedSynOfAnInstalledFlowGoesToControlWithItsFlowId) {
  uint32_t id = install();
  inject(5000, 0, tcp::kTcpSyn, "");  // the peer lost our SYN-ACK and sends its SYN again
  run();
  CoreReport r;
  ASSERT_TRUE(report_out.try_pop(r));
  EXPECT_EQ(r.type, static_cast<uint8_t>(ReportType::kPacket));
  EXPECT_EQ(r.flow_id, id);  // conn answers with the SYN-ACK of that flow
  Packet p{r.data, r.length, 0, 0, 0, r.packet_native};
  port.free_burst(&p, 1);
}

TEST_F(CoreFixture, GarbageFramesAndBumpsAreCountedNotFatal) {
  uint32_t id = install();
  std::mt19937 rng(11);
  for (int i = 0; i < 2000; ++i) {
    uint8_t junk[128];
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    port.inject(junk, 14 + rng() % 100);
    abi::AtxEntry bump{};
    std::memcpy(&bump, junk, sizeof(bump));
    if (i % 2) bump.flow_id = id;  // half aimed at the real flow with absurd values
    app_atx.try_push(bump);
    run(1);
    CoreReport r;
    while (report_out.try_pop(r)) {
      Packet p{r.data, r.length, 0, 0, 0, r.packet_native};
      if (r.type == static_cast<uint8_t>(ReportType::kPacket)) port.free_burst(&p, 1);
    }
    port.take_sent();
  }
  const abi::CoreCounters& c = core->counters();
  EXPECT_GT(c.rx_bad, 1000u);
  EXPECT_GT(c.app_bad_bumps, 900u);
  // The flow still works.
  abi::ArxEntry e;
  while (app_arx.try_pop(e)) {
  }
  abi::FlowState& fs = *flows.flow(id);
  inject(fs.rx_next_seq, fs.tx_next_seq, tcp::kTcpAck, "still alive");
  run();
  ASSERT_TRUE(app_arx.try_pop(e));
  EXPECT_EQ(e.rx_bump, 11u);
}

TEST_F(CoreFixture, AnAppCannotBumpAnotherAppsFlow) {
  uint32_t id = install();
  flows.flow(id)->app_id = 2;  // the flow belongs to someone else now
  abi::AtxEntry bump{};
  bump.type = 1;
  bump.bump_seq = 1;
  bump.flow_id = id;
  bump.tx_bump = 100;
  ASSERT_TRUE(app_atx.try_push(bump));
  run();
  EXPECT_EQ(port.sent_count(), 0u);
  EXPECT_EQ(core->counters().app_bad_bumps, 1u);
}

TEST_F(CoreFixture, RemovingAFlowIsAcknowledged) {
  uint32_t id = install();
  push(CoreCommand{static_cast<uint8_t>(CommandType::kFlowRemove), 0, 0, id, 0, 0, nullptr, nullptr, 0, 0, {}});
  run();
  CoreReport r;
  ASSERT_TRUE(report_out.try_pop(r));
  EXPECT_EQ(r.type, static_cast<uint8_t>(ReportType::kFlowReleased));
  EXPECT_EQ(r.flow_id, id);
}

}  // namespace
}  // namespace vtas::fastpath
