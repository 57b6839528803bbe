// ArpActor: the `arp` actor. It answers ResolveRequest (which MAC to send to for an IPv4
// address) for conn, and speaks ARP on the wire through the fast path: the ARP frames the fast
// path hands over (PacketIn) and the ones arp sends (PacketOut to the fast path).
//
//   ResolveRequest{ip} -> RoutingTable::next_hop (longest prefix match, "no route to X")
//     -> ArpCache hit (reachable or stale): answered at once; a stale entry is re-confirmed
//        with one unicast request in the background;
//     -> otherwise one resolution per next hop, shared by every request waiting for it:
//        broadcast requests with waits of --arp-timeout doubling up to --arp-timeout-max
//        (retry_schedule_us), then ok = false "no ARP reply from X after N requests".
//        Every waiting request gets its own ResolveResponse.
//   PacketIn with an ARP frame -> RFC 826 merge into the cache (only requests addressed to us
//     create entries; replies complete ours), replies to requests for our address (probes with sender 0.0.0.0
//     included), completes resolutions; frames for other hosts or other MACs are ignored;
//     malformed frames are counted and dropped (the log is rate limited). Another host
//     claiming our address is logged and answered with an announcement (at most one per 10 s,
//     RFC 5227).
//   SetLocalMac{mac} from the fast path -> our MAC; announced with a gratuitous ARP when it is
//     new or changed. A MAC given in the configuration is announced at start.
//
// Restart: nothing survives. The cache is re-learned (the fast path keeps using the MACs of
// installed flows), the fast path sends SetLocalMac again when it sees ActorEvent{arp
// STARTED} (and the new incarnation announces itself), and requests that waited on the dead
// incarnation are asked again by their senders (conn re-asks on the same event, or when its
// own request times out).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "components/arp/arp_cache.h"
#include "components/arp/arp_config.h"
#include "components/arp/routing_table.h"
#include "components/wire/arp.h"
#include "proto/arp.pb.h"
#include "proto/fastpath.pb.h"
#include "runtime/actor.h"
#include "runtime/actor_registry.h"
#include "runtime/log.h"

namespace vtas::arp {

// Counters reported by fill_stats (monotonic).
struct ArpCounters {
  uint64_t resolve_requests = 0;
  uint64_t answered_from_cache = 0;
  uint64_t resolutions_started = 0;
  uint64_t resolutions_ok = 0;
  uint64_t resolutions_failed = 0;      // no reply after the whole schedule
  uint64_t no_route = 0;                // next_hop failed (also own/broadcast/loop)
  uint64_t refused_busy = 0;            // too many resolutions or waiters
  uint64_t requests_sent = 0;           // broadcast ARP requests
  uint64_t requests_unsent_no_mac = 0;  // due while our MAC was unknown
  uint64_t refreshes_sent = 0;          // unicast re-confirmations of stale entries
  uint64_t requests_answered = 0;       // ARP replies we sent for our address
  uint64_t replies_unsent_no_mac = 0;
  uint64_t announcements_sent = 0;  // gratuitous ARPs
  uint64_t frames_in = 0;
  uint64_t frames_malformed = 0;
  uint64_t frames_not_arp = 0;
  uint64_t frames_not_for_us = 0;
  uint64_t address_conflicts = 0;
  uint64_t send_failures = 0;
};

class ArpActor final : public Actor {
 public:
  ArpActor(std::string name, ArpConfig config);
  // From the manifest; a bad manifest makes on_start() fail with the reason.
  ArpActor(std::string name, Result<ArpConfig> config);

  Status on_start() override;
  void fill_stats(supervisor::StatsReport* report) override;

  const ArpCounters& counters() const { return counters_; }
  const ArpCache& cache() const { return cache_; }
  size_t resolutions_in_progress() const { return resolutions_.size(); }

 private:
  struct Waiter {
    Envelope request;  // header only: who to answer, under which correlation id
    ReplyRoute route;
    uint32_t ip;  // the address asked for (the next hop may differ)
  };
  struct Resolution {
    std::vector<uint64_t> waits_us;  // the retry schedule
    size_t step = 0;                 // index of the wait running now
    uint32_t requests_sent = 0;
    TimePoint started{};
    TimerQueue::Id timer = 0;
    std::vector<Waiter> waiters;
  };

  void handle_resolve_request(const ResolveRequest& m, const Incoming& in);
  void handle_packet_in(const fastpath::PacketIn& m, const Incoming& in);
  void handle_set_local_mac(const SetLocalMac& m, const Incoming& in);

  void answer(const Waiter& w, uint32_t next_hop, const wire::MacAddr* mac,
              const std::string& error);
  void start_resolution(uint32_t next_hop, Waiter waiter);
  void on_wait_over(uint32_t next_hop);
  void complete(uint32_t next_hop, const wire::MacAddr& mac);
  void fail(uint32_t next_hop, const std::string& error);

  void handle_arp(const wire::ArpPacket& arp, const wire::MacAddr& eth_dst);
  void on_conflict(const wire::ArpPacket& arp);

  // Frames out through the fast path. False when not sent (no MAC yet, or mailbox full).
  bool send_request(uint32_t target, const wire::MacAddr& eth_dst);
  bool announce();
  bool send_frame(const uint8_t* frame, size_t length);

  std::string init_error_;
  ArpConfig config_;
  std::optional<RoutingTable> routes_;
  ArpCache cache_;
  std::optional<wire::MacAddr> mac_;
  wire::Ipv4Addr ip_;
  std::map<uint32_t, Resolution> resolutions_;  // by next hop
  ArpCounters counters_;
  std::optional<TimePoint> last_defence_;
  log::RateLimit frame_log_{5, 1000000000ull};
};

void register_actors(ActorRegistry& registry);

}  // namespace vtas::arp
