#include "components/proxy/channel/channel.h"

#include <atomic>
#include <cstdio>
#include <cstring>

namespace vtas::proxy {
namespace {

constexpr uint32_t kMaxFrameEntries = frame_entries(kMaxChannelMessageBytes);

uint8_t* at(void* base, uint64_t offset) { return static_cast<uint8_t*>(base) + offset; }

}  // namespace

Result<ChannelEndpoint> ChannelEndpoint::create_host(void* base, size_t bytes, uint32_t vm_peer_id) {
  if (bytes < abi::kVmChannelBytes) {
    return make_error("VM channel: " + std::to_string(bytes) + " bytes mapped, " +
                      std::to_string(abi::kVmChannelBytes) + " needed");
  }
  std::memset(base, 0, abi::kVmChannelBytes);
  const size_t ring = shm::ring_bytes(kChannelRingCapacity);
  if (Status s = shm::ring_init(at(base, kGuestToHostRingOffset), ring, kChannelRingCapacity); !s) {
    return s.error();
  }
  if (Status s = shm::ring_init(at(base, kHostToGuestRingOffset), ring, kChannelRingCapacity); !s) {
    return s.error();
  }
  auto tx = shm::RingProducer<ChannelEntry>::attach(at(base, kHostToGuestRingOffset), ring,
                                                    kChannelRingCapacity, "vm " + std::to_string(vm_peer_id) + " h2g");
  auto rx = shm::RingConsumer<ChannelEntry>::attach(at(base, kGuestToHostRingOffset), ring,
                                                    kChannelRingCapacity, "vm " + std::to_string(vm_peer_id) + " g2h");
  if (!tx) return tx.error();
  if (!rx) return rx.error();
  ChannelHeader header{};
  header.layout_version = kChannelLayoutVersion;
  header.host_peer_id = kHostPeerId;
  header.vm_peer_id = vm_peer_id;
  header.vectors = kChannelVectors;
  header.ring_capacity = kChannelRingCapacity;
  header.g2h_offset = kGuestToHostRingOffset;
  header.h2g_offset = kHostToGuestRingOffset;
  auto* shared = reinterpret_cast<ChannelHeader*>(at(base, kChannelHeaderOffset));
  std::memcpy(shared, &header, sizeof(header));
  std::atomic_ref<uint64_t>(shared->magic).store(kChannelMagic, std::memory_order_release);
  header.magic = kChannelMagic;
  return ChannelEndpoint(std::move(*tx), std::move(*rx), header);
}

Result<ChannelEndpoint> ChannelEndpoint::attach_guest(void* base, size_t bytes) {
  if (bytes < abi::kVmChannelBytes) {
    return make_error("VM channel: " + std::to_string(bytes) + " bytes mapped, " +
                      std::to_string(abi::kVmChannelBytes) + " needed");
  }
  auto* shared = reinterpret_cast<ChannelHeader*>(at(base, kChannelHeaderOffset));
  const uint64_t magic = std::atomic_ref<uint64_t>(shared->magic).load(std::memory_order_acquire);
  ChannelHeader header;
  std::memcpy(&header, shared, sizeof(header));  // one snapshot; only the copy is used
  if (magic != kChannelMagic) {
    return make_error("no vtas channel at the start of the shared memory (magic 0x" +
                      [&] {
                        char hex[17];
                        std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(magic));
                        return std::string(hex);
                      }() +
                      "): is this device served by vtas's host proxy (ivshmem.sock)?");
  }
  if (header.layout_version != kChannelLayoutVersion || header.ring_capacity != kChannelRingCapacity ||
      header.g2h_offset != kGuestToHostRingOffset || header.h2g_offset != kHostToGuestRingOffset) {
    return make_error("vtas channel layout version " + std::to_string(header.layout_version) +
                      " (capacity " + std::to_string(header.ring_capacity) + "), this guest proxy speaks " +
                      std::to_string(kChannelLayoutVersion) +
                      ": use a vtas-proxy-guest from the same vtas release as the host");
  }
  if (header.vectors == 0 || header.vectors > 64 || header.host_peer_id > 0xffff ||
      header.vm_peer_id > 0xffff) {
    return make_error("vtas channel header: impossible ivshmem ids (host " +
                      std::to_string(header.host_peer_id) + ", vm " + std::to_string(header.vm_peer_id) +
                      ") or vectors (" + std::to_string(header.vectors) + ")");
  }
  const size_t ring = shm::ring_bytes(kChannelRingCapacity);
  auto tx = shm::RingProducer<ChannelEntry>::attach(at(base, kGuestToHostRingOffset), ring,
                                                    kChannelRingCapacity, "g2h");
  auto rx = shm::RingConsumer<ChannelEntry>::attach(at(base, kHostToGuestRingOffset), ring,
                                                    kChannelRingCapacity, "h2g");
  if (!tx) return tx.error();
  if (!rx) return rx.error();
  return ChannelEndpoint(std::move(*tx), std::move(*rx), header);
}

bool ChannelEndpoint::send(const ChannelMessage& message) {
  if (broken()) return false;
  const size_t size = message.ByteSizeLong();
  if (size > kMaxChannelMessageBytes) {
    // Our own message: a bug, not the peer's fault. Refuse it rather than break the channel.
    return false;
  }
  const uint32_t bytes = static_cast<uint32_t>(size);
  const uint32_t entries = frame_entries(bytes);
  if (tx_.free_slots() < entries) return false;
  ChannelEntry frame[kMaxFrameEntries];
  std::memset(frame, 0, sizeof(ChannelEntry) * entries);
  auto* raw = reinterpret_cast<uint8_t*>(frame);
  std::memcpy(raw, &bytes, kChannelLengthPrefixBytes);
  if (!message.SerializeToArray(raw + kChannelLengthPrefixBytes, static_cast<int>(bytes))) return false;
  return tx_.push_burst(frame, entries) == entries;
}

bool ChannelEndpoint::receive(ChannelMessage* out) {
  if (broken()) return false;
  ChannelEntry frame[kMaxFrameEntries];
  if (!rx_.try_pop(frame[0])) return false;
  uint32_t bytes;
  std::memcpy(&bytes, frame[0].bytes, kChannelLengthPrefixBytes);
  if (bytes > kMaxChannelMessageBytes) {
    fail("channel message of " + std::to_string(bytes) + " bytes (limit " +
         std::to_string(kMaxChannelMessageBytes) + ")");
    return false;
  }
  const uint32_t entries = frame_entries(bytes);
  // The producer published the whole frame at once: the rest must be there already.
  if (entries > 1 && rx_.pop_burst(frame + 1, entries - 1) != entries - 1) {
    fail("channel frame of " + std::to_string(entries) + " entries arrived incomplete");
    return false;
  }
  const auto* raw = reinterpret_cast<const uint8_t*>(frame);
  out->Clear();
  if (!out->ParseFromArray(raw + kChannelLengthPrefixBytes, static_cast<int>(bytes))) {
    fail("a channel message of " + std::to_string(bytes) + " bytes does not parse");
    return false;
  }
  return true;
}

std::string ChannelEndpoint::error() const {
  if (!error_.empty()) return error_;
  if (rx_.corrupted()) return rx_.error();
  if (tx_.corrupted()) return tx_.error();
  return "";
}

}  // namespace vtas::proxy
