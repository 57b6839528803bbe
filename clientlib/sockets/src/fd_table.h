// FdTable: file descriptor number -> the FdObject libvtas_sockets manages for it, or nullptr
// for plain kernel descriptors. get() is lock-free (one array load per call, so read() on a
// pipe stays as cheap as without the library); set() and clear() run under the engine lock,
// and objects are freed only under it, so a get() followed by taking the lock and get()
// again yields an object that stays valid while the lock is held.
#pragma once

#include <atomic>
#include <cstdint>

#include "clientlib/sockets/src/objects.h"

namespace vtas::sockets {

class FdTable {
 public:
  static constexpr int kChunkSize = 4096;
  static constexpr int kMaxChunks = 1024;  // descriptors 0 .. 4 Mi - 1

  FdObject* get(int fd) const {
    if (fd < 0 || fd >= kChunkSize * kMaxChunks) return nullptr;
    const Chunk* chunk = chunks_[fd / kChunkSize].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr
                            : chunk->slots[fd % kChunkSize].load(std::memory_order_acquire);
  }
  // False if `fd` is beyond the table or memory is short (the caller treats it as kernel).
  bool set(int fd, FdObject* object);
  void clear(int fd) { (void)set(fd, nullptr); }
  // Calls f(fd, object) for every managed descriptor in [first, last].
  template <class F>
  void for_each(int first, int last, F f) const {
    if (first < 0) first = 0;
    if (last >= kChunkSize * kMaxChunks) last = kChunkSize * kMaxChunks - 1;
    for (int c = first / kChunkSize; c <= last / kChunkSize; ++c) {
      const Chunk* chunk = chunks_[c].load(std::memory_order_acquire);
      if (chunk == nullptr) continue;
      for (int i = 0; i < kChunkSize; ++i) {
        const int fd = c * kChunkSize + i;
        if (fd < first || fd > last) continue;
        if (FdObject* o = chunk->slots[i].load(std::memory_order_acquire)) f(fd, o);
      }
    }
  }

 private:
  struct Chunk {
    std::atomic<FdObject*> slots[kChunkSize] = {};
  };
  std::atomic<Chunk*> chunks_[kMaxChunks] = {};
};

}  // namespace vtas::sockets
