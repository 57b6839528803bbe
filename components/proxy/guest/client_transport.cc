#include "components/proxy/guest/client_transport.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "components/proxy/channel/channel_layout.h"
#include "components/proxy/channel/ivshmem_protocol.h"

namespace vtas::proxy {
namespace {

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

Result<std::unique_ptr<ClientTransport>> ClientTransport::connect(const std::string& socket_path, int timeout_ms) {
  std::unique_ptr<ClientTransport> t(new ClientTransport());
  t->socket_path_ = socket_path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) return make_error("socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  t->socket_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (t->socket_ < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  if (::connect(t->socket_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return make_error("cannot connect to the host proxy at " + socket_path + ": " + std::strerror(errno) +
                      " (is vtas running with a proxy-host actor? its socket is <runtime_dir>/ivshmem.sock)");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto next = [&](int64_t* value, int* fd) -> Status {
    int rc = receive_ivshmem_message(t->socket_, value, fd, remaining_ms(deadline));
    if (rc == 0) return Status();
    if (rc == -ECONNRESET) {
      return make_error("the host proxy at " + socket_path +
                        " closed the connection during the handshake (see its log: the fast path may be "
                        "down, or the VM limit reached)");
    }
    return make_error("ivshmem handshake with " + socket_path + ": " + std::strerror(-rc));
  };
  int64_t value;
  int fd;
  if (Status s = next(&value, &fd); !s) return s.error();
  if (fd >= 0) ::close(fd);
  if (value != kIvshmemProtocolVersion) {
    return make_error(socket_path + " speaks ivshmem protocol version " + std::to_string(value) + ", not 0");
  }
  if (Status s = next(&value, &fd); !s) return s.error();
  if (fd >= 0) ::close(fd);
  if (value < 0 || value > kIvshmemMaxPeerId) return make_error("the ivshmem server sent peer id " + std::to_string(value));
  t->peer_id_ = static_cast<uint32_t>(value);

  uint32_t host_id = 0, vectors = 0;
  auto complete = [&] {
    auto host = t->peers_.find(host_id);
    return t->channel_ != nullptr && t->own_vectors_.size() >= vectors && host != t->peers_.end() &&
           host->second.size() >= vectors;
  };
  while (!complete()) {
    if (Status s = next(&value, &fd); !s) return s.error();
    if (value == -1) {
      if (fd < 0 || t->region_fd_ >= 0) {
        if (fd >= 0) ::close(fd);
        return make_error("the ivshmem server sent the shared memory twice, or without an fd");
      }
      t->region_fd_ = fd;
      struct stat st {};
      if (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < abi::kVmChannelBytes) {
        return make_error("the shared memory from " + socket_path + " is too small (" +
                          std::to_string(st.st_size) + " bytes)");
      }
      t->region_size_ = static_cast<uint64_t>(st.st_size);
      void* p = ::mmap(nullptr, abi::kVmChannelBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) return make_error(std::string("mmap of the VM channel: ") + std::strerror(errno));
      t->channel_ = p;
      const auto* header = static_cast<const ChannelHeader*>(p);
      uint64_t magic = std::atomic_ref<const uint64_t>(header->magic).load(std::memory_order_acquire);
      if (magic != kChannelMagic) {
        return make_error(socket_path + " is an ivshmem server, but not vtas's host proxy (no vtas channel)");
      }
      host_id = header->host_peer_id;
      vectors = header->vectors;
      if (vectors == 0 || vectors > 64) return make_error("vtas channel header names " + std::to_string(vectors) + " vectors");
      continue;
    }
    if (value < 0 || value > kIvshmemMaxPeerId) {
      if (fd >= 0) ::close(fd);
      return make_error("the ivshmem server sent peer id " + std::to_string(value));
    }
    const auto peer = static_cast<uint32_t>(value);
    if (fd < 0) {
      t->peers_.erase(peer);  // that peer left
      continue;
    }
    if (peer == t->peer_id_) {
      t->own_vectors_.push_back(shm::Doorbell::adopt(fd));
    } else {
      t->peers_[peer].push_back(shm::Doorbell::adopt(fd));
    }
  }
  return t;
}

ClientTransport::~ClientTransport() {
  if (channel_ != nullptr) ::munmap(channel_, abi::kVmChannelBytes);
  if (region_fd_ >= 0) ::close(region_fd_);
  if (socket_ >= 0) ::close(socket_);
}

Status ClientTransport::ring_host(uint32_t host_peer_id, uint32_t vector) {
  auto found = peers_.find(host_peer_id);
  if (found == peers_.end() || vector >= found->second.size()) {
    return make_error("no doorbell for ivshmem peer " + std::to_string(host_peer_id) + " vector " +
                      std::to_string(vector));
  }
  return found->second[vector].ring();
}

std::string ClientTransport::describe() const {
  return "ivshmem client of " + socket_path_ + " (peer id " + std::to_string(peer_id_) + ", " +
         std::to_string(region_size_ >> 20) + " MiB region)";
}

std::map<uint32_t, size_t> ClientTransport::peer_vector_counts() const {
  std::map<uint32_t, size_t> out;
  for (const auto& [id, fds] : peers_) out[id] = fds.size();
  return out;
}

}  // namespace vtas::proxy
