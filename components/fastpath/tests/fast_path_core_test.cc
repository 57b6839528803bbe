// The fast-path loop on an in-memory port: a flow installed by hand, segments built with the
// wire library, an app context with real rings. Checks what goes to the wire, to the app and
// to the control thread.
#include "components/fastpath/fast_path_core.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>

#include "components/fastpath/testing/core_harness.h"
#include "runtime/shm/abi.h"

namespace vtas::fastpath {
namespace {

using namespace testing;  // the core harness (components/fastpath/testing/)

class CoreFixture : public ::testing::Test, public CoreHarness {};

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
  EXPECT_EQ(e.rx_stream_end, 10u);  // cumulative: the stream now ends 10 bytes in
  EXPECT_EQ(e.rx_end_pos, 10u);
  EXPECT_EQ(std::memcmp(app_bytes(kRxBuffer), "hello vtas", 10), 0);
}

TEST(CoreDelayedAck, TheReplyCarriesTheAckOrItGoesOutAfterTheDelay) {
  CoreHarness h(4096, 1024, /*delayed_ack_us=*/100);
  uint32_t id = h.install();
  h.inject(5001, 1001, tcp::kTcpAck | tcp::kTcpPsh, "request");
  h.run(1);
  EXPECT_TRUE(h.sent_frames().empty());  // owed, not sent
  // The app answers within the delay: its data segment carries the ACK, no pure ACK follows.
  std::memcpy(h.app_bytes(CoreHarness::kTxBuffer), "reply", 5);
  abi::AtxEntry bump{};
  bump.type = 1;
  bump.bump_seq = 1;
  bump.flow_id = id;
  bump.rx_bump = 7;
  bump.tx_bump = 5;
  ASSERT_TRUE(h.app_atx.try_push(bump));
  h.run(1);
  auto frames = h.sent_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].tcp.payload_length, 5u);
  EXPECT_EQ(frames[0].tcp.ack, 5008u);
  h.advance_us(200);
  h.run(2);
  EXPECT_TRUE(h.sent_frames().empty());
  // No reply this time: the ACK goes out once the delay is over.
  h.inject(5008, 1006, tcp::kTcpAck | tcp::kTcpPsh, "second");
  h.run(1);
  EXPECT_TRUE(h.sent_frames().empty());
  h.advance_us(100);
  h.run(1);
  frames = h.sent_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].tcp.payload_length, 0u);
  EXPECT_EQ(frames[0].tcp.ack, 5014u);
}

TEST(CoreDelayedAck, EverySecondSegmentIsAckedAtOnce) {
  CoreHarness h(65536, 1024, /*delayed_ack_us=*/100);
  h.install();
  h.inject(5001, 1001, tcp::kTcpAck, std::string(1000, 'a'));
  h.inject(6001, 1001, tcp::kTcpAck, std::string(1000, 'b'));
  h.run(1);
  auto frames = h.sent_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].tcp.ack, 7001u);
}

CoreCommand remove_command(uint32_t flow_id) {
  CoreCommand c{};
  c.type = static_cast<uint8_t>(CommandType::kFlowRemove);
  c.flow_id = flow_id;
  return c;
}

// Payload bytes the core sent in `ms` milliseconds of 100 us steps.
uint64_t payload_sent_in(CoreHarness& h, int ms) {
  uint64_t bytes = 0;
  for (int step = 0; step < ms * 10; ++step) {
    h.advance_us(99);
    h.run(1);
    for (const auto& f : h.sent_frames()) bytes += f.tcp.payload_length;
  }
  return bytes;
}

void queue_app_data(CoreHarness& h, uint32_t flow_id, uint32_t bytes) {
  abi::AtxEntry bump{};
  bump.type = 1;
  bump.bump_seq = 1;
  bump.flow_id = flow_id;
  bump.tx_bump = bytes;
  ASSERT_TRUE(h.app_atx.try_push(bump));
}

// proxy_host max_rate_kbps: the app's VM has a transmit rate of its own, and the core paces the
// app's segments to it (the flow itself has no cc rate), with only a short burst after a pause.
TEST(CoreRateLimit, AnAppSharingAVmRateSendsAtThatRate) {
  CoreHarness h(65536);
  SharedRateLimit vm_rate(11584);  // 1448 bytes (one full segment) per millisecond
  CoreCommand attach{};
  attach.type = static_cast<uint8_t>(CommandType::kAttachApp);
  attach.app_id = 1;
  attach.pointer = h.app_region.base();
  attach.size = h.app_region.size();
  attach.rate_limit = &vm_rate;
  h.push(attach);
  uint32_t id = h.install();
  queue_app_data(h, id, 60000);
  // 20 ms: one segment per ms, plus at most the burst the idle VM earned (0.2 ms of sending).
  uint64_t sent = payload_sent_in(h, 20);
  EXPECT_GE(sent, 19u * 1448);
  EXPECT_LE(sent, 22u * 1448);
  // Another 20 ms: the same rate, no burst this time.
  sent = payload_sent_in(h, 20);
  EXPECT_GE(sent, 19u * 1448);
  EXPECT_LE(sent, 21u * 1448);
}

TEST(CoreRateLimit, WithoutAVmRateTheSameDataGoesOutUnpaced) {
  CoreHarness h(65536);
  uint32_t id = h.install();
  queue_app_data(h, id, 60000);
  // One segment per flow per loop iteration (round robin), so 42 segments take 42 steps.
  EXPECT_EQ(payload_sent_in(h, 5), 60000u);
}

TEST_F(CoreFixture, AppBumpSendsDataFromTheTxBuffer) {
  uint32_t id = install();
  std::string data(3000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  std::memcpy(app_bytes(kTxBuffer), data.data(), data.size());
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
  const uint32_t stream_before = fs.rx_stream_end;
  inject(fs.rx_next_seq, fs.tx_next_seq, tcp::kTcpAck, "still alive");
  run();
  ASSERT_TRUE(app_arx.try_pop(e));
  EXPECT_EQ(e.rx_stream_end - stream_before, 11u);
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
  push(remove_command(id));
  run();
  CoreReport r;
  ASSERT_TRUE(report_out.try_pop(r));
  EXPECT_EQ(r.type, static_cast<uint8_t>(ReportType::kFlowReleased));
  EXPECT_EQ(r.flow_id, id);
}

TEST_F(CoreFixture, AFrameReadBesideAFlowRemovalStillReachesTheControlThread) {
  // A connection closing while the next one's third ACK arrives (a connection-rate load):
  // the removal's report and the frame are handled in one iteration. The frame used to be
  // dropped because a report was waiting, holding the new connection up for ~400 ms.
  uint32_t id = install();
  push(remove_command(id));
  inject(1, 1, tcp::kTcpAck, "", 8080);  // no flow: for conn
  run(1);
  EXPECT_EQ(core->counters().exception_drops, 0u);
  CoreReport r;
  ASSERT_TRUE(report_out.try_pop(r));
  EXPECT_EQ(r.type, static_cast<uint8_t>(ReportType::kFlowReleased));  // in order
  ASSERT_TRUE(report_out.try_pop(r));
  EXPECT_EQ(r.type, static_cast<uint8_t>(ReportType::kPacket));
  Packet p{r.data, r.length, 0, 0, 0, r.packet_native};
  port.free_burst(&p, 1);
}

}  // namespace
}  // namespace vtas::fastpath

namespace vtas::fastpath {
namespace {

// SACK (RFC 2018): with SACK-permitted negotiated, the ACK for data beyond a hole lists the
// out-of-order intervals, the one that grew last first; without it, no SACK option.
TEST_F(CoreFixture, AcksBeyondAHoleCarrySackBlocksWhenPermitted) {
  uint32_t id = install();
  flows.flow(id)->flags |= abi::kFlowSackPermitted;
  inject(5011, 1001, tcp::kTcpAck, "bbbbb");  // hole [5001, 5011)
  inject(5021, 1001, tcp::kTcpAck, "ccccc");  // another hole [5016, 5021)
  run();
  auto frames = sent_frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].tcp.ack, 5001u);
  ASSERT_EQ(frames[0].tcp.options.sack_count, 1u);
  EXPECT_EQ(frames[0].tcp.options.sack[0], (wire::SackBlock{5011, 5016}));
  ASSERT_EQ(frames[1].tcp.options.sack_count, 2u);
  EXPECT_EQ(frames[1].tcp.options.sack[0], (wire::SackBlock{5021, 5026}));
  EXPECT_EQ(frames[1].tcp.options.sack[1], (wire::SackBlock{5011, 5016}));
  EXPECT_TRUE(frames[1].tcp.options.has_timestamps);  // both fit the 40 option bytes
}

TEST_F(CoreFixture, NoSackBlocksWithoutSackPermitted) {
  install();
  inject(5011, 1001, tcp::kTcpAck, "bbbbb");
  run();
  auto frames = sent_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].tcp.options.sack_count, 0u);
}

}  // namespace
}  // namespace vtas::fastpath
