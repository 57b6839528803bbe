// The ABI of the host/guest proxy channel: the first abi::kVmChannelBytes (0x4000) of a VM's
// region, which the VM sees at the start of its ivshmem BAR2. The host proxy lays it out before
// the VM gets the region; the guest proxy checks it once at start. Included by both proxies.
//
//   0x0000  ChannelHeader  64 B   magic, layout version, ivshmem ids, vectors, ring geometry
//   0x0040  ring G2H               guest -> host (runtime/shm/spsc_ring.h, 64 entries)
//   0x2000  ring H2G               host -> guest (64 entries)
//   0x4000  the fast path's part of the VM region (app slices, 2 MiB aligned)
//
// A message is a length-prefixed serialized proxy.ChannelMessage (proto/proxy.proto) spread
// over consecutive 64-byte ring entries: entry 0 starts with the u32 length, the bytes follow
// and continue in the next entries. The producer publishes all entries of a message with one
// release store, so a consumer that sees the first entry sees the whole message.
//
// The host never reads the header back (the guest may have rewritten it); the guest reads it
// once and keeps a copy.
#pragma once

#include <cstddef>
#include <cstdint>

#include "components/fastpath/abi/attach_protocol.h"
#include "runtime/shm/spsc_ring.h"

namespace vtas::proxy {

// "VTASCHAN" in memory order.
inline constexpr uint64_t kChannelMagic = 0x4E41484353415456ull;
inline constexpr uint32_t kChannelLayoutVersion = 1;
// Version of the message protocol (GuestHello.version).
inline constexpr uint32_t kChannelProtocolVersion = 1;

inline constexpr uint32_t kChannelRingCapacity = 64;
inline constexpr uint64_t kChannelHeaderOffset = 0;
inline constexpr uint64_t kGuestToHostRingOffset = 0x40;
inline constexpr uint64_t kHostToGuestRingOffset = 0x2000;

// The largest serialized message (every ChannelMessage is far smaller; anything larger is a
// broken or hostile producer).
inline constexpr uint32_t kMaxChannelMessageBytes = 1024;
inline constexpr uint32_t kChannelLengthPrefixBytes = 4;

// The ivshmem id the host proxy uses as a peer (the guest rings (id << 16) | vector).
inline constexpr uint32_t kHostPeerId = 0;
// Interrupt vectors per peer (QEMU: -device ivshmem-doorbell,vectors=1).
inline constexpr uint32_t kChannelVectors = 1;

struct ChannelHeader {
  uint64_t magic;           // kChannelMagic, written last by the host (release)
  uint32_t layout_version;  // kChannelLayoutVersion
  uint32_t host_peer_id;    // the ivshmem peer id the guest rings
  uint32_t vm_peer_id;      // the VM's own ivshmem peer id
  uint32_t vectors;         // eventfds per peer in the ivshmem protocol
  uint32_t ring_capacity;   // entries per ring (kChannelRingCapacity)
  uint32_t reserved0;
  uint64_t g2h_offset;      // kGuestToHostRingOffset
  uint64_t h2g_offset;      // kHostToGuestRingOffset
  uint8_t reserved[16];
};
static_assert(sizeof(ChannelHeader) == 64);
static_assert(offsetof(ChannelHeader, magic) == 0);
static_assert(offsetof(ChannelHeader, layout_version) == 8);
static_assert(offsetof(ChannelHeader, host_peer_id) == 12);
static_assert(offsetof(ChannelHeader, vm_peer_id) == 16);
static_assert(offsetof(ChannelHeader, vectors) == 20);
static_assert(offsetof(ChannelHeader, ring_capacity) == 24);
static_assert(offsetof(ChannelHeader, g2h_offset) == 32);
static_assert(offsetof(ChannelHeader, h2g_offset) == 40);

// One ring entry: raw bytes of a message frame.
struct ChannelEntry {
  uint8_t bytes[shm::kRingEntrySize];
};
static_assert(sizeof(ChannelEntry) == shm::kRingEntrySize);

static_assert(kGuestToHostRingOffset >= kChannelHeaderOffset + sizeof(ChannelHeader));
static_assert(kGuestToHostRingOffset % shm::kRingAlignment == 0);
static_assert(kHostToGuestRingOffset % shm::kRingAlignment == 0);
static_assert(kGuestToHostRingOffset + shm::ring_bytes(kChannelRingCapacity) <= kHostToGuestRingOffset);
static_assert(kHostToGuestRingOffset + shm::ring_bytes(kChannelRingCapacity) <= abi::kVmChannelBytes);
// The largest frame fits in a ring with room to spare.
static_assert((kChannelLengthPrefixBytes + kMaxChannelMessageBytes + shm::kRingEntrySize - 1) /
                  shm::kRingEntrySize <
              kChannelRingCapacity / 2);

// Ring entries a message of `bytes` occupies.
constexpr uint32_t frame_entries(uint32_t bytes) {
  return (kChannelLengthPrefixBytes + bytes + shm::kRingEntrySize - 1) / shm::kRingEntrySize;
}

}  // namespace vtas::proxy
