// Fuzz target: a fast-path core's handling of what an app writes into its atx ring
// (components/fastpath/fast_path_core.cc, tcp/app_bump.cc): bumps that are mostly plausible
// (the app's flow, the next bump sequence, byte counts near the buffer's state) and often
// garbage (other flow ids, stale sequences, huge counts, unknown types and flags, raw entries),
// interleaved with peer segments, core iterations and time. One core on an in-memory port with
// a real flow table and app region (components/fastpath/testing/core_harness.h), built once per
// process (building a core is expensive); each input gets a freshly installed flow, removed at
// the end as the fastpath actor removes flows, with the rings drained. Checks: no crash, every frame the core sends parses with valid checksums (the harness
// aborts otherwise), the flow invariants hold after every step, every arx entry the core posts
// stays inside the flow's rx buffer.
#include <atomic>
#include <string>

#include "components/fastpath/tcp/tcp.h"
#include "components/fastpath/testing/core_harness.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/quiet_logs.h"

namespace vtas::fuzz {
namespace {

using fastpath::testing::CoreHarness;

constexpr int kMaxSteps = 48;
constexpr uint32_t kBufferLength = 4096;
constexpr uint32_t kPortBuffers = 64;

// Takes the core's reports as the control thread does: frames for the slow path go back to the
// port's pool. Returns whether one was the release of `released_flow`.
bool drain_reports(CoreHarness& h, uint32_t released_flow) {
  bool released = false;
  fastpath::CoreReport r;
  while (h.report_out.try_pop(r)) {
    if (r.type == static_cast<uint8_t>(fastpath::ReportType::kPacket)) {
      fastpath::Packet p{r.data, r.length, 0, 0, 0, r.packet_native};
      h.port.free_burst(&p, 1);
    }
    if (r.type == static_cast<uint8_t>(fastpath::ReportType::kFlowReleased) &&
        r.flow_id == released_flow) {
      released = true;
    }
  }
  return released;
}

void check_core(CoreHarness& h, uint32_t flow_id) {
  (void)h.sent_frames();  // aborts on a frame that does not parse
  (void)drain_reports(h, 0);
  abi::ArxEntry e;
  while (h.app_arx.try_pop(e)) {
    VTAS_FUZZ_CHECK(e.rx_end_pos < kBufferLength, "an arx entry past the rx buffer");
  }
  const abi::FlowState* fs = h.flows.flow(flow_id);
  VTAS_FUZZ_CHECK(fs != nullptr, "the installed flow vanished");
  if (fs->flags & abi::kFlowActive) {
    const char* violation = tcp::invariant_violation(*fs);
    VTAS_FUZZ_CHECK(violation == nullptr, violation);
  }
}

// Removes the flow as FastPathActor::remove_flow does, lets the core drain the app's ring and
// release the flow, then frees its id: the harness is clean for the next input.
void remove_flow(CoreHarness& h, uint32_t flow_id) {
  abi::FlowState& fs = *h.flows.flow(flow_id);
  h.flows.unpublish(flow_id, fastpath::flow_hash(fastpath::key_of(fs)));
  std::atomic_ref<uint32_t>(fs.flags).fetch_and(~abi::kFlowActive, std::memory_order_release);
  fastpath::CoreCommand remove{};
  remove.type = static_cast<uint8_t>(fastpath::CommandType::kFlowRemove);
  remove.flow_id = flow_id;
  h.push(remove);
  bool released = false;
  for (int i = 0; i < 100 && (!released || h.app_atx.free_slots() < CoreHarness::kRingCapacity);
       ++i) {
    h.run(1);
    (void)h.sent_frames();
    released = drain_reports(h, flow_id) || released;
    abi::ArxEntry e;
    while (h.app_arx.try_pop(e)) {
    }
  }
  VTAS_FUZZ_CHECK(released, "the core did not release a removed flow");
  VTAS_FUZZ_CHECK(h.app_atx.free_slots() == CoreHarness::kRingCapacity,
                  "the core left app bumps unread");
  h.flows.release_id(flow_id);
}

}  // namespace

int fuzz_fastpath_app_bumps(const uint8_t* data, size_t size) {
  quiet_logs();
  static CoreHarness* harnesses[2] = {new CoreHarness(kBufferLength, kPortBuffers, 0),
                                      new CoreHarness(kBufferLength, kPortBuffers, 200)};
  FuzzInput in(data, size);
  CoreHarness& h = *harnesses[in.u8() & 1];  // without and with delayed ACKs
  const uint32_t id = h.install();
  uint16_t bump_seq = 0;
  uint32_t peer_sent = 0;
  uint32_t unread_frames = 0;  // injected since the core last ran  // peer bytes sent in order (seq 5001 + peer_sent is next)

  for (int step = 0; step < kMaxSteps && !in.empty(); ++step) {
    const abi::FlowState& fs = *h.flows.flow(id);
    switch (in.u8() % 8) {
      case 0:
      case 1:
      case 2: {
        const uint8_t choice = in.u8();
        abi::AtxEntry e{};
        e.type = (choice & 1) ? in.u8() : tcp::kAtxTypeBump;
        e.flags = (choice & 2) ? in.u8() : static_cast<uint8_t>((choice & 4) ? abi::kAtxTxFin : 0);
        e.bump_seq = (choice & 8) ? in.u16() : ++bump_seq;
        e.flow_id = (choice & 16) ? ((choice & 32) ? in.u32() : in.below(70)) : id;
        e.rx_bump = (choice & 64) ? in.u32() : in.below(kBufferLength - fs.rx_avail + 2);
        e.tx_bump = (choice & 128) ? in.u32()
                                   : in.below(kBufferLength - fs.tx_avail - fs.tx_sent + 2);
        if (!h.app_atx.try_push(e)) h.run(1);
        break;
      }
      case 3: {
        abi::AtxEntry e = in.take<abi::AtxEntry>();  // anything at all
        if (!h.app_atx.try_push(e)) h.run(1);
        break;
      }
      case 4: {
        const uint8_t choice = in.u8();
        const uint32_t len = in.below(1500);
        const uint32_t seq = 5001 + peer_sent + ((choice & 1) ? in.u32() % 9000 - 4500 : 0);
        const uint32_t ack = (choice & 2) ? in.u32() : tcp::snd_una(fs) + in.below(fs.tx_sent + 2);
        const uint8_t flags = (choice & 4) ? in.u8() : tcp::kTcpAck;
        if (!(choice & 1) && !(choice & 4)) peer_sent += len;
        if (++unread_frames > kPortBuffers / 2) {  // the in-memory port has few buffers
          h.run(1);
          unread_frames = 0;
        }
        h.inject(seq, ack, flags, std::string(len, 'p'),
                 (choice & 8) ? in.u16() : fastpath::testing::kOurPort);
        break;
      }
      case 5:
        h.run(1 + in.below(3));
        unread_frames = 0;
        break;
      case 6:
        h.advance_us(in.below(1u << 21));
        break;
      default:
        h.run(1);
        unread_frames = 0;
        break;
    }
    check_core(h, id);
  }
  h.run(3);
  check_core(h, id);
  remove_flow(h, id);
  return 0;
}

}  // namespace vtas::fuzz
