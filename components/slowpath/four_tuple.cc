#include "components/slowpath/four_tuple.h"

namespace vtas::conn {

std::string ipv4_to_string(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
         std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff);
}

std::string to_string(const FourTuple& t) {
  return ipv4_to_string(t.local_ip) + ":" + std::to_string(t.local_port) + "<-" +
         ipv4_to_string(t.remote_ip) + ":" + std::to_string(t.remote_port);
}

}  // namespace vtas::conn
