#include "clientlib/src/registry.h"

namespace vtas::client {

Registry& Registry::instance() {
  // Never destroyed: objects may still be looked up from other threads during exit.
  static Registry* registry = new Registry();
  return *registry;
}

Registry::Slot* Registry::slot(uint32_t index) const {
  const uint32_t chunk = index / kChunkSlots;
  if (chunk >= kMaxChunks) return nullptr;
  Chunk* c = chunks_[chunk].load(std::memory_order_acquire);
  return c == nullptr ? nullptr : &c->slots[index % kChunkSlots];
}

uint64_t Registry::add(ObjectKind kind, void* object, const void* owner) {
  std::lock_guard<std::mutex> lock(mutex_);
  uint32_t index;
  if (!free_list_.empty()) {
    index = free_list_.back();
    free_list_.pop_back();
  } else {
    if (used_slots_ >= kChunkSlots * kMaxChunks) return 0;
    index = used_slots_;
    const uint32_t chunk = index / kChunkSlots;
    if (chunks_[chunk].load(std::memory_order_relaxed) == nullptr) {
      chunks_[chunk].store(new Chunk(), std::memory_order_release);
    }
    ++used_slots_;
  }
  Slot* s = slot(index);
  uint32_t generation = s->generation.load(std::memory_order_relaxed) + 1;
  if (generation == 0) generation = 1;
  s->generation.store(generation, std::memory_order_relaxed);
  const uint64_t cookie = (uint64_t{generation} << 32) | (uint64_t{index} + 1);
  s->object.store(object, std::memory_order_relaxed);
  s->owner.store(owner, std::memory_order_relaxed);
  s->kind.store(static_cast<uint8_t>(kind), std::memory_order_relaxed);
  s->cookie.store(cookie, std::memory_order_release);
  return cookie;
}

void Registry::remove(uint64_t cookie) {
  const uint64_t low = cookie & 0xffffffffu;
  if (low == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto index = static_cast<uint32_t>(low - 1);
  Slot* s = index < used_slots_ ? slot(index) : nullptr;
  if (s == nullptr || s->cookie.load(std::memory_order_relaxed) != cookie) return;
  s->cookie.store(0, std::memory_order_release);
  s->object.store(nullptr, std::memory_order_relaxed);
  s->owner.store(nullptr, std::memory_order_relaxed);
  free_list_.push_back(index);
}

void* Registry::find(uint64_t cookie, ObjectKind kind) const {
  const uint64_t low = cookie & 0xffffffffu;
  if (low == 0 || low > uint64_t{kChunkSlots} * kMaxChunks) return nullptr;
  const Slot* s = slot(static_cast<uint32_t>(low - 1));
  if (s == nullptr || s->cookie.load(std::memory_order_acquire) != cookie) return nullptr;
  if (s->kind.load(std::memory_order_relaxed) != static_cast<uint8_t>(kind)) return nullptr;
  return s->object.load(std::memory_order_relaxed);
}

bool Registry::is_stale(uint64_t cookie) const {
  const uint64_t low = cookie & 0xffffffffu;
  if (low == 0 || low > uint64_t{kChunkSlots} * kMaxChunks) return false;
  const Slot* s = slot(static_cast<uint32_t>(low - 1));
  if (s == nullptr) return false;
  const auto generation = static_cast<uint32_t>(cookie >> 32);
  return generation != 0 && generation <= s->generation.load(std::memory_order_relaxed) &&
         s->cookie.load(std::memory_order_acquire) != cookie;
}

void Registry::set_owner(uint64_t cookie, const void* owner) {
  const uint64_t low = cookie & 0xffffffffu;
  if (low == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto index = static_cast<uint32_t>(low - 1);
  Slot* s = index < used_slots_ ? slot(index) : nullptr;
  if (s == nullptr || s->cookie.load(std::memory_order_relaxed) != cookie) return;
  s->owner.store(owner, std::memory_order_relaxed);
}

void Registry::remove_owned_by(const void* owner) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (uint32_t index = 0; index < used_slots_; ++index) {
    Slot* s = slot(index);
    if (s->cookie.load(std::memory_order_relaxed) == 0) continue;
    if (s->owner.load(std::memory_order_relaxed) != owner) continue;
    s->cookie.store(0, std::memory_order_release);
    s->object.store(nullptr, std::memory_order_relaxed);
    s->owner.store(nullptr, std::memory_order_relaxed);
    free_list_.push_back(index);
  }
}

}  // namespace vtas::client
