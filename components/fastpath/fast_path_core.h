// FastPathCore: one fast-path core's loop, the TAS data loop made explicit:
//
//   commands from control  ->  NIC RX burst -> parse -> flow lookup -> TCP receive (tcp/)
//   -> ACKs built in place -> app events (arx) -> app bumps (atx) -> TX scheduling
//   -> segments from the apps' tx buffers -> NIC TX burst -> sleep when idle
//
// Everything it touches per packet is preallocated: no malloc, no protobuf, no ZeroMQ, no
// logging. Frames it cannot handle and flow events go to the control thread on a report ring.
// Driven by a Port, so unit tests and the in-memory benchmark run the very same code.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "components/fastpath/core_apps.h"
#include "components/fastpath/core_channel.h"
#include "components/fastpath/flow_table.h"
#include "components/fastpath/port.h"
#include "components/fastpath/segment_builder.h"
#include "components/fastpath/shared_rate_limit.h"
#include "components/fastpath/tx_scheduler.h"
#include "runtime/shm/doorbell.h"
#include "runtime/shm/spsc_ring.h"

namespace vtas::fastpath {

struct CoreConfig {
  uint16_t core = 0;
  bool has_queue = true;            // polls a NIC queue (a core may only serve steered work)
  wire::MacAddr local_mac;          // source MAC of every frame we build
  uint16_t queue = 0;               // the port queue this core polls
  uint32_t local_ip = 0;            // network order; frames to other addresses go to control
  bool tx_checksum_offload = false;
  bool trust_rx_checksum = false;   // the NIC verified checksums (flags tell per packet)
  bool interrupts = true;           // sleep when idle (TAS: unless --fp-no-ints)
  uint32_t poll_before_sleep_us = 10000;  // TAS --fp-poll-interval-tas
  uint32_t max_idle_sleep_us = 100000;    // cap on one sleep (timers still fire)
  // sched_yield() after an idle round while polling: on a machine with fewer CPUs than busy
  // processes (this project's 2-core machines) spinning steals the time the app and the peer
  // need. Off for a dedicated core.
  bool yield_when_idle = true;
  // Delay the ACK of in-order data by up to this long so the app's reply carries it (one
  // packet instead of two per request); every second segment is still ACKed at once (RFC
  // 1122), and anything unusual (FIN, hole, ECE) is ACKed at once. 0 = ACK every segment.
  uint32_t delayed_ack_us = 100;
  // With a kernel interface (--kni-name): frames of other protocols (ICMP, UDP, fragments,
  // other ethertypes) and TCP to other local addresses go to the control path, which passes
  // them to the kernel, instead of being dropped.
  bool hand_up_other_protocols = false;
};

class FastPathCore {
 public:
  FastPathCore(CoreConfig config, Port& port, FlowTable& flows,
               shm::RingConsumer<CoreCommand> commands, shm::RingProducer<CoreReport> reports,
               shm::Doorbell own_doorbell, int control_doorbell_fd);

  // Loops until `stop` is set (checked every iteration; a sleeping core is woken by its
  // doorbell).
  void run(const std::atomic<bool>& stop);
  // One iteration at time `now_ns`; returns true if it did any work. Tests call this.
  bool iterate(uint64_t now_ns);

  int doorbell_fd() const { return doorbell_.fd(); }

  // Software steering (multi-core): rings to and from every other core, by core index (the
  // entry for this core itself is empty), and their doorbells. Set before run().
  struct Steering {
    std::vector<shm::RingProducer<SteerEntry>*> to;
    std::vector<shm::RingConsumer<SteerEntry>*> from;
    std::vector<int> doorbells;
  };
  void set_steering(Steering steering) {
    steering_ = std::move(steering);
    steer_wakeup_.assign(steering_.to.size(), false);
  }
  const abi::CoreCounters& counters() const { return *counters_; }

 private:
  // Core-private state per flow, kept out of the shared FlowState.
  struct FlowLocal {
    CoreAppContext* context = nullptr;  // where this flow's app events go
    uint32_t pending_tx_bump = 0;       // rx needs no pending count: entries are cumulative
    uint8_t pending_flags = 0;
    bool dirty = false;                 // in dirty_ (has an app event to flush)
    bool ack_pending = false;           // in delayed_acks_: an ACK is owed by ack_due_ns
    uint64_t ack_due_ns = 0;
    uint64_t pace_due_ns = 0;           // a rate-limited flow's next send time (see poll_tx)
  };

  // iteration steps
  bool poll_commands();
  bool poll_rx();
  bool poll_steered();
  // The core that owns a flow group now (from the shared steering table).
  uint32_t owner_of(uint16_t flow_group) const;
  // Hands a frame or a flow to its owner; false if its ring is full (the frame is dropped).
  bool steer_packet(uint32_t owner, Packet& packet);
  void kick_owner(uint32_t owner, uint32_t flow_id);
  void ready_flow(uint32_t flow_id, const abi::FlowState& fs);
  bool poll_app_queues();
  bool poll_tx(uint64_t now_ns);
  void flush_app_events();
  void flush_delayed_acks();
  void flush_tx();
  void flush_reports();
  bool sleep_until_work(const std::atomic<bool>& stop, uint64_t now_ns);

  // per packet / per flow
  void handle_frame(Packet& packet);
  void to_control(Packet& packet, uint32_t flow_id, uint32_t flow_group);  // flow_id 0: none
  void report_flow_event(uint32_t flow_id, uint8_t kind, uint64_t opaque);
  // Reports to the control thread, in order: try_report() pushes `r` if the ring has room
  // (after the backlog), report_in_order() keeps it in the backlog when it has not.
  bool try_report(const CoreReport& r);
  void report_in_order(const CoreReport& r);
  void move_backlog_to_ring();
  void note_app_event(uint32_t flow_id, uint32_t tx_bump, uint8_t flags);
  // Applies (or, multi-core, parks) one app bump; false only for a parked bump still waiting.
  bool apply_bump(uint16_t app_id, const abi::AtxEntry& b, uint64_t first_seen_ns, bool retry);
  bool retry_parked_bumps();
  // Sends the flow's next segment; its payload length, or -1 when nothing went out.
  int32_t send_segment(uint32_t flow_id, abi::FlowState& fs);
  // Sends an ACK with the TCP core's header fields, in `reuse` (a received buffer) if given.
  bool send_ack(abi::FlowState& fs, const tcp::AckFields& hdr, Packet* reuse);
  void send_reset(abi::FlowState& fs);
  void stamp_tsval(Packet& packet);
  void queue_tx(Packet& packet);
  CoreAppContext* context_of(uint32_t flow_id, const abi::FlowState& fs);
  uint8_t* app_base(uint32_t app_id, uint64_t offset, uint64_t length) const;
  SharedRateLimit* rate_limit_of(uint32_t app_id) const {
    return app_id < apps_.size() ? apps_[app_id].rate_limit : nullptr;
  }
  void execute(const CoreCommand& command);

  CoreConfig config_;
  FrameSource frame_source_;
  Port& port_;
  FlowTable& flows_;
  shm::RingConsumer<CoreCommand> commands_;
  shm::RingProducer<CoreReport> reports_;
  shm::Doorbell doorbell_;
  int control_doorbell_fd_;
  abi::CoreCounters* counters_;

  struct AppView {
    uint8_t* base = nullptr;
    uint64_t size = 0;
    SharedRateLimit* rate_limit = nullptr;  // shared with the app's VM (and other cores)
  };
  std::vector<AppView> apps_;                 // by app id
  std::vector<CoreAppContext*> contexts_;     // polled for atx bumps
  std::vector<FlowLocal> local_;              // by flow id
  std::vector<uint32_t> dirty_;               // flows with pending app events
  struct ParkedBump {
    abi::AtxEntry bump;
    uint64_t first_seen_ns;
    uint16_t app_id;
  };
  std::vector<ParkedBump> parked_bumps_;      // multi-core: bumps waiting for an older one
  std::vector<uint32_t> delayed_acks_;        // flows that owe the peer an ACK
  std::vector<CoreReport> report_backlog_;    // reports that did not fit the ring yet
  TxScheduler scheduler_;
  Steering steering_;
  std::vector<bool> steer_wakeup_;            // per core: we pushed, maybe ring its doorbell
  Packet rx_[32];
  Packet tx_[64];
  uint16_t tx_count_ = 0;
  bool reports_pushed_ = false;
  bool woke_app_ = false;          // rang an app's doorbell this iteration
  uint64_t last_work_ns_ = 0;
  uint32_t now_us_ = 0;
  uint64_t now_ns_ = 0;
};

// The fast path's TCP clock: CLOCK_MONOTONIC in microseconds, truncated to 32 bits (TSval).
inline uint32_t tcp_clock_us(uint64_t now_ns) { return static_cast<uint32_t>(now_ns / 1000); }

}  // namespace vtas::fastpath
