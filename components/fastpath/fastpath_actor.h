// FastPathActor: the `fastpath` actor, i.e. the fast path's control thread. It owns the DPDK
// port, the flow-table region and the app regions, starts the cores, and executes what the
// slow-path actors decide (install/remove flows, send frames, notify apps). It turns the
// cores' reports (exception frames, flow events) and the apps' control requests into protobuf
// messages for `conn` and `arp`. It never touches a packet's TCP state outside a flow lock.
#pragma once

#include <atomic>
#include <bitset>
#include <cstdlib>
#include <optional>
#include <map>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include "components/fastpath/app_manager.h"
#include "components/fastpath/fast_path_core.h"
#include "components/fastpath/fastpath_config.h"
#include "components/fastpath/flow_table.h"
#include "components/fastpath/port.h"
#include "proto/fastpath.pb.h"
#include "runtime/actor.h"
#include "runtime/actor_registry.h"
#include "runtime/shm/doorbell.h"
#include "runtime/shm/region.h"

namespace vtas::fastpath {

inline constexpr char kConnActor[] = "conn";
inline constexpr char kArpActor[] = "arp";

class FastPathActor final : public Actor {
 public:
  // `port` may be injected (tests, benchmarks); otherwise on_start opens the DPDK device.
  FastPathActor(std::string name, FastPathConfig config, std::unique_ptr<Port> port = nullptr);
  // From the manifest: the configuration is resolved (and errors reported) in on_start().
  FastPathActor(std::string name, const manifest::Manifest& manifest);
  ~FastPathActor() override;

  Status on_start() override;
  void on_stop() override;
  bool prepare_to_wait() override;
  void after_wait() override;
  void fill_stats(supervisor::StatsReport* report) override;

 private:
  struct FreeDeleter {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  struct Core {
    std::unique_ptr<uint8_t, FreeDeleter> memory;  // both rings, process-private
    std::unique_ptr<uint8_t, FreeDeleter> steer_memory;  // rings from every other core
    std::vector<std::unique_ptr<shm::RingProducer<SteerEntry>>> steer_out;
    std::vector<std::unique_ptr<shm::RingConsumer<SteerEntry>>> steer_in;
    std::unique_ptr<shm::RingProducer<CoreCommand>> command_producer;
    std::unique_ptr<shm::RingConsumer<CoreReport>> report_consumer;
    std::unique_ptr<FastPathCore> core;
    std::thread thread;
    int doorbell_fd = -1;
  };
  struct PendingRemoval {
    uint32_t app_id;
    uint64_t rx_buffer, tx_buffer;
  };

  // start-up
  Status open_port();
  Status create_flow_table();
  Status start_cores();
  Status start_app_manager();
  uint64_t core_cpus();

  // messages
  void handle_install_flow(const InstallFlow& m, const Incoming& in);
  void handle_remove_flow(const RemoveFlow& m, const Incoming& in);
  void handle_packet_out(const PacketOut& m, const Incoming& in);
  void handle_app_notify(const AppNotify& m, const Incoming& in);
  void handle_flow_query(const FlowQuery& m, const Incoming& in);
  void handle_retransmit(const Retransmit& m, const Incoming& in);
  void handle_window_probe(const WindowProbe& m, const Incoming& in);
  void handle_actor_event(const supervisor::ActorEvent& m, const Incoming& in);
  void handle_set_cores(const SetCores& m, const Incoming& in);
  // Points the flow groups at cores 0 .. active-1 (and the NIC's RETA where it has one).
  void steer_groups(uint32_t active);
  // Once at start: the port's queues and whether its RETA is used (where frames first land).
  void log_port_steering();
  Status connect_cores();

  // cores and apps
  uint32_t core_of_group(uint32_t flow_group) const;
  bool command(uint32_t core, const CoreCommand& c);
  void drain_reports();
  void handle_report(uint32_t core, const CoreReport& r);
  void relay_request(AppManager::App& app, AppManager::Context& ctx, const abi::AppRequest& r);
  // Answers a request at once with `status` instead of relaying it (the app's bound of
  // unanswered requests is reached).
  void refuse_request(const AppRequestIn& request, int status);
  void forget_unanswered(uint32_t app_id, uint32_t context_id, uint32_t request_id);
  bool post_notify(const AppNotify& m, uint32_t flow_id, uint32_t core);
  void remove_flow(uint32_t flow_id, bool send_reset);
  void app_detaching(AppManager::App& app);
  // receive: hand the frame to the core as if it had just arrived instead of sending it.
  bool send_frame(const std::string& frame, uint32_t core, bool stamp, bool receive = false);
  void fill_flow_table(supervisor::StatsReport* report);
  size_t fill_unanswered_table(supervisor::StatsReport* report);
  // Tells arp our MAC (it answers ARP requests for our address with it).
  void announce_mac();

  // --kni-name: the host kernel's interface (DPDK's net_tap). The kernel gets every frame the
  // fast path hands up that vtas does not serve (not ARP-only, not TCP to a vtas port) and a
  // copy of ARP; what the kernel sends leaves through the NIC.
  Status open_kernel_interface();
  void from_kernel();
  void to_kernel(const std::string& frame);
  // True when an exception frame belongs to vtas: TCP to a port vtas listens on or used for
  // a connection lately. Everything else (other ports, ICMP, UDP, ...) is the kernel's.
  bool serves(const std::string& frame) const;
  void note_vtas_port(uint16_t port_host_order);
  void note_outgoing(const std::string& frame);

  FastPathConfig config_;
  std::optional<manifest::Manifest> manifest_;  // set when the config is still to be resolved
  std::unique_ptr<Port> port_;
  std::optional<shm::Region> flow_region_;
  std::optional<FlowTable> flows_;
  std::vector<std::unique_ptr<Core>> cores_;
  std::atomic<bool> stopping_{false};
  std::optional<shm::Doorbell> control_doorbell_;
  std::unique_ptr<AppManager> apps_;
  std::map<uint32_t, PendingRemoval> removals_;            // flow id -> what to free on release
  std::map<uint32_t, uint32_t> detach_acks_;               // app id -> cores still to confirm
  // Requests relayed to conn and not answered yet, resent if conn restarts. At most
  // FastPathConfig::max_unanswered_per_app per app: an app that asks faster than conn answers
  // (or while conn is down) gets -ENOBUFS answers instead of growing this map without bound.
  struct UnansweredRequest {
    AppRequestIn request;
    TimePoint since;  // when the app asked (kept when a repeated id replaces the entry)
  };
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, UnansweredRequest> unanswered_;
  std::map<uint32_t, uint32_t> unanswered_per_app_;  // app id -> its entries in unanswered_
  uint64_t app_requests_refused_ = 0;
  std::vector<std::pair<uint32_t, abi::AppEvent>> kin_backlog_;  // (app<<16|ctx, event)
  bool dpdk_initialised_ = false;
  bool reta_in_use_ = false;  // the NIC's RETA follows the steering table (last steer_groups)
  uint64_t frames_to_conn_ = 0, frames_to_arp_ = 0, frames_dropped_ = 0;
  uint64_t stale_flow_requests_ = 0;  // RemoveFlow / FlowQuery for a reused flow id, ignored

  std::unique_ptr<Port> kernel_port_;
  int kernel_wakeup_fd_ = -1;
  std::bitset<65536> listen_ports_;              // vtas listeners (kept for the instance's life)
  std::vector<uint32_t> port_last_used_s_;       // per local port: when vtas last sent from it
  uint64_t frames_to_kernel_ = 0, frames_from_kernel_ = 0, kernel_drops_ = 0;
};

void register_actors(ActorRegistry& registry);

}  // namespace vtas::fastpath
