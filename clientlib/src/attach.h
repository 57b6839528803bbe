// Attachment: the process's link to the vtas service, made by flextcp_init() and undone by
// vtas_fini(). It connects to <runtime_dir>/app.sock (components/fastpath/abi/
// attach_protocol.h), receives the app region (a memfd), the control doorbell and one
// doorbell per fast-path core, maps the region and validates its headers once; contexts
// (context.h) then take their rings from it. One per process; the socket is shared by all
// contexts, so exchanges on it hold socket_mutex().
//
// Apps inside a VM attach the same way, to the guest proxy (components/proxy): their region
// is a slice of the VM's region, at AttachResponse.region_offset in the fd they receive (the
// VM region's memfd, or the VFIO device fd of the ivshmem device); on the host the offset is
// 0 and the whole fd is the region.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "components/fastpath/abi/app_abi.h"
#include "runtime/result.h"
#include "runtime/shm/doorbell.h"
#include "runtime/shm/region.h"

namespace vtas::client {

// Where flextcp_init() connects: $VTAS_RUNTIME_DIR/app.sock, else
// /run/vtas/$VTAS_INSTANCE/app.sock, else /run/vtas/vtas/app.sock.
std::string attach_socket_path();

// How long flextcp_init() and flextcp_context_create() wait for the service to answer.
inline constexpr int kAttachTimeoutMs = 10000;

// The app region as this process maps it: all of the fd (region_offset 0: a host app's memfd,
// exactly as shm::Region::map_fd maps it), or the slice [region_offset, +region_size) of the
// fd for an app in a VM. Offsets inside it are relative to the slice start.
class AppRegionMapping {
 public:
  // Takes ownership of `fd` (closed on failure too).
  static Result<AppRegionMapping> map(int fd, uint64_t region_offset, uint64_t region_size);
  AppRegionMapping(AppRegionMapping&& other) noexcept;
  AppRegionMapping& operator=(AppRegionMapping&& other) noexcept;
  AppRegionMapping(const AppRegionMapping&) = delete;
  AppRegionMapping& operator=(const AppRegionMapping&) = delete;
  ~AppRegionMapping();

  void* base() const { return base_; }
  size_t size() const { return size_; }
  int fd() const { return fd_; }
  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }
  // As shm::Region::at: nullptr when the object would not lie inside or would be misaligned.
  template <class T>
  T* at(uint64_t offset) const {
    if (!contains(offset, sizeof(T))) return nullptr;
    char* p = static_cast<char*>(base_) + offset;
    if (reinterpret_cast<uintptr_t>(p) % alignof(T) != 0) return nullptr;
    return reinterpret_cast<T*>(p);
  }

 private:
  AppRegionMapping() = default;
  std::optional<shm::Region> whole_;  // region_offset 0
  void* base_ = nullptr;              // a slice mapped here otherwise
  size_t size_ = 0;
  int fd_ = -1;
};

class Attachment {
 public:
  // The current attachment, or nullptr before flextcp_init() / after vtas_fini().
  static Attachment* current();
  // flextcp_init() / vtas_fini(): 0 or -1 with errno and vtas_last_error().
  static int attach();
  static int detach();

  ~Attachment();
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;

  int socket_fd() const { return socket_fd_; }
  std::mutex& socket_mutex() { return socket_mutex_; }
  const AppRegionMapping& region() const { return *region_; }
  uint8_t* base() const { return static_cast<uint8_t*>(region_->base()); }
  // The app region header as validated at attach (never re-read from shared memory).
  const abi::AppRegionHeader& header() const { return header_; }
  uint32_t num_cores() const { return header_.num_cores; }
  uint32_t app_id() const { return app_id_; }
  shm::Doorbell& control_doorbell() { return control_doorbell_; }
  shm::Doorbell& core_doorbell(uint32_t core) { return core_doorbells_[core]; }
  // TAS --fp-poll-interval-app from the AttachResponse: how long a blocking wait keeps
  // polling after the context's last event before it sleeps (0: sleep at once). 0 as well
  // when this process may run only on CPUs the fast path runs on (cpus_only_fast_path()).
  uint32_t poll_interval_app_us() const { return poll_interval_app_us_; }

  // True once the service closed the attach socket (it died and did not come back for this
  // app): nothing will ever arrive on the rings again. Looks at the socket without blocking
  // and without reading (other threads may be in a context exchange on it); thread-safe.
  bool service_gone();
  // What service_gone() found last, without looking at the socket.
  bool service_gone_seen() const { return service_gone_.load(std::memory_order_relaxed); }

  // True if [offset, offset + length) may hold a connection buffer: non-empty, inside the
  // heap, and clear of every context queue block of this process.
  bool buffer_range_ok(uint64_t offset, uint64_t length) const;
  void add_queue_block(uint64_t offset, uint64_t length);

  std::atomic<int>& live_contexts() { return live_contexts_; }

 private:
  Attachment() = default;

  int socket_fd_ = -1;
  uint32_t app_id_ = 0;
  abi::AppRegionHeader header_{};
  std::optional<AppRegionMapping> region_;
  shm::Doorbell control_doorbell_ = shm::Doorbell::adopt(-1);
  std::vector<shm::Doorbell> core_doorbells_;
  std::mutex socket_mutex_;
  mutable std::mutex blocks_mutex_;
  std::vector<std::pair<uint64_t, uint64_t>> queue_blocks_;  // offset, length
  std::atomic<int> live_contexts_{0};
  uint32_t poll_interval_app_us_ = 0;
  std::atomic<bool> service_gone_{false};

  friend int attach_locked();
};

}  // namespace vtas::client
