// CoreHarness: one fast-path core on an in-memory port with a hand-installed flow and an app
// context with real rings: the rig of the core's unit tests and of the in-memory benchmark
// (bench/fastpath_segments.cc). Not for production code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "components/fastpath/fast_path_core.h"
#include "components/fastpath/memory_port.h"
#include "components/wire/wire.h"

namespace vtas::fastpath::testing {

inline const wire::MacAddr kOurMac{{0x02, 0, 0, 0, 0, 1}};
inline const wire::MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 2}};
inline const wire::Ipv4Addr kOurIp = wire::Ipv4Addr::from_octets(10, 77, 0, 1);
inline const wire::Ipv4Addr kPeerIp = wire::Ipv4Addr::from_octets(10, 77, 0, 2);
inline constexpr uint16_t kOurPort = 7000, kPeerPort = 40000;

// A process-private ring in aligned memory.
class LocalRing {
 public:
  explicit LocalRing(uint32_t capacity);
  template <class E>
  shm::RingProducer<E> producer() {
    return std::move(*shm::RingProducer<E>::attach(memory_.get(), shm::ring_bytes(capacity_), capacity_, "p"));
  }
  template <class E>
  shm::RingConsumer<E> consumer() {
    return std::move(*shm::RingConsumer<E>::attach(memory_.get(), shm::ring_bytes(capacity_), capacity_, "c"));
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> memory_;
  uint32_t capacity_;
};

class CoreHarness {
 public:
  static constexpr uint32_t kRingCapacity = 1024;
  static constexpr uint64_t kRxBuffer = 4096, kTxBuffer = 1 << 20;  // offsets in the app region

  // `delayed_ack_us` 0: every data segment is ACKed at once (what most tests expect).
  explicit CoreHarness(uint32_t buffer_length = 4096, uint32_t port_buffers = 1024,
                       uint32_t delayed_ack_us = 0);

  void push(const CoreCommand& command);
  void run(int iterations = 3);
  // Moves the clock without running the core.
  void advance_us(uint64_t us) { now_ns += us * 1000; }
  // Installs an established flow (our ISN 1000, the peer's 5000, timestamps on) for app 1.
  uint32_t install();
  // Builds a segment from the peer and queues it on the port.
  void inject(uint32_t seq, uint32_t ack, uint8_t flags, const std::string& payload,
              uint16_t dst_port = kOurPort);
  // Frames the core sent, parsed (checksums verified); `raw` gets the bytes.
  std::vector<wire::Frame> sent_frames(std::vector<std::vector<uint8_t>>* raw = nullptr);
  uint8_t* app_bytes(uint64_t offset) { return static_cast<uint8_t*>(app_region.base()) + offset; }

  uint64_t now_ns = 1'000'000'000;
  uint32_t buffer_length;
  MemoryPort port;
  shm::Region flow_region;
  FlowTable flows;
  shm::Region app_region;
  LocalRing commands, reports, arx, atx;
  shm::RingProducer<CoreCommand> command_in;
  shm::RingConsumer<CoreReport> report_out;
  shm::RingConsumer<abi::ArxEntry> app_arx;
  shm::RingProducer<abi::AtxEntry> app_atx;
  shm::Doorbell control_bell;
  std::unique_ptr<CoreAppContext> context;
  std::unique_ptr<FastPathCore> core;
};

}  // namespace vtas::fastpath::testing
