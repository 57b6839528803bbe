#include "components/fastpath/af_packet_sockets.h"

#include <dirent.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>

namespace vtas::fastpath {

std::string af_packet_interface(const std::string& device) {
  if (device.rfind("net_af_packet", 0) != 0) return "";
  const std::string key = ",iface=";
  size_t at = device.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return device.substr(at, device.find(',', at) - at);
}

std::vector<int> af_packet_sockets(const std::string& interface) {
  std::vector<int> fds;
  const unsigned index = interface.empty() ? 0 : ::if_nametoindex(interface.c_str());
  if (index == 0) return fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return fds;
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == ::dirfd(dir)) continue;
    int domain = 0;
    socklen_t len = sizeof(domain);
    if (::getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
        domain != AF_PACKET) {
      continue;
    }
    sockaddr_ll address{};
    len = sizeof(address);
    if (::getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&address), &len) == 0 &&
        address.sll_ifindex == static_cast<int>(index)) {
      fds.push_back(static_cast<int>(fd));
    }
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());  // readdir's order is not the queues' order
  return fds;
}

uint64_t KernelRingDrops::total() {
  for (int fd : fds_) {
    tpacket_stats stats{};
    socklen_t len = sizeof(stats);
    if (::getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &stats, &len) == 0) total_ += stats.tp_drops;
  }
  return total_;
}

}  // namespace vtas::fastpath
