// AppManager: the control thread's side of applications. It serves the attach socket
// (abi/attach_protocol.h), creates each app's region (memfd, 0600, hugepages if configured),
// lays out contexts and their rings, allocates connection buffers from the app's heap, relays
// kout requests and writes kin events. Control thread only.
//
// Virtual machines: a VM proxy attaches a VM's whole region (what the VM sees as its ivshmem
// BAR); each app in that VM gets a slice of it as its region, so a VM's queues and buffers
// live only in memory that VM can see.
//
// Isolation: every app has its own region (host) or slice (VM); an app can only name flows
// through its own rings, and the cores check that a flow belongs to the app whose ring carried
// the bump.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "components/fastpath/abi/app_abi.h"
#include "components/fastpath/abi/attach_protocol.h"
#include "components/fastpath/core_apps.h"
#include "components/fastpath/offset_allocator.h"
#include "components/fastpath/shared_rate_limit.h"
#include "components/wire/address.h"
#include "runtime/result.h"
#include "runtime/shm/doorbell.h"
#include "runtime/shm/region.h"
#include "runtime/shm/spsc_ring.h"

namespace vtas::fastpath {

struct AppManagerConfig {
  std::string socket_path;          // <runtime_dir>/app.sock
  uint64_t region_size = 64ull << 20;
  bool hugepages = false;
  uint32_t num_cores = 1;
  uint32_t kin_capacity = 16384;    // entries (TAS --app-kout-len / 64)
  uint32_t kout_capacity = 16384;   // entries (TAS --app-kin-len / 64)
  uint32_t arx_capacity = 4096;
  uint32_t atx_capacity = 4096;
  uint32_t max_apps = 1024;
  uint32_t local_ip = 0;            // network order
  wire::MacAddr local_mac;
  std::vector<int> core_doorbell_fds;  // passed to apps: they wake sleeping cores
  int control_doorbell_fd = -1;        // passed to apps: they wake the control thread
  uint32_t poll_interval_app_us = 10000;  // TAS --fp-poll-interval-app, told to every app
  uint64_t fastpath_cpus = 0;             // AppRegionHeader::fastpath_cpus of host apps
  // Connected clients that have not sent their first message yet: how many may wait at once
  // (the oldest is dropped to make room) and for how long.
  uint32_t max_pending_clients = 64;
  std::chrono::milliseconds pending_timeout{1000};
};

class AppManager {
 public:
  struct Context {
    uint32_t id;
    uint64_t queue_block;
    shm::RingProducer<abi::AppEvent> kin;
    shm::RingConsumer<abi::AppRequest> kout;
    shm::Doorbell app_doorbell;        // the app's context eventfd
    std::vector<CoreAppContext*> per_core;  // handed to the cores; freed after release
  };
  struct App {
    uint32_t id;
    pid_t pid;
    uid_t uid;
    std::string name;
    int socket_fd;                     // -1 for apps in a VM (their VM's proxy speaks for them)
    uint32_t vm_id = 0;                // 0: an app on the host
    std::optional<shm::Region> region; // host apps own their region; VM apps use a slice
    uint8_t* base = nullptr;           // start of the app's region (or slice)
    uint64_t size = 0;
    uint64_t slice_offset = 0;         // VM apps: offset of the slice in the VM region
    OffsetAllocator heap{0, 0};
    std::vector<std::unique_ptr<Context>> contexts;
    bool detaching = false;
    uint32_t cores_pending_release = 0;
    uint64_t requests = 0, bad_requests = 0;
  };
  struct Vm {
    uint32_t id;                       // ours (unique while attached)
    uint32_t proxy_vm_id;              // the proxy's id for it
    std::string name;
    int socket_fd;                     // the proxy's connection for this VM
    std::optional<shm::Region> region;
    OffsetAllocator heap{0, 0};        // slices for its apps
    uint32_t max_connections = 0;
    uint32_t connections = 0;
    // Its transmit rate (max_rate_kbps), shared by all its apps' flows on every core; null
    // when unlimited. Lives as long as the VM, which outlives its apps' release by the cores.
    std::unique_ptr<SharedRateLimit> rate_limit;
    std::vector<uint32_t> apps;
    bool detaching = false;
  };

  // What the manager needs from its owner (the fastpath actor).
  struct Hooks {
    std::function<void(int fd, uint32_t app_id)> watch_app_socket;
    std::function<void(int fd, uint32_t vm_id)> watch_vm_socket;
    std::function<void(int fd)> watch_pending_client;  // readable: call on_pending_client(fd)
    std::function<void(int fd)> unwatch;
    std::function<void(App&)> attached;
    std::function<void(App&)> detaching;              // flows must be removed, cores told
    std::function<void(App&, Context&)> context_created;
  };

  AppManager(AppManagerConfig config, Hooks hooks);
  ~AppManager();

  Status listen();
  int listen_fd() const { return listen_fd_; }
  // The listen socket is readable: accepts every waiting client without blocking. A client
  // whose first message is not there yet waits in a bounded pending set (watched through
  // Hooks::watch_pending_client) so a silent one never holds up the others.
  void accept_pending();
  void on_pending_client(int fd);              // a pending client's socket is readable
  // Drops pending clients that said nothing for config.pending_timeout. Call periodically.
  void expire_pending_clients(std::chrono::steady_clock::time_point now);
  size_t pending_client_count() const { return pending_clients_.size(); }
  uint64_t pending_clients_dropped() const { return pending_clients_dropped_; }
  void on_app_socket(uint32_t app_id);         // an app's socket is readable (request or EOF)
  void on_vm_socket(uint32_t vm_id);           // a VM proxy's socket is readable

  // Pops up to `max` requests from every context's kout ring, validated; `relay` gets each.
  size_t drain_requests(const std::function<void(App&, Context&, const abi::AppRequest&)>& relay,
                        size_t max = 256);
  // Writes an event into a context's kin ring and rings its doorbell. False if the app or
  // context does not exist or the ring is full (the caller keeps it and retries).
  bool post_event(uint32_t app_id, uint32_t context_id, const abi::AppEvent& event);

  std::optional<uint64_t> allocate(uint32_t app_id, uint64_t bytes);
  void release(uint32_t app_id, uint64_t offset);
  App* find(uint32_t app_id);
  Vm* find_vm(uint32_t vm_id);
  // Per-VM connection limit: false (and nothing counted) when the app's VM is full.
  bool admit_connection(uint32_t app_id);
  void release_connection(uint32_t app_id);
  // The transmit rate the app shares with the rest of its VM; null for host apps and VMs
  // without a max_rate_kbps.
  SharedRateLimit* rate_limit_of(const App& app);
  // Called once every core acknowledged the app's detach: frees everything (and the VM once
  // its last app is gone after its proxy left).
  void finish_detach(uint32_t app_id);
  const std::map<uint32_t, std::unique_ptr<Vm>>& vms() const { return vms_; }
  size_t app_count() const { return apps_.size(); }
  const std::map<uint32_t, std::unique_ptr<App>>& apps() const { return apps_; }

 private:
  // Lays out an app region (headers, heap) at `base`; the caller owns the memory.
  std::unique_ptr<App> make_app(uint32_t id, uint8_t* base, uint64_t size, const char* name);
  Result<std::unique_ptr<App>> create_host_app(int socket_fd, const ucred& cred,
                                               const abi::AttachRequest& request);
  // Reads a client's first message and attaches it; false when it has not arrived yet
  // (the fd is still the caller's), true when the fd was consumed (attached or closed).
  bool serve_first_message(int fd);
  void drop_pending_client(int fd, const char* why);
  void accept_app(int fd, const abi::AttachRequest& request);
  void accept_vm(int fd, const abi::VmAttachRequest& request, int region_fd);
  void add_vm_app(Vm& vm, const abi::VmAppRequest& request);
  void handle_context_request(App& app, int reply_socket, const abi::ContextRequest& request,
                              int fd_count, int fd);
  Status create_context(App& app, int app_eventfd, abi::ContextResponse* response);
  void start_detach(App& app, const std::string& why);
  void start_vm_detach(Vm& vm, const std::string& why);
  std::optional<uint32_t> next_app_id();

  AppManagerConfig config_;
  Hooks hooks_;
  int listen_fd_ = -1;
  uint32_t last_app_id_ = 0;
  uint32_t last_vm_id_ = 0;
  std::map<uint32_t, std::unique_ptr<App>> apps_;
  std::map<uint32_t, std::unique_ptr<Vm>> vms_;
  std::map<int, std::chrono::steady_clock::time_point> pending_clients_;  // fd -> accepted at
  uint64_t pending_clients_dropped_ = 0;
};

}  // namespace vtas::fastpath
