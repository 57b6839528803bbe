// af_packet_sockets and KernelRingDrops on a real packet socket: one bound to the loopback interface with a tiny
// receive buffer, flooded and never read, so the kernel drops and counts.
#include "components/fastpath/af_packet_sockets.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace vtas::fastpath {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// A packet socket on `interface` receiving every frame there.
int packet_socket_on(const char* interface) {
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) return -1;
  int small = 1;  // the kernel rounds it up to its minimum: a few frames fit
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = static_cast<int>(::if_nametoindex(interface));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_udp_to_loopback(int datagrams) {
  Fd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);  // discard; nobody needs to listen, the packet socket sees it anyway
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char payload[1000] = {};
  for (int i = 0; i < datagrams; ++i) {
    ::sendto(udp.get(), payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  }
}

TEST(KernelRingDrops, CountsWhatTheKernelDroppedOnTheInterfacesPacketSockets) {
  Fd sock(packet_socket_on("lo"));
  if (sock.get() < 0) GTEST_SKIP() << "packet sockets need CAP_NET_RAW: " << std::strerror(errno);
  std::vector<int> found = af_packet_sockets("lo");
  EXPECT_NE(std::find(found.begin(), found.end(), sock.get()), found.end());
  KernelRingDrops drops(found);
  ASSERT_GE(drops.sockets(), 1u);
  EXPECT_EQ(drops.total(), 0u);
  send_udp_to_loopback(2000);
  const uint64_t first = drops.total();
  EXPECT_GT(first, 1000u);  // the buffer holds a few frames of 4000 (each seen out and in)
  // The kernel resets its counters when read: the total keeps what was read before.
  send_udp_to_loopback(2000);
  EXPECT_GT(drops.total(), first + 1000);
}

TEST(KernelRingDrops, NoSocketsForAnotherInterfaceOrNone) {
  Fd sock(packet_socket_on("lo"));
  if (sock.get() < 0) GTEST_SKIP() << "packet sockets need CAP_NET_RAW";
  EXPECT_TRUE(af_packet_sockets("vtas-no-such-if").empty());
  EXPECT_TRUE(af_packet_sockets("").empty());
  EXPECT_EQ(KernelRingDrops().total(), 0u);
}

TEST(KernelRingDrops, InterfaceOfAnAfPacketDevice) {
  EXPECT_EQ(af_packet_interface("net_af_packet0,iface=vtas0"), "vtas0");
  EXPECT_EQ(af_packet_interface("net_af_packet1,qpairs=2,iface=veth-x,blocksz=4096"), "veth-x");
  EXPECT_EQ(af_packet_interface("net_memif0,role=server"), "");
  EXPECT_EQ(af_packet_interface("0000:03:00.0"), "");
  EXPECT_EQ(af_packet_interface("net_af_packet0"), "");
}

}  // namespace
}  // namespace vtas::fastpath
