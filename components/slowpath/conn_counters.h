// ConnCounters: what the conn actor counts, reported by `vtasctl stats` (fill_stats) and read
// by tests. Monotonic; one struct so adding a counter is one line here and one in the list.
#pragma once

#include <cstdint>

#include "proto/supervisor.pb.h"

namespace vtas::conn {

struct ConnCounters {
  // frames
  uint64_t packets_in = 0;
  uint64_t frames_malformed = 0;  // do not parse (bad checksum, truncated, bad options)
  uint64_t frames_not_tcp = 0;
  uint64_t frames_bad_address = 0;  // broadcast/multicast/zero addresses, port 0
  uint64_t frames_not_for_us = 0;   // destination is not our address
  uint64_t frames_land = 0;         // source is our own address (land attack)
  // passive opens
  uint64_t syns_received = 0;
  uint64_t syns_to_closed_port = 0;
  uint64_t syns_queued = 0;
  uint64_t syns_duplicate = 0;  // retransmitted SYNs already waiting in a backlog
  uint64_t syns_dropped_backlog_full = 0;
  uint64_t syns_dropped_syn_queue_full = 0;
  uint64_t syns_expired = 0;        // waited longer than backlog_syn_lifetime
  uint64_t synack_retransmits = 0;  // answers to a retransmitted SYN of an installed flow
  uint64_t accepted = 0;            // passive connections installed
  uint64_t synacks_sent = 0;        // first SYN-ACKs of SYN-RECEIVED entries
  uint64_t synack_timeouts = 0;     // SYN-ACKs sent again after a handshake timeout
  uint64_t half_open_expired = 0;   // SYN-RECEIVED entries dropped after the last retry
  uint64_t half_open_reset = 0;     // SYN-RECEIVED entries the peer reset
  uint64_t handshakes_completed = 0;   // third ACKs matching a SYN-RECEIVED entry
  uint64_t syn_cookies_sent = 0;       // SYN-ACKs without state (SYN-RECEIVED share full)
  uint64_t syn_cookies_accepted = 0;   // third ACKs carrying a valid cookie
  uint64_t acks_dropped_accept_queue_full = 0;  // completed handshakes the backlog had no room for
  uint64_t segments_dropped_in_listen = 0;  // neither SYN, ACK nor RST (RFC 9293 3.10.7.2)
  uint64_t frames_held = 0;           // segments that raced their flow's install, kept...
  uint64_t frames_replayed = 0;       // ...and handed back to the fast path
  uint64_t frames_held_dropped = 0;   // over the bounds: the peer retransmits them
  // active opens
  uint64_t opens = 0;
  uint64_t opened = 0;         // active connections installed
  uint64_t open_failures = 0;  // answered with an error (refused, timeout, ...)
  uint64_t syn_retransmits = 0;
  uint64_t handshake_timeouts = 0;
  uint64_t connections_refused = 0;
  uint64_t resolve_failures = 0;
  uint64_t timer_fallbacks = 0;  // handshake timers conn ran itself (TimerFired late)
  uint64_t simultaneous_open_ignored = 0;
  // fast path
  uint64_t installs_sent = 0;
  uint64_t install_failures = 0;
  uint64_t install_retries = 0;
  uint64_t flows_removed = 0;
  uint64_t removal_retries = 0;  // RemoveFlow sent again (no answer, or after a restart)
  uint64_t closes_deferred = 0;  // CONN_CLOSE for a flow still being installed: "ask again"
  uint64_t stale_closes = 0;     // CONN_CLOSE naming a flow id another connection holds now
  uint64_t flow_events = 0;
  uint64_t flow_events_unknown = 0;
  uint64_t installs_learned_from_events = 0;  // a FlowEvent overtook the install's answer
  uint64_t stale_records_dropped = 0;         // the fast path reused their flow id
  uint64_t accepts_posted_twice = 0;          // a repeated accept request while it waits
  // close
  uint64_t closes = 0;
  uint64_t aborts = 0;  // abortive closes (app reset, detach, close timeout)
  uint64_t resets_by_peer = 0;
  uint64_t close_timeouts = 0;
  uint64_t flow_reconciles = 0;        // FlowQuery for a close waiting on the flow too long
  uint64_t flow_events_recovered = 0;  // ...that found a FIN or close this actor never heard of
  uint64_t time_wait_entered = 0;
  uint64_t close_lingers = 0;  // passive closes that keep a short linger entry (conn_close.cc)
  uint64_t time_wait_overflow = 0;  // TIME_WAIT table full: tuple released at once
  uint64_t time_wait_acks = 0;
  uint64_t time_wait_reopened = 0;
  // replies to strangers
  uint64_t rsts_sent = 0;
  uint64_t rsts_rate_limited = 0;  // RSTs / TIME_WAIT ACKs not sent (rate limit)
  // apps
  uint64_t app_requests = 0;
  uint64_t app_requests_rejected = 0;   // answered with an error status
  uint64_t app_requests_duplicate = 0;  // relayed again: not executed twice
  uint64_t app_requests_garbage = 0;    // unknown type: not answerable
  uint64_t apps_attached = 0;
  uint64_t apps_detached = 0;
  // registry
  uint64_t registry_full = 0;      // an insert failed: a table is full
  uint64_t registry_dropped = 0;   // entries dropped on load (corrupt or invalid)
  uint64_t registry_restored = 0;  // entries restored on load

  void fill(supervisor::StatsReport* report) const;
};

}  // namespace vtas::conn
