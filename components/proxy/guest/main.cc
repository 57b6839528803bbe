// vtas-proxy-guest: runs inside a VM (or, with --client, next to vtas on a machine without a
// VM) and lets libvtas apps attach to the host's vtas as if it were local.
//
//   vtas-proxy-guest [--pci ADDR] [--vfio-mode auto|type1|noiommu]   inside a VM (VFIO)
//   vtas-proxy-guest --client SOCKET                                   ivshmem client of the
//                                                                      host proxy's socket
//   common: [--runtime-dir DIR | --instance NAME] [--ready-fd FD]
//
// Apps find it where libvtas looks: $VTAS_RUNTIME_DIR/app.sock, else /run/vtas/$VTAS_INSTANCE/
// app.sock, else /run/vtas/vtas/app.sock. The same rule picks the socket this program serves
// when neither --runtime-dir nor --instance is given. Prints "vtas-proxy-guest: ready ..." on
// stdout (and writes a byte to --ready-fd) once apps can attach.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "components/proxy/guest/client_transport.h"
#include "components/proxy/guest/guest_proxy.h"
#include "components/proxy/guest/vfio_transport.h"

namespace {

vtas::proxy::GuestProxy* g_proxy = nullptr;

void on_signal(int) {
  if (g_proxy != nullptr) g_proxy->stop();
}

int usage() {
  std::fprintf(stderr,
               "usage: vtas-proxy-guest [--pci ADDR] [--vfio-mode auto|type1|noiommu]\n"
               "       vtas-proxy-guest --client SOCKET\n"
               "       common options: [--runtime-dir DIR | --instance NAME] [--ready-fd FD]\n");
  return 64;
}

std::string default_runtime_dir() {
  if (const char* dir = std::getenv("VTAS_RUNTIME_DIR"); dir && *dir) return dir;
  if (const char* instance = std::getenv("VTAS_INSTANCE"); instance && *instance) {
    return std::string("/run/vtas/") + instance;
  }
  return "/run/vtas/vtas";
}

}  // namespace

int main(int argc, char** argv) {
  std::string client_socket, runtime_dir = default_runtime_dir();
  vtas::proxy::VfioOptions vfio;
  int ready_fd = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--client" && (v = value())) {
      client_socket = v;
    } else if (a == "--pci" && (v = value())) {
      vfio.pci_address = v;
    } else if (a == "--vfio-mode" && (v = value())) {
      std::string mode = v;
      if (mode == "auto") vfio.mode = vtas::proxy::VfioMode::kAuto;
      else if (mode == "type1") vfio.mode = vtas::proxy::VfioMode::kType1;
      else if (mode == "noiommu") vfio.mode = vtas::proxy::VfioMode::kNoIommu;
      else return usage();
    } else if (a == "--runtime-dir" && (v = value())) {
      runtime_dir = v;
    } else if (a == "--instance" && (v = value())) {
      runtime_dir = std::string("/run/vtas/") + v;
    } else if (a == "--ready-fd" && (v = value())) {
      ready_fd = std::atoi(v);
    } else {
      return usage();
    }
  }

  std::unique_ptr<vtas::proxy::GuestTransport> transport;
  if (!client_socket.empty()) {
    auto t = vtas::proxy::ClientTransport::connect(client_socket, 5000);
    if (!t) {
      std::fprintf(stderr, "vtas-proxy-guest: %s\n", t.error().message.c_str());
      return 1;
    }
    transport = std::move(*t);
  } else {
    auto t = vtas::proxy::VfioTransport::open(vfio);
    if (!t) {
      std::fprintf(stderr, "vtas-proxy-guest: %s\n", t.error().message.c_str());
      return 1;
    }
    transport = std::move(*t);
  }
  const std::string description = transport->describe();
  vtas::proxy::GuestProxyOptions options;
  options.socket_path = runtime_dir + "/app.sock";
  auto proxy = vtas::proxy::GuestProxy::create(std::move(transport), options);
  if (!proxy) {
    std::fprintf(stderr, "vtas-proxy-guest: %s\n", proxy.error().message.c_str());
    return 1;
  }
  g_proxy = proxy->get();
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::printf("vtas-proxy-guest: ready: apps attach at %s; %s\n", options.socket_path.c_str(), description.c_str());
  std::fflush(stdout);
  if (ready_fd >= 0) {
    (void)!::write(ready_fd, "r", 1);
    ::close(ready_fd);
  }
  vtas::Status s = (*proxy)->run();
  g_proxy = nullptr;
  if (!s) {
    std::fprintf(stderr, "vtas-proxy-guest: %s\n", s.error().message.c_str());
    return 1;
  }
  return 0;
}
