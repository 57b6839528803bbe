// Attachment: the process's link to the vtas service, made by flextcp_init() and undone by
// vtas_fini(). It connects to <runtime_dir>/app.sock (components/fastpath/abi/
// attach_protocol.h), receives the app region (a memfd), the control doorbell and one
// doorbell per fast-path core, maps the region and validates its headers once; contexts
// (context.h) then take their rings from it. One per process; the socket is shared by all
// contexts, so exchanges on it hold socket_mutex().
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "components/fastpath/abi/app_abi.h"
#include "runtime/shm/doorbell.h"
#include "runtime/shm/region.h"

namespace vtas::client {

// Where flextcp_init() connects: $VTAS_RUNTIME_DIR/app.sock, else
// /run/vtas/$VTAS_INSTANCE/app.sock, else /run/vtas/vtas/app.sock.
std::string attach_socket_path();

// How long flextcp_init() and flextcp_context_create() wait for the service to answer.
inline constexpr int kAttachTimeoutMs = 10000;

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
  const shm::Region& region() const { return *region_; }
  uint8_t* base() const { return static_cast<uint8_t*>(region_->base()); }
  // The app region header as validated at attach (never re-read from shared memory).
  const abi::AppRegionHeader& header() const { return header_; }
  uint32_t num_cores() const { return header_.num_cores; }
  uint32_t app_id() const { return app_id_; }
  shm::Doorbell& control_doorbell() { return control_doorbell_; }
  shm::Doorbell& core_doorbell(uint32_t core) { return core_doorbells_[core]; }

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
  std::optional<shm::Region> region_;
  shm::Doorbell control_doorbell_ = shm::Doorbell::adopt(-1);
  std::vector<shm::Doorbell> core_doorbells_;
  std::mutex socket_mutex_;
  mutable std::mutex blocks_mutex_;
  std::vector<std::pair<uint64_t, uint64_t>> queue_blocks_;  // offset, length
  std::atomic<int> live_contexts_{0};

  friend int attach_locked();
};

}  // namespace vtas::client
