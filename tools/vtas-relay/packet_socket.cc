#include "tools/vtas-relay/packet_socket.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace vtas::relay {
namespace {

constexpr int kMaxBatch = 64;
constexpr int kSocketBufferBytes = 16 << 20;

std::string errno_text(int err) {
  return std::string(std::strerror(err));
}

void set_buffer(int fd, int force_option, int option) {
  const int bytes = kSocketBufferBytes;
  // FORCE needs CAP_NET_ADMIN (the relay runs as root for AF_PACKET anyway); fall back to
  // what rmem_max/wmem_max allow.
  if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
  }
}

}  // namespace

Result<PacketSocket> PacketSocket::open(const std::string& interface) {
  const std::string what = "vtas-relay: interface " + interface;
  const unsigned index = ::if_nametoindex(interface.c_str());
  if (index == 0) return make_error(what + " not found (" + errno_text(errno) + ")");
  // Protocol 0 until bound: a socket for ETH_P_ALL would see every interface's frames
  // between socket() and bind().
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return make_error(what + ": AF_PACKET socket failed (" + errno_text(errno) +
                      "); the relay needs CAP_NET_RAW (run it as root)");
  }
  PacketSocket s(fd, interface, 1500);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
    s.mtu_ = static_cast<uint32_t>(ifr.ifr_mtu);
  if (::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
    return make_error(what + " is down; bring it up first (ip link set " + interface + " up)");
  }
  const int one = 1;
  ::setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  ::setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
  set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ALL);
  addr.sll_ifindex = static_cast<int>(index);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return make_error(what + ": bind failed (" + errno_text(errno) + ")");
  }
  packet_mreq mreq{};
  mreq.mr_ifindex = static_cast<int>(index);
  mreq.mr_type = PACKET_MR_PROMISC;
  if (::setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
    return make_error(what + ": cannot turn on promiscuous mode (" + errno_text(errno) + ")");
  }
  s.kernel_drops();  // reset the kernel's counters
  s.drops_ = 0;
  return s;
}

PacketSocket::PacketSocket(PacketSocket&& other) noexcept
    : fd_(other.fd_),
      interface_(std::move(other.interface_)),
      mtu_(other.mtu_),
      drops_(other.drops_) {
  other.fd_ = -1;
}

PacketSocket::~PacketSocket() {
  if (fd_ >= 0) ::close(fd_);
}

int PacketSocket::receive(uint8_t* const* buffers, size_t capacity, uint32_t* lengths,
                          bool* truncated, int count) {
  if (count > kMaxBatch) count = kMaxBatch;
  mmsghdr msgs[kMaxBatch];
  iovec iov[kMaxBatch];
  std::memset(msgs, 0, sizeof(mmsghdr) * static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    iov[i] = {buffers[i], capacity};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const int n = ::recvmmsg(fd_, msgs, static_cast<unsigned>(count), MSG_DONTWAIT, nullptr);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
  for (int i = 0; i < n; ++i) {
    lengths[i] = msgs[i].msg_len;
    truncated[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
  }
  return n;
}

int PacketSocket::send(const uint8_t* const* frames, const uint32_t* lengths, int count) {
  if (count > kMaxBatch) count = kMaxBatch;
  mmsghdr msgs[kMaxBatch];
  iovec iov[kMaxBatch];
  std::memset(msgs, 0, sizeof(mmsghdr) * static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    iov[i] = {const_cast<uint8_t*>(frames[i]), lengths[i]};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const int n = ::sendmmsg(fd_, msgs, static_cast<unsigned>(count), MSG_DONTWAIT);
  return n < 0 ? -errno : n;
}

uint64_t PacketSocket::kernel_drops() {
  tpacket_stats stats{};
  socklen_t len = sizeof stats;
  // Reading the statistics resets the kernel's counters: keep the running total here.
  if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &stats, &len) == 0) drops_ += stats.tp_drops;
  return drops_;
}

}  // namespace vtas::relay
