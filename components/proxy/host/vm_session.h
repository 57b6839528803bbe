// VmSession: everything the host proxy holds for one VM (one QEMU, or one ivshmem client):
// its region (a memfd the VM sees as BAR2), the proxy channel at the region's start, the two
// ivshmem eventfds (the guest rings `host_doorbell`; we ring `guest_interrupt`), the VM's link
// to the fast path, and the contexts of its apps. A context's wake-up eventfd, the one the fast
// path rings when the app sleeps, is the VM's own interrupt (`guest_interrupt`): the fast path
// interrupts the VM directly, and the guest proxy wakes its apps' contexts. No hop through
// this process on the data path's wake-ups.
//
// Trust: everything the guest writes is checked here before use: app ids against the apps we
// attached for this VM, core numbers against the fast path's, counts against per-VM limits. A
// guest that breaks the channel loses its service (broken()); nothing else is affected.
//
// Driven by HostProxyActor (its thread only) through the fds it watches for the session:
//   qemu_fd() EOF                -> the actor drops the session
//   host_doorbell_fd() readable  -> poll_channel()
//   fastpath_fd() readable       -> on_fastpath_readable()
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "components/proxy/channel/channel.h"
#include "components/proxy/host/fastpath_link.h"
#include "components/proxy/host/shared_file_access.h"
#include "proto/proxy.pb.h"
#include "runtime/result.h"
#include "runtime/shm/doorbell.h"
#include "runtime/shm/region.h"

namespace vtas::proxy {

// Per-VM limits. The manifest sets all but max_pending_requests (proxy_host { ... } in
// proto/manifest.proto, whose defaults these repeat for configs built in code).
struct VmLimits {
  uint64_t region_size = 256ull << 20;  // a power of two (QEMU asserts on anything else)
  uint32_t max_connections = 0;         // per VM, enforced by the fast path (0: no limit)
  uint32_t max_rate_kbps = 0;           // per VM, enforced by the fast path (0: no limit)
  uint32_t max_apps = 64;               // enforced here: EMFILE
  uint32_t max_contexts = 256;          // enforced here: ENOSPC
  uint32_t max_pending_requests = 64;   // guest requests waiting for the fast path
};

struct VmCounters {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t core_wakes = 0;
  uint64_t control_wakes = 0;
  uint64_t refused = 0;  // requests answered with an error by the proxy itself
  uint64_t bad = 0;      // messages that made no sense (unknown ids, wrong direction)
};

class VmSession {
 public:
  struct Hooks {
    std::function<void(int fd, std::function<void()> on_readable)> watch;
    std::function<void(int fd)> unwatch;
    // A guest request to act on (the actor passes it through its own mailbox, for the trace).
    std::function<void(const ChannelMessage&)> relay;
    // The channel to the guest is full: call flush() again a little later.
    std::function<void()> flush_later;
    // The VM broke the channel (BROKEN) or lost the fast path (SERVICE_LOST: call reattach()
    // until it succeeds).
    std::function<void(VmEventKind kind, const std::string& detail)> event;
  };

  // Creates the region (with `access`'s mode and group) and the channel and attaches the VM to
  // the fast path. `qemu_fd` is the accepted ivshmem socket (owned from here on).
  static Result<std::unique_ptr<VmSession>> create(uint32_t peer_id, int qemu_fd, const std::string& name,
                                                   const std::string& fastpath_socket,
                                                   const VmLimits& limits, const SharedFileAccess& access,
                                                   Hooks hooks);
  ~VmSession();
  VmSession(const VmSession&) = delete;
  VmSession& operator=(const VmSession&) = delete;

  // The ivshmem server protocol to the new peer (version, id, region, the host's doorbell, the
  // peer's own interrupt eventfd) and the fd watches. Call once, right after create().
  Status start();

  uint32_t id() const { return id_; }
  const std::string& name() const { return name_; }
  int qemu_fd() const { return qemu_fd_; }
  bool broken() const { return broken_; }
  const std::string& broken_reason() const { return broken_reason_; }
  bool has_service() const { return fastpath_.has_value(); }
  size_t app_count() const { return apps_.size(); }
  size_t context_count() const { return contexts_.size(); }
  const VmCounters& counters() const { return counters_; }
  const shm::Region& region() const { return region_; }

  // The guest rang us: take up to `budget` messages; wakes are relayed at once, the rest go to
  // hooks.relay. Returns true if messages are left (call again).
  bool poll_channel(uint32_t budget);
  // A relayed guest request (AppAttach, AppDetach, ContextCreate, GuestHello) to act on.
  void handle_request(const ChannelMessage& message);
  void on_fastpath_readable();
  // Before the actor sleeps: announce sleep on the channel; false if a message is waiting
  // (then the host doorbell was rung so the loop comes back at once).
  void prepare_sleep();
  void finish_sleep();
  // Pushes queued messages to the guest. True if some are still queued (ring full).
  bool flush();

  // The fast path went away: tell the guest its apps are gone. reattach() tries to get the
  // service back (same region); false while the fast path is not there.
  void lose_service(const std::string& why);
  bool reattach();

 private:
  struct Pending {
    enum class Kind { kApp, kContext } kind;
    uint32_t request_id;
    uint32_t app_id;            // kContext
    uint64_t guest_generation;  // answers for an older guest proxy incarnation are dropped
  };
  struct Context {
    uint32_t app_id;
  };

  VmSession(uint32_t id, int qemu_fd, std::string name, std::string fastpath_socket, VmLimits limits,
            Hooks hooks, shm::Region region, ChannelEndpoint channel, shm::Doorbell host_doorbell,
            shm::Doorbell guest_interrupt);

  void send_to_guest(ChannelMessage message);
  void answer_app(uint32_t request_id, int status, const std::string& error);
  void answer_context(uint32_t request_id, int status, const std::string& error);
  void on_app_attach(const AppAttach& m);
  void on_app_detach(uint32_t app_id);
  void on_context_create(const ContextCreate& m);
  void on_guest_hello();
  void on_answer(const FastPathLink::Answer& answer);
  void drop_app(uint32_t app_id, bool tell_fastpath);
  void drop_all_apps(bool tell_fastpath);
  void fail(const std::string& why);

  uint32_t id_;
  int qemu_fd_;
  std::string name_;
  std::string fastpath_socket_;
  VmLimits limits_;
  Hooks hooks_;
  shm::Region region_;
  ChannelEndpoint channel_;
  shm::Doorbell host_doorbell_;    // host peer's vector 0: the guest rings it
  shm::Doorbell guest_interrupt_;  // the VM's vector 0: we ring it
  std::optional<FastPathLink> fastpath_;
  std::deque<Pending> pending_;
  std::set<uint32_t> apps_;
  std::map<uint32_t, Context> contexts_;  // by wake id
  uint32_t next_wake_id_ = 1;
  uint64_t guest_generation_ = 0;
  std::deque<ChannelMessage> outbox_;
  bool broken_ = false;
  std::string broken_reason_;
  VmCounters counters_;
};

}  // namespace vtas::proxy
