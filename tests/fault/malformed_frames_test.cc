// Malformed frames into one fast-path core on an in-memory port (label unit, so the ASan+UBSan
// pass of scripts/test.sh runs it): every frame of tests/fault/corpus/malformed_frames.bin (the
// hostile frames of probes.py addressed to the core harness, plus seeded mutations of them)
// goes through the real receive path next to an installed flow. Nothing may crash or trip a
// sanitizer, every frame is counted exactly once (rx_bad, handed to the slow path, or taken by
// the flow), no buffer leaks, and the flow still carries data afterwards.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "components/fastpath/testing/core_harness.h"
#include "components/wire/wire.h"
#include "tests/fault/frame_corpus.h"

namespace vtas::fault {
namespace {

using fastpath::testing::CoreHarness;

struct Moves {
  uint64_t rx, bad, to_control;
};

Moves moved(const abi::CoreCounters& before, const abi::CoreCounters& after) {
  return {after.rx_packets - before.rx_packets, after.rx_bad - before.rx_bad,
          (after.exceptions + after.exception_drops) - (before.exceptions + before.exception_drops)};
}

// Gives frames handed to the control thread back to the port (what the control thread does).
void drain_reports(CoreHarness& h) {
  fastpath::CoreReport r;
  while (h.report_out.try_pop(r)) {
    if (r.type == static_cast<uint8_t>(fastpath::ReportType::kPacket)) {
      fastpath::Packet p;
      p.native = r.packet_native;
      h.port.free_burst(&p, 1);
    }
  }
}

TEST(MalformedFrames, EveryCorpusFrameIsCountedOnceAndNothingLeaksOrCrashes) {
  auto corpus = read_frame_corpus(VTAS_FAULT_CORPUS);
  ASSERT_TRUE(corpus) << corpus.error().message;
  ASSERT_GE(corpus->size(), 2000u) << "the corpus shrank: regenerate it with probes.py corpus";

  CoreHarness h;
  const uint32_t flow = h.install();
  h.sent_frames();
  drain_reports(h);
  const uint32_t free_at_start = h.port.buffers_free();
  size_t by_class[4] = {};
  for (const CorpusFrame& f : *corpus) {
    SCOPED_TRACE(f.name);
    const abi::CoreCounters before = h.core->counters();
    // (an empty frame still needs a valid pointer: memcpy from nullptr is undefined)
    const uint8_t none = 0;
    const uint8_t* bytes = f.bytes.empty() ? &none : f.bytes.data();
    ASSERT_TRUE(h.port.inject(bytes, f.bytes.size())) << f.bytes.size() << " bytes";
    h.run(1);
    const Moves m = moved(before, h.core->counters());
    ASSERT_EQ(m.rx, 1u);
    ASSERT_LE(m.bad + m.to_control, 1u) << "counted twice";
    wire::Frame parsed;
    const bool parses = wire::parse_frame(bytes, f.bytes.size(), &parsed) == wire::ParseResult::kOk;
    switch (f.expected) {
      case FrameClass::kRxBad:
        EXPECT_EQ(m.bad, 1u) << "must be dropped as malformed";
        ++by_class[0];
        break;
      case FrameClass::kToControl:
        EXPECT_EQ(m.to_control, 1u) << "must go to the slow path";
        ++by_class[1];
        break;
      case FrameClass::kFlow:
        EXPECT_EQ(m.bad + m.to_control, 0u) << "must be handled by the installed flow";
        ++by_class[2];
        break;
      case FrameClass::kAny:
        // The reference parser decides: whatever does not parse must be counted as bad.
        if (!parses) {
          EXPECT_EQ(m.bad, 1u) << "does not parse but was not counted rx_bad";
        }
        ++by_class[3];
        break;
    }
    // Everything the core sent in answer is a well-formed frame (sent_frames aborts otherwise).
    h.sent_frames();
    drain_reports(h);
  }
  EXPECT_GE(by_class[0], 30u);
  EXPECT_GE(by_class[1], 10u);
  EXPECT_GE(by_class[2], 5u);
  EXPECT_EQ(h.port.buffers_free(), free_at_start) << "the core kept (leaked) port buffers";

  // The flow survived the garbage: in-order data is still taken and ACKed.
  abi::FlowState* fs = h.flows.flow(flow);
  ASSERT_NE(fs, nullptr);
  ASSERT_EQ(fs->flags & abi::kFlowReset, 0u) << "a corpus frame reset the flow";
  const uint32_t next = fs->rx_next_seq;
  h.inject(next, fs->tx_next_seq, wire::kTcpAck | wire::kTcpPsh, "still here");
  h.run();
  bool acked = false;
  for (const wire::Frame& sent : h.sent_frames()) acked |= sent.tcp.ack == next + 10;
  EXPECT_TRUE(acked) << "the flow no longer takes in-order data";
}

// Random bytes with a valid Ethernet + IPv4 + TCP prefix aimed at the flow: the deep parts of
// the TCP receive path (options, lengths, flags, sequence numbers) get garbage too. Seeded.
TEST(MalformedFrames, RandomSegmentsAtTheInstalledFlowAreSurvived) {
  CoreHarness h;
  h.install();
  h.sent_frames();
  std::mt19937 rng(20261126);
  const uint32_t free_at_start = h.port.buffers_free();
  uint64_t frames = 0;
  for (int i = 0; i < 20000; ++i) {
    wire::TcpSegmentSpec s;
    s.src_mac = fastpath::testing::kPeerMac;
    s.dst_mac = fastpath::testing::kOurMac;
    s.src_ip = fastpath::testing::kPeerIp;
    s.dst_ip = fastpath::testing::kOurIp;
    s.src_port = fastpath::testing::kPeerPort;
    s.dst_port = fastpath::testing::kOurPort;
    s.seq = rng() % 3 == 0 ? rng() : 5001 + rng() % 20000 - 10000;
    s.ack = rng() % 3 == 0 ? rng() : 1001 + rng() % 2000 - 1000;
    s.flags = static_cast<uint8_t>(rng());
    s.window = static_cast<uint16_t>(rng());
    s.options.has_timestamps = rng() % 2;
    s.options.tsval = rng();
    s.options.tsecr = rng();
    std::string payload(rng() % 1400, 'x');
    for (char& c : payload) c = static_cast<char>(rng());
    s.payload = reinterpret_cast<const uint8_t*>(payload.data());
    s.payload_length = payload.size();
    uint8_t frame[2048];
    size_t n = wire::build_tcp_segment(frame, sizeof(frame), s);
    ASSERT_GT(n, 0u);
    ASSERT_TRUE(h.port.inject(frame, n));
    ++frames;
    if (i % 16 == 15) {
      h.run(1);
      h.sent_frames();
      drain_reports(h);
    }
  }
  h.run(4);
  h.sent_frames();
  drain_reports(h);
  EXPECT_EQ(h.core->counters().rx_packets, frames + 0) << "every frame received once";
  EXPECT_EQ(h.port.buffers_free(), free_at_start);
}

}  // namespace
}  // namespace vtas::fault
