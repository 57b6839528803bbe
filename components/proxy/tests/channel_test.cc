// The proxy channel: framing both ways, backpressure, and a hostile peer (the guest can write
// anything anywhere in its region) that can only break its own channel.
#include "components/proxy/channel/channel.h"

#include <gtest/gtest.h>

#include <cstring>

namespace vtas::proxy {
namespace {

ChannelMessage wake(uint32_t core) {
  ChannelMessage m;
  m.mutable_wake_core()->set_core(core);
  return m;
}

TEST(ChannelTest, GuestReadsTheHeaderTheHostWrote) {
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  auto host = ChannelEndpoint::create_host(memory, sizeof(memory), 42);
  ASSERT_TRUE(host) << host.error().message;
  auto guest = ChannelEndpoint::attach_guest(memory, sizeof(memory));
  ASSERT_TRUE(guest) << guest.error().message;
  EXPECT_EQ(guest->header().vm_peer_id, 42u);
  EXPECT_EQ(guest->header().host_peer_id, kHostPeerId);
  EXPECT_EQ(guest->header().vectors, kChannelVectors);
}

TEST(ChannelTest, MessagesCrossBothWaysInOrder) {
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  auto host = ChannelEndpoint::create_host(memory, sizeof(memory), 1);
  auto guest = ChannelEndpoint::attach_guest(memory, sizeof(memory));
  ASSERT_TRUE(host && guest);
  for (uint32_t i = 0; i < 10; ++i) ASSERT_TRUE(guest->send(wake(i)));
  ChannelMessage m;
  for (uint32_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(host->receive(&m));
    ASSERT_TRUE(m.has_wake_core());
    EXPECT_EQ(m.wake_core().core(), i);
  }
  EXPECT_FALSE(host->receive(&m));

  ChannelMessage answer;
  auto* a = answer.mutable_app_attached();
  a->set_request_id(5);
  a->set_error(std::string(300, 'x'));  // spans several ring entries
  a->set_region_offset(2ull << 20);
  ASSERT_TRUE(host->send(answer));
  ASSERT_TRUE(guest->receive(&m));
  EXPECT_EQ(m.app_attached().request_id(), 5u);
  EXPECT_EQ(m.app_attached().error(), std::string(300, 'x'));
  EXPECT_EQ(m.app_attached().region_offset(), 2ull << 20);
  EXPECT_FALSE(host->broken());
  EXPECT_FALSE(guest->broken());
}

TEST(ChannelTest, AFullRingRefusesWithoutLosingAnything) {
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  auto host = ChannelEndpoint::create_host(memory, sizeof(memory), 1);
  auto guest = ChannelEndpoint::attach_guest(memory, sizeof(memory));
  ASSERT_TRUE(host && guest);
  uint32_t sent = 0;
  while (guest->send(wake(sent))) ++sent;
  EXPECT_EQ(sent, kChannelRingCapacity);
  ChannelMessage m;
  for (uint32_t i = 0; i < sent; ++i) {
    ASSERT_TRUE(host->receive(&m));
    EXPECT_EQ(m.wake_core().core(), i);
  }
  EXPECT_TRUE(guest->send(wake(99)));
}

TEST(ChannelTest, SleepHandshakeAsksForAWakeUpOnce) {
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  auto host = ChannelEndpoint::create_host(memory, sizeof(memory), 1);
  auto guest = ChannelEndpoint::attach_guest(memory, sizeof(memory));
  ASSERT_TRUE(host && guest);
  ASSERT_TRUE(host->prepare_sleep());
  ASSERT_TRUE(guest->send(wake(1)));
  EXPECT_TRUE(guest->peer_needs_wakeup());
  ASSERT_TRUE(guest->send(wake(2)));
  EXPECT_FALSE(guest->peer_needs_wakeup());  // already rung for this sleep
  host->finish_sleep();
  EXPECT_FALSE(host->prepare_sleep());  // messages are waiting: do not sleep
}

TEST(ChannelTest, AnImpossibleLengthBreaksOnlyTheReader) {
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  auto host = ChannelEndpoint::create_host(memory, sizeof(memory), 1);
  auto guest = ChannelEndpoint::attach_guest(memory, sizeof(memory));
  ASSERT_TRUE(host && guest);
  ASSERT_TRUE(guest->send(wake(1)));
  // The guest rewrites the frame's length prefix in place.
  uint8_t* first_entry = memory + kGuestToHostRingOffset + shm::kRingEntriesOffset;
  uint32_t huge = 1u << 30;
  std::memcpy(first_entry, &huge, sizeof(huge));
  ChannelMessage m;
  EXPECT_FALSE(host->receive(&m));
  EXPECT_TRUE(host->broken());
  EXPECT_NE(host->error().find("1073741824"), std::string::npos) << host->error();
  EXPECT_FALSE(host->receive(&m));  // sticky
}

TEST(ChannelTest, GarbageThatDoesNotParseBreaksTheChannel) {
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  auto host = ChannelEndpoint::create_host(memory, sizeof(memory), 1);
  auto guest = ChannelEndpoint::attach_guest(memory, sizeof(memory));
  ASSERT_TRUE(host && guest);
  ChannelMessage big;
  big.mutable_app_attach()->set_name(std::string(100, 'n'));
  ASSERT_TRUE(guest->send(big));
  uint8_t* first_entry = memory + kGuestToHostRingOffset + shm::kRingEntriesOffset;
  std::memset(first_entry + 4, 0xff, 60);  // invalid varints
  ChannelMessage m;
  EXPECT_FALSE(host->receive(&m));
  EXPECT_TRUE(host->broken());
}

TEST(ChannelTest, IndicesNoHonestGuestWritesBreakTheChannel) {
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  auto host = ChannelEndpoint::create_host(memory, sizeof(memory), 1);
  ASSERT_TRUE(host);
  // The producer head of the guest->host ring jumps far beyond the capacity.
  auto* head = reinterpret_cast<uint32_t*>(memory + kGuestToHostRingOffset + shm::kRingProducerOffset);
  *head = 100000;
  ChannelMessage m;
  EXPECT_FALSE(host->receive(&m));
  EXPECT_TRUE(host->broken());
  // The host's sending side still refuses cleanly rather than writing anywhere.
  EXPECT_FALSE(host->send(wake(1)));
}

TEST(ChannelTest, GuestRefusesMemoryWithoutAVtasChannel) {
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  std::memset(memory, 0, sizeof(memory));
  auto guest = ChannelEndpoint::attach_guest(memory, sizeof(memory));
  ASSERT_FALSE(guest);
  EXPECT_NE(guest.error().message.find("host proxy"), std::string::npos) << guest.error().message;
  auto host = ChannelEndpoint::create_host(memory, sizeof(memory), 1);
  ASSERT_TRUE(host);
  reinterpret_cast<ChannelHeader*>(memory)->layout_version = 99;
  auto old = ChannelEndpoint::attach_guest(memory, sizeof(memory));
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message.find("version 99"), std::string::npos) << old.error().message;
}

TEST(ChannelTest, TooLittleMemoryIsRefused) {
  alignas(64) static uint8_t memory[abi::kVmChannelBytes];
  EXPECT_FALSE(ChannelEndpoint::create_host(memory, 4096, 1));
  EXPECT_FALSE(ChannelEndpoint::attach_guest(memory, 4096));
}

}  // namespace
}  // namespace vtas::proxy
