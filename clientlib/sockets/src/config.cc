#include "clientlib/sockets/src/config.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "clientlib/sockets/src/libc_calls.h"

namespace vtas::sockets {
namespace {

// Constructed on first use: the load-time constructor below may run before this file's
// static initializers, which would otherwise reset what it read.
Config& storage() {
  static Config* c = new Config();
  return *c;
}
std::once_flag g_once;

bool flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
}

void load() {
  Config& g_config = storage();
  if (const char* d = std::getenv("VTAS_RUNTIME_DIR")) g_config.runtime_dir = d;
  if (const char* i = std::getenv("VTAS_INSTANCE")) g_config.instance = i;
  g_config.debug = flag("VTAS_SOCKETS_DEBUG");
  g_config.disabled = flag("VTAS_SOCKETS_DISABLE");
  if (const char* p = std::getenv("VTAS_SOCKETS_PREFIX"); p != nullptr && *p) {
    const int n = std::atoi(p);
    if (n >= 0 && n <= 32) g_config.prefix_length = n;
  }
  if (const char* a = std::getenv("VTAS_SOCKETS_ACCEPTS"); a != nullptr && *a) {
    const int n = std::atoi(a);
    if (n >= 1 && n <= 1024) g_config.accepts_ahead = n;
  }
  if (const char* k = std::getenv("VTAS_SOCKETS_KERNEL_LISTEN"); k != nullptr && *k) {
    g_config.kernel_listen = std::strcmp(k, "0") != 0;
  }
  if (const char* nets = std::getenv("VTAS_SOCKETS_NETWORKS"); nets != nullptr && *nets) {
    if (!parse_networks(nets, g_config.networks)) {
      g_config.networks.clear();
      warn("VTAS_SOCKETS_NETWORKS=%s is not a list of a.b.c.d/len; using the service's network",
           nets);
    }
  }
}

void vlog(const char* format, va_list args) {
  char text[600];
  int n = std::snprintf(text, sizeof(text), "vtas-sockets[%d]: ", static_cast<int>(::getpid()));
  if (n < 0) return;
  int m = std::vsnprintf(text + n, sizeof(text) - static_cast<size_t>(n) - 1, format, args);
  if (m < 0) return;
  size_t len = std::strlen(text);
  text[len++] = '\n';
  (void)!libc().write(2, text, len);
}

// Reads the environment when the library loads, before the program can change it.
__attribute__((constructor)) void load_early() {
  (void)config();
}

}  // namespace

void restore_service_environment() {
  const Config& c = config();
  if (!c.runtime_dir.empty() && std::getenv("VTAS_RUNTIME_DIR") == nullptr) {
    ::setenv("VTAS_RUNTIME_DIR", c.runtime_dir.c_str(), 0);
  }
  if (!c.instance.empty() && std::getenv("VTAS_INSTANCE") == nullptr) {
    ::setenv("VTAS_INSTANCE", c.instance.c_str(), 0);
  }
}

const Config& config() {
  std::call_once(g_once, load);
  return storage();
}

void warn(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vlog(format, args);
  va_end(args);
}

void debug(const char* format, ...) {
  if (!config().debug) return;
  va_list args;
  va_start(args, format);
  vlog(format, args);
  va_end(args);
}

bool parse_networks(const char* text, std::vector<Network>& out) {
  std::string all(text);
  size_t start = 0;
  while (start <= all.size()) {
    size_t end = all.find(',', start);
    if (end == std::string::npos) end = all.size();
    std::string item = all.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    size_t slash = item.find('/');
    int len = 32;
    if (slash != std::string::npos) {
      char* rest = nullptr;
      long v = std::strtol(item.c_str() + slash + 1, &rest, 10);
      if (rest == nullptr || *rest != '\0' || v < 0 || v > 32) return false;
      len = static_cast<int>(v);
      item.resize(slash);
    }
    in_addr a{};
    if (inet_pton(AF_INET, item.c_str(), &a) != 1) return false;
    const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    out.push_back(Network{ntohl(a.s_addr) & mask, mask});
  }
  return true;
}

}  // namespace vtas::sockets
