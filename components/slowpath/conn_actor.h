// The `conn` actor: everything around an established TCP flow. It takes frames the fast path
// cannot handle (SYN, SYN-ACK, segments of unknown flows), app control requests (listen,
// accept, open, close, move), app attach/detach, flow events and timer expiries, and answers
// with decisions the fast path executes: InstallFlow (carrying the SYN-ACK or ACK and the
// app's notification), PacketOut (SYN, RST, TIME_WAIT ACKs), AppNotify, RemoveFlow, plus
// ArmTimer / CancelTimer to `timer` and ResolveRequest to `arp`.
//
// The state lives in small units (listener_table.h, connection_table.h, time_wait_table.h,
// request_log.h, next_hop_cache.h, port_allocator.h, isn_generator.h, handshake.h) and is
// written through to the registry (conn_registry.h), from which a restarted incarnation
// resumes in on_start(). The handlers are spread over conn_*.cc by concern.
//
// Created by the actor registry (register_actors, kind "conn"); tests create it directly with
// a ConnConfig and drive it with tests/support/test_runner.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "components/slowpath/conn_config.h"
#include "components/slowpath/conn_counters.h"
#include "components/slowpath/conn_registry.h"
#include "components/slowpath/connection_table.h"
#include "components/slowpath/handshake.h"
#include "components/slowpath/handshake_record.h"
#include "components/slowpath/isn_generator.h"
#include "components/slowpath/listener_table.h"
#include "components/slowpath/next_hop_cache.h"
#include "components/slowpath/port_allocator.h"
#include "components/slowpath/request_log.h"
#include "components/slowpath/syn_cookie.h"
#include "components/slowpath/syn_received_table.h"
#include "components/slowpath/time_wait_table.h"
#include "proto/arp.pb.h"
#include "proto/fastpath.pb.h"
#include "proto/timer.pb.h"
#include "runtime/actor.h"
#include "runtime/actor_registry.h"
#include "runtime/log.h"

namespace vtas::conn {

// ArmTimer.kind values conn uses.
inline constexpr uint32_t kTimerKindHandshake = 1;

class ConnActor final : public Actor {
 public:
  // A non-empty `config_error` (the manifest did not yield a config) makes on_start() fail
  // with it, so the supervisor reports why conn could not start.
  ConnActor(std::string name, ConnConfig config, std::string config_error = "");
  ~ConnActor() override;

  Status on_start() override;
  void on_stop() override;
  void fill_stats(supervisor::StatsReport* report) override;

  // Read access for tests and diagnostics.
  const ConnCounters& counters() const { return counters_; }
  const ListenerTable& listeners() const { return listeners_; }
  const ConnectionTable& connections() const { return conns_; }
  const TimeWaitTable& time_wait() const { return time_wait_; }
  const SynReceivedTable& syn_received() const { return half_open_; }
  const ConnConfig& config() const { return config_; }
  const wire::MacAddr& local_mac() const { return local_mac_; }
  // The handshake timer key of a connection's current SYN (as sent in ArmTimer).
  static uint64_t handshake_timer_key(uint32_t conn_id, uint8_t attempt);

 private:
  using AppRequestIn = fastpath::AppRequestIn;
  using AppNotify = fastpath::AppNotify;

  // ---- message handlers (one per body type) ----
  void handle_packet_in(const fastpath::PacketIn& packet, const Incoming& in);
  void handle_app_request_in(const AppRequestIn& request, const Incoming& in);
  void handle_app_attached(const fastpath::AppAttached& attached, const Incoming& in);
  void handle_app_detached(const fastpath::AppDetached& detached, const Incoming& in);
  void handle_flow_event(const fastpath::FlowEvent& event, const Incoming& in);
  void handle_timer_fired(const timer::TimerFired& fired, const Incoming& in);
  void handle_actor_event(const supervisor::ActorEvent& event, const Incoming& in);

  // ---- start-up and restart (conn_restore.cc) ----
  Status open_registry();
  void restore(RegistryContents contents);
  // Rebuilds one checked handshake record in the SYN-RECEIVED table or `listener`'s backlog;
  // "" or why it could not.
  std::string restore_handshake(Listener& listener, const HandshakeRecord& record, SlotId slot);
  void resume_in_flight_work();
  void housekeeping();

  // ---- segments (conn_packets.cc) ----
  void on_segment(const Segment& seg, const fastpath::PacketIn& packet);
  void on_flow_segment(const Segment& seg, const fastpath::PacketIn& packet);
  void on_connection_segment(Connection& conn, const Segment& seg,
                             const fastpath::PacketIn& packet);
  void on_time_wait_segment(TimeWaitEntry& entry, const Segment& seg,
                            const fastpath::PacketIn& packet);
  void on_connection_request(const Segment& seg, const fastpath::PacketIn& packet);
  void passive_open(Listener& listener, const PostedAccept& accept, const BacklogSyn& syn);

  // ---- SYN-RECEIVED and SYN cookies (conn_syn_received.cc) ----
  void answer_syn(Listener& listener, const BacklogSyn& syn);
  void on_listen_segment(Listener& listener, const Segment& seg,
                         const fastpath::PacketIn& packet);
  void on_syn_received_reset(const Segment& seg);
  void handshake_completed(Listener& listener, BacklogSyn syn);
  void queue_for_accept(Listener& listener, BacklogSyn syn);
  // The registry side of passive handshakes: a SYN-RECEIVED entry's record (retransmission
  // state included); any HandshakeRecord, inserted on first use (then *slot is set; a full
  // table leaves the handshake in memory only, counted in registry_full); and its removal.
  void save_half_open(HalfOpen& entry);
  void save_handshake(SlotId* slot, const HandshakeRecord& record);
  void forget_handshake(SlotId slot);
  void send_half_open_syn_ack(const BacklogSyn& syn, bool cookie);
  void arm_syn_ack_timer(const FourTuple& tuple, uint64_t generation, Nanos delay);
  void syn_ack_timeout(const FourTuple& tuple, uint64_t generation);
  void resend_syn_ack(const Connection& conn, uint32_t flow_group);
  void send_reset_for(const Segment& seg, uint32_t flow_group);
  bool reply_allowed();

  // ---- active open (conn_active_open.cc) ----
  void open_connection(const AppRequestIn& request);
  std::optional<uint16_t> pick_local_port(uint32_t local_ip, uint32_t remote_ip,
                                          uint16_t remote_port);
  void resolve_next_hop(Connection& conn);
  void request_resolution(uint32_t ip);
  void on_resolved(uint32_t ip, uint64_t generation, const Envelope* response);
  void send_syn(Connection& conn);
  void arm_handshake_timer(const Connection& conn, Nanos delay);
  void cancel_handshake_timer(const Connection& conn);
  void handshake_timeout(Connection& conn);
  void on_syn_sent_segment(Connection& conn, const Segment& seg, const fastpath::PacketIn& packet);
  void fail_open(Connection& conn, int status);

  // ---- installing flows (conn_install.cc) ----
  void send_install(Connection& conn);
  void on_flow_installed(uint32_t conn_id, uint8_t attempt, const fastpath::FlowTuple& tuple,
                         const Envelope* response);
  // The fast path holds `conn`'s flow as `flow_id` (its install answer, or a FlowEvent that
  // overtook the answer): the connection is established.
  void flow_installed(Connection& conn, uint32_t flow_id);
  void install_failed(Connection& conn, int status);
  std::string handshake_frame(const Connection& conn) const;
  FramePath path_of(const Connection& conn) const;
  Negotiated negotiated_of(const Connection& conn) const;
  LocalOptions local_options() const;

  // ---- close and TIME_WAIT (conn_close.cc) ----
  void close_connection(const AppRequestIn& request);
  // The app's connection with this cookie (libvtas's handle), or nullptr.
  Connection* find_app_connection(uint32_t app_id, uint64_t cookie);
  void maybe_finish(Connection& conn);
  void query_for_time_wait(Connection& conn);
  void on_flow_info(uint32_t conn_id, const Envelope* response);
  // A FlowEvent applied to its connection (from the fast path, or rebuilt by reconcile);
  // false for a kind this actor does not know.
  bool apply_flow_event(Connection& conn, fastpath::FlowEvent::Kind kind);
  // The connection a FlowEvent is about (its flow id, checked against the event's tuple), or
  // nullptr.
  Connection* connection_of_event(const fastpath::FlowEvent& event);
  // Forgets a record whose flow id the fast path gave to another connection (its flow is
  // gone): the app hears that the connection is closed, as remove_flow() would have told it.
  void drop_stale_connection(Connection& conn);
  // Asks the fast path for a closing connection's flow: events sent while this actor was
  // down (killed, restarting) are lost, and the close would otherwise wait for them until
  // close_timeout resets the peer.
  void reconcile_flow(Connection& conn);
  void on_reconcile_answer(uint32_t conn_id, uint32_t flow_id, const Envelope* response);
  // Takes the connection's flow out of the fast path (with a RST when `send_reset`) and tells
  // the app: the answer to its CONN_CLOSE, or ECONNRESET when the peer reset the flow.
  void remove_flow(Connection& conn, bool send_reset);
  // The RemoveFlow request of a connection remove_flow() marked (again after a restart).
  void send_removal(Connection& conn, bool resend);
  // What the app hears when the connection's flow goes: the answer to its CONN_CLOSE, or
  // an unasked CONN_CLOSED (ECONNRESET if the peer reset the flow).
  AppNotify closed_notify_of(const Connection& conn) const;
  void on_flow_removed(uint32_t conn_id, const Envelope* response);
  // TIME_WAIT after an active close; with `linger`, the short entry of a passive close.
  void enter_time_wait(const Connection& conn, bool linger = false);
  void release_time_wait(const TimeWaitEntry& entry);
  void abort_for_detach(Connection& conn);

  // ---- app requests (conn_app_requests.cc) ----
  void listen_open(const AppRequestIn& request);
  void listen_close(const AppRequestIn& request);
  void post_accept(const AppRequestIn& request);
  void move_connection(const AppRequestIn& request);
  void drop_listener(uint32_t listener_id);
  void detach_app(uint32_t app_id);
  bool known_app(uint32_t app_id) const { return apps_.count(app_id) != 0; }
  void learn_app(uint32_t app_id, uint32_t pid, uint32_t uid);
  uint32_t uid_of(uint32_t app_id) const;

  // Request log: is this a request already seen (true = handled here, do not execute)?
  bool duplicate_request(const AppRequestIn& request);
  // Answers `request` with `status` (and whatever `fill` adds), recording the answer.
  void answer(const AppRequestIn& request, AppNotify::Type type, int status,
              const AppNotify* filled = nullptr);
  // Records that `key`'s answer will come later (or came through InstallFlow: no resend).
  void record_deferred(const AppRequestIn& request);
  void record_answered_by_fastpath(uint32_t app_id, uint32_t context_id, uint32_t request_id);
  void store_request_log(const RequestLogRecord& record);
  void send_notify(const AppNotify& notify);

  // ---- records and the registry (conn_actor.cc) ----
  Connection* create_connection(ConnRecord record);
  void save(Connection& conn);
  void drop_connection(uint32_t conn_id);
  uint32_t allocate_conn_id();
  uint32_t allocate_listener_id();
  uint64_t next_order();
  void store_meta();
  void learn_local_mac(const Segment& seg);
  uint64_t now_ns() const { return to_ns(now()); }
  uint64_t tuple_hash(const FourTuple& tuple) const;
  bool log_peer();  // rate limit for log lines a peer can trigger
  bool log_app();   // ... and an app

  ConnConfig config_;
  std::string config_error_;
  ConnCounters counters_;
  std::optional<ConnRegistry> registry_;
  MetaRecord meta_{};
  IsnGenerator isn_;
  PortAllocator ports_;
  ListenerTable listeners_;
  ConnectionTable conns_;
  TimeWaitTable time_wait_;
  SynReceivedTable half_open_;
  uint64_t next_half_open_generation_ = 1;
  RequestLog request_log_;
  NextHopCache next_hops_;
  wire::MacAddr local_mac_;
  std::unordered_map<uint32_t, AppRecord> apps_;
  std::unordered_map<uint32_t, SlotId> app_slots_;
  std::unordered_set<uint32_t> detached_apps_;
  std::unordered_set<uint32_t> reconciling_;  // conn ids with a reconcile FlowQuery under way
  // The ResolveRequest in flight per address: a late answer to an older one is ignored.
  std::unordered_map<uint32_t, uint64_t> resolution_generation_;
  uint64_t next_resolution_generation_ = 1;  // requests from these are refused
  // Requests whose effect a restored record shows but the request log does not (conn died
  // between the two writes): a relayed copy must not run again.
  std::unordered_map<RequestKey, uint32_t, RequestKeyHash> restored_requests_;
  log::RateLimit peer_log_limit_{20, 1'000'000'000ull};
  log::RateLimit app_log_limit_{20, 1'000'000'000ull};
  log::RateLimit reply_limit_;
  TimerQueue::Id housekeeping_timer_ = 0;
  // Segments of a passive connection that reached conn while its flow was being installed
  // (the peer's data or FIN right after its third ACK): handed back to the fast path once
  // the flow is in (conn_replay.cc). Bounded per connection and in total.
  struct HeldFrames {
    std::vector<fastpath::PacketIn> frames;
    uint32_t replayed = 0;
  };
  std::unordered_map<uint32_t, HeldFrames> held_frames_;  // by conn id
  size_t held_frames_total_ = 0;
  void hold_frame(const Connection& conn, const fastpath::PacketIn& packet);
  void replay_frame(const Connection& conn, const fastpath::PacketIn& packet);
  void release_held_frames(uint32_t conn_id, bool replay);
  // Segments of a completed handshake that waits in a listener's backlog for the app's
  // accept (the peer sends its request at once, as Linux lets it): moved to held_frames_
  // when the accept comes, so the request is not lost to a retransmission timeout. Same
  // bounds (counted in held_frames_total_).
  std::unordered_map<FourTuple, std::vector<fastpath::PacketIn>, FourTupleHash> backlog_frames_;
  void hold_backlog_frame(const FourTuple& tuple, const fastpath::PacketIn& packet);
  void adopt_backlog_frames(const Connection& conn);
};

// Fills the connection `r` is for into `expect` (RemoveFlow, FlowQuery): the fast path acts
// only if the flow id still belongs to that connection.
void expect_connection(const ConnRecord& r, fastpath::FlowTuple* expect);
// The FlowQuery about `r`'s flow (naming its connection).
fastpath::FlowQuery flow_query_for(const ConnRecord& r);

void register_actors(ActorRegistry& registry);

}  // namespace vtas::conn
