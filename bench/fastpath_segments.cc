// fastpath_segments: the fast-path core alone on an in-memory port (no NIC, no kernel), to
// count what one segment costs. Two workloads:
//   rx N   N in-order 1448-byte data segments arrive; each is copied to the app, acknowledged,
//          reported on the app's event ring; the "app" frees the buffer space again
//   tx N   the app queues N * 1448 bytes; the core segments and sends them; the peer's ACKs
//          (one per two segments) come back and free the buffer
// Prints ns per segment (wall clock, harness included). bench/callgrind_segments.sh counts the
// instructions inside FastPathCore::iterate only (the harness building frames is not counted),
// with two N subtracted so set-up cancels.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "components/fastpath/testing/core_harness.h"

using namespace vtas::fastpath;
using namespace vtas::fastpath::testing;

namespace {

constexpr uint32_t kMss = 1448;
constexpr uint32_t kBuffer = 1 << 20;

// `rx_stream` is what the app has received so far (entries are cumulative).
void drain_events(CoreHarness& h, uint32_t flow, uint16_t* bump_seq, uint32_t* rx_stream,
                  bool free_rx) {
  vtas::abi::ArxEntry e;
  while (h.app_arx.try_pop(e)) {
    const int32_t fresh = static_cast<int32_t>(e.rx_stream_end - *rx_stream);
    if (fresh <= 0) continue;
    *rx_stream = e.rx_stream_end;
    if (free_rx) {
      vtas::abi::AtxEntry b{};
      b.type = 1;
      b.bump_seq = ++*bump_seq;
      b.flow_id = flow;
      b.rx_bump = static_cast<uint32_t>(fresh);
      while (!h.app_atx.try_push(b)) h.run(1);
    }
  }
}

double run_rx(uint64_t n) {
  CoreHarness h(kBuffer, 4096);
  uint32_t flow = h.install();
  h.port.set_sink([](const uint8_t*, size_t) {});  // the ACKs go nowhere
  std::string payload(kMss, 'd');
  uint16_t bump_seq = 0;
  uint32_t rx_stream = 0;
  uint32_t seq = 5001;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    h.inject(seq, 1001, 0x18, payload);
    seq += kMss;
    if (i % 16 == 15) {  // a burst of 16, like a NIC would deliver
      h.run(1);
      drain_events(h, flow, &bump_seq, &rx_stream, true);
    }
  }
  h.run(2);
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  if (h.flows.flow(flow)->rx_next_seq != seq) {
    std::fprintf(stderr, "rx: lost data (rx_next_seq %u, expected %u)\n", h.flows.flow(flow)->rx_next_seq, seq);
    std::exit(1);
  }
  return ns / static_cast<double>(n);
}

double run_tx(uint64_t n) {
  CoreHarness h(kBuffer, 4096);
  uint32_t flow = h.install();
  uint16_t bump_seq = 0;
  uint32_t rx_stream = 0;
  uint64_t queued = 0, sent_segments = 0;
  uint32_t acked = 1001;
  auto start = std::chrono::steady_clock::now();
  while (sent_segments < n) {
    vtas::abi::FlowState& fs = *h.flows.flow(flow);
    uint32_t space = kBuffer - fs.tx_avail - fs.tx_sent;
    if (queued < n * kMss && space >= 16 * kMss) {
      vtas::abi::AtxEntry b{};
      b.type = 1;
      b.bump_seq = ++bump_seq;
      b.flow_id = flow;
      b.tx_bump = 16 * kMss;
      if (h.app_atx.try_push(b)) queued += 16 * kMss;
    }
    h.run(1);
    auto frames = h.sent_frames();
    for (size_t i = 0; i < frames.size(); ++i) {
      if (frames[i].tcp.payload_length == 0) continue;
      ++sent_segments;
      if (sent_segments % 2 == 0) {  // the peer ACKs every second segment
        acked = frames[i].tcp.seq + frames[i].tcp.payload_length;
        h.inject(5001, acked, 0x10, "");
      }
    }
    drain_events(h, flow, &bump_seq, &rx_stream, false);
  }
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  return ns / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "rx") != 0 && std::strcmp(argv[1], "tx") != 0)) {
    std::fprintf(stderr, "usage: fastpath_segments rx|tx N\n");
    return 64;
  }
  uint64_t n = std::strtoull(argv[2], nullptr, 10);
  double ns = std::strcmp(argv[1], "rx") == 0 ? run_rx(n) : run_tx(n);
  std::printf("%s segments=%llu ns_per_segment=%.1f\n", argv[1], static_cast<unsigned long long>(n), ns);
  return 0;
}
