// Test support for the conn actor and its units: a temporary directory for the registry, a
// ConnConfig for tests, frames a peer would send (built with the wire library), and a harness
// that runs one ConnActor under the deterministic TestRunner and reads what it sent.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "components/slowpath/conn_actor.h"
#include "components/wire/tcp_segment.h"
#include "tests/support/test_runner.h"

namespace vtas::conn::testing {

inline constexpr uint32_t kLocalIp = 0x0a000001;  // 10.0.0.1
inline constexpr uint32_t kPeerIp = 0x0a000002;   // 10.0.0.2
inline constexpr uint32_t kPeer2Ip = 0x0a000003;  // 10.0.0.3
inline const wire::MacAddr kLocalMac{{0x02, 0, 0, 0, 0, 0x01}};
inline const wire::MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr uint16_t kAppId = 5;
inline constexpr SipKey kTestKey{0x0123456789abcdefull, 0xfedcba9876543210ull};

// A directory under /tmp, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/vtas-conn-test-XXXXXX";
    char* made = mkdtemp(templ);
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline ConnConfig test_config(const std::string& dir) {
  ConnConfig c;
  c.local_ip = kLocalIp;
  c.local_mac = kLocalMac;
  c.rx_buffer = 262144;  // window scale 3
  c.tx_buffer = 262144;
  c.registry_path = dir + "/conn.registry";
  c.registry_capacity.apps = 64;
  c.registry_capacity.listeners = 64;
  c.registry_capacity.accepts = 256;
  c.registry_capacity.conns = 1024;
  c.registry_capacity.time_wait = 256;
  c.registry_capacity.request_log = 256;
  c.registry_capacity.handshakes = 256;
  c.random_seed = 42;
  c.isn_key = kTestKey;
  c.time_wait = std::chrono::seconds(5);
  c.close_timeout = std::chrono::seconds(20);
  return c;
}

// What a peer's segment looks like; defaults: a Linux-like SYN from kPeerIp:40000 to port 80.
struct PeerSegment {
  uint32_t src_ip = kPeerIp;
  uint32_t dst_ip = kLocalIp;
  uint16_t src_port = 40000;
  uint16_t dst_port = 80;
  uint32_t seq = 1000;
  uint32_t ack = 0;
  uint8_t flags = wire::kTcpSyn;
  uint16_t window = 64240;
  bool mss = true;
  uint16_t mss_value = 1460;
  bool wscale = true;
  uint8_t wscale_value = 7;
  bool timestamps = true;
  uint32_t tsval = 777;
  uint32_t tsecr = 0;
  bool sack_permitted = true;
  std::string payload;
  wire::MacAddr src_mac = kPeerMac;
  wire::MacAddr dst_mac = kLocalMac;
};

inline std::string peer_frame(const PeerSegment& p) {
  wire::TcpSegmentSpec s;
  s.src_mac = p.src_mac;
  s.dst_mac = p.dst_mac;
  s.src_ip = wire::Ipv4Addr{p.src_ip};
  s.dst_ip = wire::Ipv4Addr{p.dst_ip};
  s.src_port = p.src_port;
  s.dst_port = p.dst_port;
  s.seq = p.seq;
  s.ack = p.ack;
  s.flags = p.flags;
  s.window = p.window;
  s.options.has_mss = p.mss;
  s.options.mss = p.mss_value;
  s.options.has_wscale = p.wscale;
  s.options.wscale = p.wscale_value;
  s.options.has_timestamps = p.timestamps;
  s.options.tsval = p.tsval;
  s.options.tsecr = p.tsecr;
  s.options.sack_permitted = p.sack_permitted;
  s.payload = reinterpret_cast<const uint8_t*>(p.payload.data());
  s.payload_length = p.payload.size();
  uint8_t buf[2048];
  size_t len = wire::build_tcp_segment(buf, sizeof buf, s);
  return std::string(reinterpret_cast<const char*>(buf), len);
}

// A frame conn sent, parsed back (checksums verified).
inline wire::Frame parse_sent(const std::string& frame) {
  wire::Frame f;
  auto r = wire::parse_frame(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), &f);
  EXPECT_EQ(r, wire::ParseResult::kOk) << wire::parse_result_name(r);
  return f;
}

inline FourTuple peer_tuple(uint16_t src_port = 40000, uint16_t dst_port = 80,
                            uint32_t src_ip = kPeerIp) {
  return FourTuple{kLocalIp, src_ip, dst_port, src_port};
}

// One ConnActor under the TestRunner.
class Harness {
 public:
  explicit Harness(const TempDir& dir) : config(test_config(dir.path())) {}
  explicit Harness(ConnConfig c) : config(std::move(c)) {}

  void start(uint32_t incarnation = 1) {
    actor = std::make_unique<ConnActor>("conn", config);
    runner = std::make_unique<vtas::testing::TestRunner>(*actor, incarnation);
    runner->fake_clock.set(start_time);
    Status s = runner->start();
    ASSERT_TRUE(s) << s.error().message;
  }

  // ---- deliveries ----
  void packet(const std::string& frame, uint32_t flow_group = 3, uint32_t flow_id = 0) {
    fastpath::PacketIn p;
    p.set_frame(frame);
    p.set_flow_group(flow_group);
    p.set_core(1);
    p.set_flow_id(flow_id);
    runner->deliver_event("fastpath", p);
  }
  void segment(const PeerSegment& s, uint32_t flow_group = 3, uint32_t flow_id = 0) {
    packet(peer_frame(s), flow_group, flow_id);
  }
  void request(const fastpath::AppRequestIn& r) { runner->deliver_event("fastpath", r); }

  fastpath::AppRequestIn base_request(fastpath::AppRequestIn::Type type, uint32_t request_id,
                                      uint32_t context = 0, uint32_t app = kAppId) {
    fastpath::AppRequestIn r;
    r.set_app_id(app);
    r.set_context_id(context);
    r.set_type(type);
    r.set_request_id(request_id);
    return r;
  }
  void listen(uint16_t port, uint32_t request_id, uint32_t backlog = 16, bool reuse = false,
              uint32_t context = 0, uint32_t app = kAppId, uint64_t opaque = 0x1111) {
    auto r = base_request(fastpath::AppRequestIn::TYPE_LISTEN_OPEN, request_id, context, app);
    r.set_local_port(port);
    r.set_backlog(backlog);
    r.set_reuse_port(reuse);
    r.set_opaque(opaque);
    request(r);
  }
  void accept(uint32_t listener_id, uint64_t opaque, uint32_t request_id, uint32_t context = 0,
              uint32_t app = kAppId) {
    auto r = base_request(fastpath::AppRequestIn::TYPE_ACCEPT, request_id, context, app);
    r.set_listener_id(listener_id);
    r.set_opaque(opaque);
    request(r);
  }
  void open(uint32_t remote_ip, uint16_t remote_port, uint64_t opaque, uint32_t request_id,
            uint32_t context = 0) {
    auto r = base_request(fastpath::AppRequestIn::TYPE_CONN_OPEN, request_id, context);
    r.set_remote_ip(remote_ip);
    r.set_remote_port(remote_port);
    r.set_opaque(opaque);
    request(r);
  }
  // A close carries the app's cookie for the connection (libvtas's): by default the one
  // conn recorded for the flow, as a real app would send.
  void close(uint32_t flow_id, uint32_t request_id, bool reset = false, uint32_t context = 0,
             uint32_t app = kAppId, std::optional<uint64_t> opaque = std::nullopt) {
    auto r = base_request(fastpath::AppRequestIn::TYPE_CONN_CLOSE, request_id, context, app);
    r.set_flow_id(flow_id);
    r.set_reset(reset);
    const Connection* conn = actor ? actor->connections().find_flow(flow_id) : nullptr;
    r.set_opaque(opaque.value_or(conn != nullptr ? conn->record.opaque : 0));
    request(r);
  }
  // A FlowEvent names the connection the flow carries: by default the one conn recorded for
  // the flow (none if conn knows no such flow), as the fast path would send it.
  void flow_event(uint32_t flow_id, fastpath::FlowEvent::Kind kind,
                  std::optional<FourTuple> tuple = std::nullopt) {
    fastpath::FlowEvent e;
    e.set_flow_id(flow_id);
    e.set_kind(kind);
    const Connection* conn = actor ? actor->connections().find_flow(flow_id) : nullptr;
    if (!tuple && conn != nullptr) tuple = tuple_of(conn->record);
    if (tuple) {
      e.mutable_tuple()->set_local_ip(tuple->local_ip);
      e.mutable_tuple()->set_remote_ip(tuple->remote_ip);
      e.mutable_tuple()->set_local_port(tuple->local_port);
      e.mutable_tuple()->set_remote_port(tuple->remote_port);
    }
    runner->deliver_event("fastpath", e);
  }
  void timer_fired(uint64_t key, uint32_t kind = kTimerKindHandshake) {
    timer::TimerFired f;
    f.set_key(key);
    f.set_kind(kind);
    runner->deliver_event("timer", f);
  }

  // ---- what conn sent ----
  std::vector<fastpath::AppNotify> notifies() const {
    return runner->sent_of<fastpath::AppNotify>("fastpath");
  }
  std::vector<fastpath::PacketOut> packet_outs() const {
    return runner->sent_of<fastpath::PacketOut>("fastpath");
  }
  std::vector<fastpath::RemoveFlow> removes() const {
    return runner->sent_of<fastpath::RemoveFlow>("fastpath");
  }
  std::vector<timer::ArmTimer> arms() const { return runner->sent_of<timer::ArmTimer>("timer"); }
  // The envelopes of InstallFlow requests (to respond to), oldest first.
  std::vector<Envelope> install_requests() const { return envelopes(Envelope::kInstallFlow); }
  std::vector<Envelope> envelopes(Envelope::BodyCase body) const {
    std::vector<Envelope> out;
    for (const auto& e : runner->sent) {
      if (e.body_case() == body) out.push_back(e);
    }
    return out;
  }
  void respond_installed(const Envelope& request, uint32_t flow_id, bool ok = true,
                         int errno_value = 0) {
    fastpath::FlowInstalled r;
    r.set_ok(ok);
    r.set_flow_id(ok ? flow_id : 0);
    r.set_errno_value(errno_value);
    if (!ok) r.set_error("app region full");
    runner->respond(request, r);
  }
  void respond_resolved(const Envelope& request, const wire::MacAddr& mac, bool ok = true) {
    arp::ResolveResponse r;
    r.set_ip(request.resolve_request().ip());
    r.set_ok(ok);
    if (ok) r.set_mac(std::string(reinterpret_cast<const char*>(mac.bytes.data()), 6));
    if (!ok) r.set_error("no ARP reply");
    runner->respond(request, r);
  }
  const fastpath::AppNotify& last_notify() {
    notes_ = notifies();
    EXPECT_FALSE(notes_.empty());
    if (notes_.empty()) notes_.emplace_back();
    return notes_.back();
  }
  void clear() { runner->sent.clear(); }
  // The fast path confirms every RemoveFlow conn sent so far (conn keeps a connection's
  // record until then).
  void ack_removals() {
    for (const auto& e : envelopes(Envelope::kRemoveFlow)) {
      if (!acked_removals_.insert(e.header().correlation_id()).second) continue;
      supervisor::Ack ack;
      ack.set_ok(true);
      runner->respond(e, ack);
    }
  }

  // Listens on `port` and returns the listener id from LISTEN_OPENED.
  uint32_t open_listener(uint16_t port, uint32_t request_id, uint32_t backlog = 16,
                         bool reuse = false, uint32_t context = 0) {
    listen(port, request_id, backlog, reuse, context);
    const auto& n = last_notify();
    EXPECT_EQ(n.type(), fastpath::AppNotify::TYPE_LISTEN_OPENED);
    EXPECT_EQ(n.status(), 0);
    return n.listener_id();
  }

  // The last SYN-ACK conn sent to `syn`'s sender, parsed (a default frame if none).
  wire::Frame last_syn_ack(const PeerSegment& syn) const {
    const auto outs = packet_outs();
    for (auto it = outs.rbegin(); it != outs.rend(); ++it) {
      wire::Frame f = parse_sent(it->frame());
      if (f.tcp.flags & wire::kTcpSyn && f.tcp.flags & wire::kTcpAck &&
          f.tcp.dst_port == syn.src_port && f.ip.dst.value == syn.src_ip) {
        return f;
      }
    }
    ADD_FAILURE() << "no SYN-ACK to port " << syn.src_port;
    return {};
  }
  // The peer's third ACK of the handshake `syn` started, acknowledging conn's last SYN-ACK.
  PeerSegment third_ack(const PeerSegment& syn) const {
    const wire::Frame f = last_syn_ack(syn);
    PeerSegment ack = syn;
    ack.flags = wire::kTcpAck;
    ack.seq = syn.seq + 1;
    ack.ack = f.tcp.seq + 1;
    ack.mss = false;
    ack.wscale = false;
    ack.sack_permitted = false;
    ack.tsval = syn.tsval + 1;
    ack.tsecr = f.tcp.options.tsval;
    ack.window = 502;
    return ack;
  }
  // Sends `syn` and the third ACK answering conn's SYN-ACK.
  void handshake(const PeerSegment& syn, uint32_t flow_group = 3) {
    segment(syn, flow_group);
    segment(third_ack(syn), flow_group);
  }

  // A passive open on listener_80 (opened first if need be) left installing: an accept with
  // `cookie`, a handshake from `peer_port`. Returns its InstallFlow, unanswered.
  Envelope passive_open_installing(uint16_t peer_port, uint64_t cookie, uint32_t request_id) {
    if (listener_80 == 0) listener_80 = open_listener(80, 9000);
    accept(listener_80, cookie, request_id);
    PeerSegment syn;
    syn.src_port = peer_port;
    handshake(syn);
    const auto installs = install_requests();
    EXPECT_FALSE(installs.empty());
    return installs.empty() ? Envelope{} : installs.back();
  }

  // Runs a passive open to completion: listener on 80 with an accept, a SYN, the third ACK,
  // installed as `flow_id`. Returns the InstallFlow.
  fastpath::InstallFlow establish_passive(uint32_t flow_id, uint16_t peer_port = 40000,
                                          uint32_t peer_isn = 1000) {
    if (listener_80 == 0) listener_80 = open_listener(80, 9000);
    accept(listener_80, 0xacce0000 + flow_id, 9000 + flow_id);
    PeerSegment syn;
    syn.src_port = peer_port;
    syn.seq = peer_isn;
    handshake(syn);
    auto installs = install_requests();
    EXPECT_FALSE(installs.empty());
    if (installs.empty()) return {};
    respond_installed(installs.back(), flow_id);
    return installs.back().install_flow();
  }

  TimePoint start_time = TimePoint(std::chrono::seconds(5000));
  ConnConfig config;
  std::unique_ptr<ConnActor> actor;
  std::unique_ptr<vtas::testing::TestRunner> runner;
  uint32_t listener_80 = 0;

 private:
  std::vector<fastpath::AppNotify> notes_;
  std::set<uint64_t> acked_removals_;
};

// The registry a killed conn left (reset its actor first), opened as the next incarnation
// opens it: for tests that edit or damage it before the restart.
inline auto reopen_registry(const TempDir& dir) {
  return ConnRegistry::open(dir.path() + "/conn.registry",
                            test_config(dir.path()).registry_capacity, ConnRegistry::Mode::kResume);
}

// Erases the request log a killed conn left (its actor reset): as if the log entries were
// never written, or aged out. False if the registry does not open.
inline bool forget_request_log(const TempDir& dir) {
  auto r = reopen_registry(dir);
  if (!r) return false;
  for (const auto& [slot, rec] : r->take_contents().request_log) r->request_log().erase(slot);
  return true;
}

// A second incarnation of `before`'s conn on the same registry, `downtime` later. The first
// is simply abandoned (no on_stop): that is what kill -9 leaves. `config` defaults to the
// test config.
inline std::unique_ptr<Harness> restart(const TempDir& dir, const Harness& before,
                                        Nanos downtime = std::chrono::milliseconds(300),
                                        std::optional<ConnConfig> config = std::nullopt) {
  auto after = std::make_unique<Harness>(config.value_or(test_config(dir.path())));
  after->start_time = before.runner->fake_clock.now() + downtime;
  after->start(/*incarnation=*/2);
  return after;
}

}  // namespace vtas::conn::testing
