// Registry: the process-wide table that turns the cookies the service echoes back (the
// `opaque` of AppEvent / ArxEntry) into the application's flextcp_connection and
// flextcp_listener objects. TAS put raw pointers there and dereferenced whatever came back;
// vtas hands out cookies = (generation << 32) | (slot + 1) instead, so a wrong, stale or
// forged cookie resolves to nothing rather than to a wild pointer.
//
// Process-wide, not per context, because a connection keeps its cookie when it moves to
// another context. add()/remove() lock a mutex (control path: open, accept, close); find()
// is lock-free (per data event). Slots live in chunks that are allocated on demand and never
// freed, so a find() racing with an add() on another thread reads valid memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace vtas::client {

enum class ObjectKind : uint8_t { kNone = 0, kConnection = 1, kListener = 2 };

class Registry {
 public:
  static constexpr uint32_t kChunkSlots = 1024;
  static constexpr uint32_t kMaxChunks = 1024;  // 1 Mi live objects per process

  static Registry& instance();

  // A fresh cookie for `object`, owned by the context `owner`; 0 when the table is full.
  uint64_t add(ObjectKind kind, void* object, const void* owner);
  // Forgets `cookie` (no-op for an unknown one).
  void remove(uint64_t cookie);
  // The object registered under `cookie` with `kind`, or nullptr. Never trusts the cookie.
  void* find(uint64_t cookie, ObjectKind kind) const;
  // True if `cookie` was handed out once and has been removed since: an event that raced
  // with a close, not garbage.
  bool is_stale(uint64_t cookie) const;
  // Records that `cookie`'s object now belongs to the context `owner` (after a move).
  void set_owner(uint64_t cookie, const void* owner);
  // Forgets every object owned by `owner` (a context being destroyed).
  void remove_owned_by(const void* owner);

 private:
  struct Slot {
    std::atomic<uint64_t> cookie{0};  // 0: free
    std::atomic<void*> object{nullptr};
    std::atomic<const void*> owner{nullptr};
    std::atomic<uint8_t> kind{0};
    std::atomic<uint32_t> generation{0};  // written under mutex_
  };
  struct Chunk {
    Slot slots[kChunkSlots];
  };

  Registry() = default;
  Slot* slot(uint32_t index) const;

  mutable std::mutex mutex_;
  std::atomic<Chunk*> chunks_[kMaxChunks] = {};
  uint32_t used_slots_ = 0;          // slots ever handed out (under mutex_)
  std::vector<uint32_t> free_list_;  // under mutex_
};

}  // namespace vtas::client
