// ClientTransport: the guest proxy as an ivshmem client of the host proxy's socket (what QEMU's
// contrib ivshmem-client does), for machines without a VM and for protocol-level tests. The
// host proxy's handshake gives it the VM region (a memfd: apps map it directly), the host's
// doorbell eventfd and this "VM"'s own interrupt eventfd. Guest proxy thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "components/proxy/guest/transport.h"
#include "runtime/shm/doorbell.h"

namespace vtas::proxy {

class ClientTransport final : public GuestTransport {
 public:
  // Connects to the host proxy at `socket_path` and completes the handshake within
  // `timeout_ms`.
  static Result<std::unique_ptr<ClientTransport>> connect(const std::string& socket_path, int timeout_ms);
  ~ClientTransport() override;

  uint32_t peer_id() const override { return peer_id_; }
  int region_fd() const override { return region_fd_; }
  uint64_t region_offset() const override { return 0; }
  uint64_t region_size() const override { return region_size_; }
  void* channel() const override { return channel_; }
  int interrupt_fd() const override { return own_vectors_.at(0).fd(); }
  void clear_interrupt() override { own_vectors_.at(0).drain(); }
  Status ring_host(uint32_t host_peer_id, uint32_t vector) override;
  int hangup_fd() const override { return socket_; }
  std::string describe() const override;

  // Peers whose eventfds the server sent us (the host only, for vtas): id -> vector count.
  std::map<uint32_t, size_t> peer_vector_counts() const;

 private:
  ClientTransport() = default;

  std::string socket_path_;
  int socket_ = -1;
  uint32_t peer_id_ = 0;
  int region_fd_ = -1;
  uint64_t region_size_ = 0;
  void* channel_ = nullptr;
  std::vector<shm::Doorbell> own_vectors_;
  std::map<uint32_t, std::vector<shm::Doorbell>> peers_;
};

}  // namespace vtas::proxy
