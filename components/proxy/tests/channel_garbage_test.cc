// The proxy channel against a guest that writes garbage into its half of the region: whatever
// lands in the guest->host ring (entries, indices, length prefixes) the host endpoint either
// parses a well-formed message or breaks for good; it never reads or writes outside the
// channel, and a broken endpoint stays broken.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "components/proxy/channel/channel.h"

namespace vtas::proxy {
namespace {

ChannelMessage wake(uint32_t core) {
  ChannelMessage m;
  m.mutable_wake_core()->set_core(core);
  return m;
}

TEST(ChannelGarbageTest, AFrameLongerThanWhatWasPublishedBreaksTheChannel) {
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  auto host = ChannelEndpoint::create_host(memory, sizeof(memory), 1);
  auto guest = ChannelEndpoint::attach_guest(memory, sizeof(memory));
  ASSERT_TRUE(host && guest);
  ASSERT_TRUE(guest->send(wake(1)));  // one entry published
  // The length prefix now claims eight entries' worth.
  uint8_t* first_entry = memory + kGuestToHostRingOffset + shm::kRingEntriesOffset;
  const uint32_t claimed = 500;
  std::memcpy(first_entry, &claimed, sizeof(claimed));
  ChannelMessage m;
  EXPECT_FALSE(host->receive(&m));
  EXPECT_TRUE(host->broken());
  EXPECT_NE(host->error().find("incomplete"), std::string::npos) << host->error();
}

TEST(ChannelGarbageTest, RandomGarbageNeverEscapesTheRing) {
  constexpr size_t kGuard = 4096;
  constexpr uint8_t kCanary = 0xA5;
  std::vector<uint8_t> buffer(kGuard + abi::kVmChannelBytes + kGuard + 64);
  // 64-byte aligned channel between two guard zones.
  uint8_t* aligned = buffer.data() + (64 - reinterpret_cast<uintptr_t>(buffer.data()) % 64) % 64;
  uint8_t* channel = aligned + kGuard;
  std::mt19937_64 rng(20261125);
  size_t parsed = 0, broken = 0;
  for (int round = 0; round < 3000; ++round) {
    std::memset(aligned, kCanary, kGuard);
    std::memset(channel + abi::kVmChannelBytes, kCanary, kGuard);
    auto host = ChannelEndpoint::create_host(channel, abi::kVmChannelBytes, 1);
    ASSERT_TRUE(host) << host.error().message;
    uint8_t* ring = channel + kGuestToHostRingOffset;
    // Garbage entries: random bytes, sometimes behind a plausible length prefix.
    for (size_t i = 0; i < kChannelRingCapacity * shm::kRingEntrySize; i += 8) {
      const uint64_t word = rng();
      std::memcpy(ring + shm::kRingEntriesOffset + i, &word, sizeof(word));
    }
    if (round % 2 == 0) {
      const uint32_t length = static_cast<uint32_t>(rng() % 80);
      std::memcpy(ring + shm::kRingEntriesOffset, &length, sizeof(length));
    }
    // Garbage indices: the guest's producer head, and the consumer tail of the host's
    // outgoing ring (the guest owns that one too).
    uint32_t head =
        round % 3 == 0 ? static_cast<uint32_t>(rng()) : static_cast<uint32_t>(rng() % 80);
    std::memcpy(ring + shm::kRingProducerOffset, &head, sizeof(head));
    if (round % 5 == 0) {
      uint32_t tail = static_cast<uint32_t>(rng());
      std::memcpy(channel + kHostToGuestRingOffset + shm::kRingConsumerOffset, &tail, sizeof(tail));
    }
    ChannelMessage m;
    for (int i = 0; i < 100 && host->receive(&m); ++i) ++parsed;
    for (int i = 0; i < 80; ++i) (void)host->send(wake(static_cast<uint32_t>(i)));
    if (host->broken()) {
      ++broken;
      EXPECT_FALSE(host->receive(&m));  // sticky
      EXPECT_FALSE(host->send(wake(0)));
      EXPECT_FALSE(host->error().empty());
    }
    for (size_t i = 0; i < kGuard; ++i) {
      ASSERT_EQ(aligned[i], kCanary) << "round " << round << ": wrote before the channel at " << i;
      ASSERT_EQ(channel[abi::kVmChannelBytes + i], kCanary)
          << "round " << round << ": wrote past the channel";
    }
  }
  // Garbage mostly breaks the channel; what parsed was at most what one ring can hold per round.
  EXPECT_GT(broken, 1000u);
  EXPECT_LE(parsed, 3000u * kChannelRingCapacity);
}

}  // namespace
}  // namespace vtas::proxy
