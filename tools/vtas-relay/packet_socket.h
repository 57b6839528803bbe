// PacketSocket: one AF_PACKET socket bound to one interface, the relay's only contact with
// the network. It receives every frame arriving on the interface (promiscuous, frames the
// host itself sends are ignored) and sends frames out as they are, bypassing the qdisc.
// Batched with recvmmsg/sendmmsg; non-blocking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/result.h"

namespace vtas::relay {

class PacketSocket {
 public:
  static Result<PacketSocket> open(const std::string& interface);

  PacketSocket(PacketSocket&& other) noexcept;
  PacketSocket& operator=(PacketSocket&&) = delete;
  PacketSocket(const PacketSocket&) = delete;
  ~PacketSocket();

  int fd() const { return fd_; }
  const std::string& interface() const { return interface_; }
  uint32_t mtu() const { return mtu_; }

  // Receives up to `count` frames into `buffers` (each `capacity` bytes). A frame longer than
  // `capacity` comes back with truncated[i] set. Returns the number received (0: none
  // waiting) or -errno.
  int receive(uint8_t* const* buffers, size_t capacity, uint32_t* lengths, bool* truncated,
              int count);
  // Sends `count` frames. Returns how many the kernel took (from the first), or -errno when it
  // took none.
  int send(const uint8_t* const* frames, const uint32_t* lengths, int count);
  // Frames the kernel dropped because our receive buffer was full (since open).
  uint64_t kernel_drops();

 private:
  PacketSocket(int fd, std::string interface, uint32_t mtu)
      : fd_(fd), interface_(std::move(interface)), mtu_(mtu) {}

  int fd_ = -1;
  std::string interface_;
  uint32_t mtu_ = 1500;
  uint64_t drops_ = 0;
};

}  // namespace vtas::relay
