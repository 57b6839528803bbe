#include "clientlib/sockets/src/fd_table.h"

#include <new>

namespace vtas::sockets {

bool FdTable::set(int fd, FdObject* object) {
  if (fd < 0 || fd >= kChunkSize * kMaxChunks) return object == nullptr;
  auto& slot_chunk = chunks_[fd / kChunkSize];
  Chunk* chunk = slot_chunk.load(std::memory_order_acquire);
  if (chunk == nullptr) {
    if (object == nullptr) return true;
    // Chunks are never freed: a lock-free get() may be reading one.
    chunk = new (std::nothrow) Chunk();
    if (chunk == nullptr) return false;
    slot_chunk.store(chunk, std::memory_order_release);
  }
  chunk->slots[fd % kChunkSize].store(object, std::memory_order_release);
  return true;
}

}  // namespace vtas::sockets
