#include "runtime/shm/spsc_ring.h"

#include <cinttypes>
#include <cstdio>

namespace vtas::shm {
namespace {

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
  return buf;
}

std::string capacity_rule() {
  return "a power of two in 1.." + std::to_string(kRingMaxCapacity);
}

// Checks what every ring function needs from `mem` before touching it.
Status check_memory(const void* mem, size_t bytes, uint32_t capacity, const std::string& what) {
  if (mem == nullptr) return make_error(what + ": memory is null");
  if (reinterpret_cast<uintptr_t>(mem) % kRingAlignment != 0) {
    return make_error(what + ": memory at " + hex64(reinterpret_cast<uintptr_t>(mem)) +
                      " is not 64-byte aligned; place rings at cache-line offsets");
  }
  if (!is_valid_ring_capacity(capacity)) {
    return make_error(what + ": capacity " + std::to_string(capacity) + " is not " +
                      capacity_rule());
  }
  if (bytes < ring_bytes(capacity)) {
    return make_error(what + ": " + std::to_string(bytes) + " bytes available but a ring of " +
                      std::to_string(capacity) + " entries needs " +
                      std::to_string(ring_bytes(capacity)));
  }
  return Status::success();
}

}  // namespace

Status ring_init(void* mem, size_t bytes, uint32_t capacity, uint32_t first_index) {
  if (Status s = check_memory(mem, bytes, capacity, "ring_init"); !s) return s;
  auto* header = static_cast<RingHeader*>(mem);
  // Hide the old ring (if any) from attachers before rewriting it.
  std::atomic_ref<uint64_t>(header->magic).store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  std::memset(static_cast<char*>(mem) + sizeof(uint64_t), 0,
              ring_bytes(capacity) - sizeof(uint64_t));
  header->layout_version = kRingLayoutVersion;
  header->entry_size = kRingEntrySize;
  header->capacity = capacity;
  auto* base = static_cast<char*>(mem);
  reinterpret_cast<RingProducerLine*>(base + kRingProducerOffset)->head = first_index;
  reinterpret_cast<RingConsumerLine*>(base + kRingConsumerOffset)->tail = first_index;
  std::atomic_ref<uint64_t>(header->magic).store(kRingMagic, std::memory_order_release);
  return Status::success();
}

namespace ring_detail {

Status check_ring(const void* mem, size_t bytes_available, uint32_t expected_capacity,
                  const std::string& name, const char* side) {
  const std::string what = "ring '" + name + "': cannot attach " + side;
  if (Status s = check_memory(mem, bytes_available, expected_capacity, what); !s) return s;
  // One snapshot of the header: the other side may rewrite it while we check.
  auto* shared = static_cast<const RingHeader*>(mem);
  RingHeader h;
  h.magic = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(shared->magic))
                .load(std::memory_order_acquire);
  std::memcpy(reinterpret_cast<char*>(&h) + sizeof(uint64_t),
              reinterpret_cast<const char*>(shared) + sizeof(uint64_t),
              sizeof(RingHeader) - sizeof(uint64_t));
  if (h.magic != kRingMagic) {
    return make_error(what + ": not an initialised vtas ring (magic " + hex64(h.magic) +
                      ", expected " + hex64(kRingMagic) +
                      "): wrong offset, or its creator has not called ring_init yet");
  }
  if (h.layout_version != kRingLayoutVersion) {
    return make_error(what + ": ring layout version " + std::to_string(h.layout_version) +
                      " but this binary expects version " + std::to_string(kRingLayoutVersion) +
                      ": restart the app/service after an upgrade so both use the same version");
  }
  if (h.entry_size != kRingEntrySize) {
    return make_error(what + ": entry size " + std::to_string(h.entry_size) +
                      " in shared memory, this binary uses " + std::to_string(kRingEntrySize));
  }
  if (h.capacity != expected_capacity) {
    return make_error(what + ": capacity " + std::to_string(h.capacity) +
                      " in shared memory but the " + side + " expects " +
                      std::to_string(expected_capacity) +
                      ": both sides must agree on the ring size (check the configuration)");
  }
  return Status::success();
}

std::string describe_fault(const std::string& ring_name, const FaultRecord& r) {
  const std::string ring = "ring '" + ring_name + "'";
  switch (r.fault) {
    case Fault::kNone:
      return "";
    case Fault::kHeadImplausible:
      return ring + " corrupted: the producer published head " + std::to_string(r.seen) +
             ", impossible with the consumer's tail " + std::to_string(r.own) + " (previous head " +
             std::to_string(r.last_seen) + ", capacity " + std::to_string(r.capacity) +
             "): head may only move forward and at most capacity entries past tail. The "
             "producer's process wrote garbage: detach it and recreate the ring";
    case Fault::kTailImplausible:
      return ring + " corrupted: the consumer published tail " + std::to_string(r.seen) +
             ", impossible with the producer's head " + std::to_string(r.own) + " (previous tail " +
             std::to_string(r.last_seen) + ", capacity " + std::to_string(r.capacity) +
             "): tail may only move forward and never past head. The consumer's process "
             "wrote garbage: detach it and recreate the ring";
    case Fault::kMovedFrom:
      return ring + ": this ring side was moved from; use the object it was moved to";
  }
  return ring + ": unknown fault";
}

}  // namespace ring_detail
}  // namespace vtas::shm
