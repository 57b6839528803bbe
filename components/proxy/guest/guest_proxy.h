// GuestProxy: the guest side of vtas for VMs, above either transport (transport.h). It serves
// the same attach protocol as the host's fast path (components/fastpath/abi/attach_protocol.h)
// on a socket inside the VM (/run/vtas/<instance>/app.sock), so an unmodified libvtas app in
// the VM attaches exactly as on the host, and relays over the channel:
//   AttachRequest  -> AppAttach      AppAttached    -> AttachResponse + fds [the region fd
//                                                     (mapped at region_offset), local control
//                                                     doorbell, local core doorbells]
//   ContextRequest -> ContextCreate  ContextCreated -> ContextResponse (the app's eventfd is
//                                                     kept: an interrupt rings it)
//   app socket EOF -> AppDetach      local doorbell -> WakeCore / WakeControl
// plus ivshmem doorbells both ways when the other side sleeps. The fast path interrupts the VM
// itself to wake a context (the host proxy hands it the VM's interrupt eventfd as the context's
// doorbell); an interrupt wakes every context, and the apps look at their own queues.
// Single-threaded (epoll); run() until stop() or until the host side is gone.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "components/proxy/channel/channel.h"
#include "components/proxy/guest/transport.h"
#include "proto/proxy.pb.h"
#include "runtime/result.h"
#include "runtime/shm/doorbell.h"

namespace vtas::proxy {

struct GuestProxyOptions {
  std::string socket_path;      // where apps in the VM attach (<runtime_dir>/app.sock)
  uint32_t max_apps = 64;
};

struct GuestProxyCounters {
  uint64_t apps_attached = 0;
  uint64_t apps_refused = 0;
  uint64_t contexts = 0;
  uint64_t wakes_to_host = 0;
  uint64_t wakes_from_host = 0;  // interrupts that woke the contexts
  uint64_t host_doorbells = 0;  // ivshmem doorbells we rang
};

class GuestProxy {
 public:
  static Result<std::unique_ptr<GuestProxy>> create(std::unique_ptr<GuestTransport> transport,
                                                    GuestProxyOptions options);
  ~GuestProxy();
  GuestProxy(const GuestProxy&) = delete;
  GuestProxy& operator=(const GuestProxy&) = delete;

  // Serves until stop(); an error when the host side went away or broke the channel.
  Status run();
  // Makes run() return soon. Async-signal-safe.
  void stop();

  const GuestTransport& transport() const { return *transport_; }
  const GuestProxyCounters& counters() const { return counters_; }

 private:
  enum class AppState { kNew, kAttaching, kAttached };
  struct App {
    int fd;
    AppState state = AppState::kNew;
    uint32_t app_id = 0;
  };
  struct PendingContext {
    int app_fd;
    shm::Doorbell app_eventfd;
  };
  struct Context {
    int app_fd;
    shm::Doorbell app_eventfd;
  };

  GuestProxy(std::unique_ptr<GuestTransport> transport, ChannelEndpoint channel, GuestProxyOptions options);
  Status listen();
  Status watch(int fd, uint64_t tag);
  void accept_apps();
  void on_app_readable(int fd);
  void on_attach_request(App& app);
  void on_context_request(App& app);
  void close_app(int fd, bool tell_host);
  Status process_channel();
  void on_app_attached(const AppAttached& m);
  void on_context_created(const ContextCreated& m);
  void wake_contexts();                  // the VM was interrupted
  void on_service_reset(const std::string& reason);
  Status ensure_doorbells(uint32_t num_cores);
  void on_local_doorbell(int index);  // -1: control, else a core
  void send_to_host(ChannelMessage message);
  Status flush();
  void refuse_attach(int fd, int status, const std::string& why);

  std::unique_ptr<GuestTransport> transport_;
  ChannelEndpoint channel_;
  GuestProxyOptions options_;
  int epoll_ = -1;
  int listen_fd_ = -1;
  shm::Doorbell stop_ = shm::Doorbell::adopt(-1);
  std::optional<shm::Doorbell> control_doorbell_;
  std::vector<shm::Doorbell> core_doorbells_;
  std::map<int, App> apps_;                       // by socket fd
  std::map<uint32_t, int> attach_requests_;       // request id -> app fd
  std::map<uint32_t, PendingContext> context_requests_;
  std::map<uint32_t, Context> contexts_;          // by wake id
  uint32_t next_request_id_ = 1;
  std::deque<ChannelMessage> outbox_;
  bool control_wake_queued_ = false;
  std::vector<bool> core_wake_queued_;
  GuestProxyCounters counters_;
};

}  // namespace vtas::proxy
