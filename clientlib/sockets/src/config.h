// Configuration of libvtas_sockets, read once from the environment, and its log.
//   VTAS_SOCKETS_DEBUG=1        log every decision and failure to stderr
//   VTAS_SOCKETS_DISABLE=1      serve nothing: every call goes to the kernel
//   VTAS_SOCKETS_NETWORKS=a/n,.. IPv4 networks reached through vtas (default: the service's
//                               address with VTAS_SOCKETS_PREFIX, default 24)
//   VTAS_SOCKETS_ACCEPTS=N      accepts kept posted per listener (default 8)
//   VTAS_SOCKETS_KERNEL_LISTEN=0 vtas listeners do not also listen in the kernel
// The service is found as libvtas finds it (VTAS_RUNTIME_DIR, VTAS_INSTANCE).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vtas::sockets {

struct Network {
  uint32_t address;  // host order
  uint32_t mask;     // host order
};

struct Config {
  bool debug = false;
  bool disabled = false;
  int prefix_length = 24;
  int accepts_ahead = 8;
  bool kernel_listen = true;      // vtas listeners listen in the kernel too (loopback clients)
  std::vector<Network> networks;  // empty: derive from the service's address
  // VTAS_RUNTIME_DIR / VTAS_INSTANCE as they were when the library loaded: programs that
  // clear their environment before forking workers (nginx) still find the service.
  std::string runtime_dir;
  std::string instance;
};

// Puts VTAS_RUNTIME_DIR / VTAS_INSTANCE back into the environment if the program removed
// them (libvtas reads them when it attaches).
void restore_service_environment();

const Config& config();

// Writes "vtas-sockets[pid]: <message>\n" to stderr: always for warn(), under
// VTAS_SOCKETS_DEBUG only for debug(). No allocation, no stdio (safe anywhere).
void warn(const char* format, ...) __attribute__((format(printf, 1, 2)));
void debug(const char* format, ...) __attribute__((format(printf, 1, 2)));
inline bool debug_on() {
  return config().debug;
}

// Parses "10.0.0.0/24,192.168.1.0/24"; false on a malformed entry.
bool parse_networks(const char* text, std::vector<Network>& out);

}  // namespace vtas::sockets
