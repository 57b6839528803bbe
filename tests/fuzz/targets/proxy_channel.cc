// Fuzz target: the host/guest proxy channel (components/proxy/channel) as a hostile peer
// writes it. The memory is a VM's channel area: the host lays it out, then the input plays the
// other side by (0) rewriting the header before the guest attaches, (1) writing raw frame
// entries into the guest-to-host ring, which the host reads, or (2) the same into the
// host-to-guest ring, which the guest reads; (1) and (2) may also corrupt the ring indices.
// The endpoint must never crash, and once it reports broken() it must say why.
#include <cstring>

#include "components/proxy/channel/channel.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/quiet_logs.h"

namespace vtas::fuzz {
namespace {

constexpr int kMaxReceives = 80;  // more than a ring holds: every entry gets read

void drain(proxy::ChannelEndpoint& endpoint) {
  proxy::ChannelMessage message;
  for (int i = 0; i < kMaxReceives && endpoint.receive(&message); ++i) {
    VTAS_FUZZ_CHECK(message.ByteSizeLong() <= proxy::kMaxChannelMessageBytes * 2,
                    "a received message larger than any frame");
  }
  if (endpoint.broken()) VTAS_FUZZ_CHECK(!endpoint.error().empty(), "broken without a reason");
}

// Writes entries from the input into the ring at `ring` (as its producer), then maybe
// overwrites the producer's head index with an input value.
void write_frames(FuzzInput& in, uint8_t* ring) {
  auto producer = shm::RingProducer<proxy::ChannelEntry>::attach(
      ring, shm::ring_bytes(proxy::kChannelRingCapacity), proxy::kChannelRingCapacity, "fuzz");
  VTAS_FUZZ_CHECK(producer.ok(), "cannot attach to a freshly created ring");
  const uint32_t count = in.below(proxy::kChannelRingCapacity + 1);
  for (uint32_t i = 0; i < count && !in.empty(); ++i) {
    proxy::ChannelEntry entry{};
    const std::string_view bytes = in.bytes(sizeof entry.bytes);
    std::memcpy(entry.bytes, bytes.data(), bytes.size());
    if (i == 0 && (entry.bytes[3] & 0x80) == 0) {
      // Mostly a plausible length prefix, so the parser behind it gets the bytes.
      const uint32_t length = (entry.bytes[0] | uint32_t{entry.bytes[1]} << 8) %
                              (proxy::kMaxChannelMessageBytes + 1);
      std::memcpy(entry.bytes, &length, sizeof length);
    }
    if (!producer->try_push(entry)) break;
  }
  if (in.u8() == 0xA5) {  // rarely: an index no honest producer writes
    const uint32_t head = in.u32();
    std::memcpy(ring + shm::kRingProducerOffset, &head, sizeof head);
  }
}

}  // namespace

int fuzz_proxy_channel(const uint8_t* data, size_t size) {
  quiet_logs();
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  std::memset(memory, 0, sizeof memory);
  FuzzInput in(data, size);
  const uint8_t mode = in.u8() % 3;
  auto host = proxy::ChannelEndpoint::create_host(memory, sizeof memory, 1 + in.below(64));
  VTAS_FUZZ_CHECK(host.ok(), "cannot lay out a channel");

  if (mode == 0) {
    proxy::ChannelHeader header;
    std::memcpy(&header, memory + proxy::kChannelHeaderOffset, sizeof header);
    auto* raw = reinterpret_cast<uint8_t*>(&header);
    const uint8_t count = in.u8() % 8;
    for (uint8_t i = 0; i < count; ++i) raw[in.below(sizeof header)] = in.u8();
    std::memcpy(memory + proxy::kChannelHeaderOffset, &header, sizeof header);
    auto guest = proxy::ChannelEndpoint::attach_guest(memory, sizeof memory);
    if (!guest.ok()) return 0;
    proxy::ChannelMessage hello;
    (void)host->send(hello);
    drain(*guest);
    return 0;
  }
  auto guest = proxy::ChannelEndpoint::attach_guest(memory, sizeof memory);
  VTAS_FUZZ_CHECK(guest.ok(), "the guest cannot attach to the host's fresh channel");
  if (mode == 1) {
    // The guest endpoint exists but stays idle: the input is the guest's producer.
    write_frames(in, memory + proxy::kGuestToHostRingOffset);
    drain(*host);
  } else {
    write_frames(in, memory + proxy::kHostToGuestRingOffset);
    drain(*guest);
  }
  return 0;
}

}  // namespace vtas::fuzz
