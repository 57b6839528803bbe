#include "components/slowpath/conn_counters.h"

namespace vtas::conn {

void ConnCounters::fill(supervisor::StatsReport* report) const {
  auto add = [report](const char* name, uint64_t value) {
    auto* c = report->add_counters();
    c->set_name(name);
    c->set_value(value);
  };
#define VTAS_CONN_COUNTER(name) add(#name, name)
  VTAS_CONN_COUNTER(packets_in);
  VTAS_CONN_COUNTER(frames_malformed);
  VTAS_CONN_COUNTER(frames_not_tcp);
  VTAS_CONN_COUNTER(frames_bad_address);
  VTAS_CONN_COUNTER(frames_not_for_us);
  VTAS_CONN_COUNTER(frames_land);
  VTAS_CONN_COUNTER(syns_received);
  VTAS_CONN_COUNTER(syns_to_closed_port);
  VTAS_CONN_COUNTER(syns_queued);
  VTAS_CONN_COUNTER(syns_duplicate);
  VTAS_CONN_COUNTER(syns_dropped_backlog_full);
  VTAS_CONN_COUNTER(syns_dropped_syn_queue_full);
  VTAS_CONN_COUNTER(syns_expired);
  VTAS_CONN_COUNTER(synack_retransmits);
  VTAS_CONN_COUNTER(accepted);
  VTAS_CONN_COUNTER(synacks_sent);
  VTAS_CONN_COUNTER(synack_timeouts);
  VTAS_CONN_COUNTER(half_open_expired);
  VTAS_CONN_COUNTER(half_open_reset);
  VTAS_CONN_COUNTER(handshakes_completed);
  VTAS_CONN_COUNTER(syn_cookies_sent);
  VTAS_CONN_COUNTER(syn_cookies_accepted);
  VTAS_CONN_COUNTER(acks_dropped_accept_queue_full);
  VTAS_CONN_COUNTER(segments_dropped_in_listen);
  VTAS_CONN_COUNTER(frames_held);
  VTAS_CONN_COUNTER(frames_replayed);
  VTAS_CONN_COUNTER(frames_held_dropped);
  VTAS_CONN_COUNTER(opens);
  VTAS_CONN_COUNTER(opened);
  VTAS_CONN_COUNTER(open_failures);
  VTAS_CONN_COUNTER(syn_retransmits);
  VTAS_CONN_COUNTER(handshake_timeouts);
  VTAS_CONN_COUNTER(connections_refused);
  VTAS_CONN_COUNTER(resolve_failures);
  VTAS_CONN_COUNTER(timer_fallbacks);
  VTAS_CONN_COUNTER(simultaneous_open_ignored);
  VTAS_CONN_COUNTER(installs_sent);
  VTAS_CONN_COUNTER(install_failures);
  VTAS_CONN_COUNTER(install_retries);
  VTAS_CONN_COUNTER(flows_removed);
  VTAS_CONN_COUNTER(removal_retries);
  VTAS_CONN_COUNTER(closes_deferred);
  VTAS_CONN_COUNTER(stale_closes);
  VTAS_CONN_COUNTER(flow_events);
  VTAS_CONN_COUNTER(flow_events_unknown);
  VTAS_CONN_COUNTER(installs_learned_from_events);
  VTAS_CONN_COUNTER(stale_records_dropped);
  VTAS_CONN_COUNTER(accepts_posted_twice);
  VTAS_CONN_COUNTER(closes);
  VTAS_CONN_COUNTER(aborts);
  VTAS_CONN_COUNTER(resets_by_peer);
  VTAS_CONN_COUNTER(close_timeouts);
  VTAS_CONN_COUNTER(flow_reconciles);
  VTAS_CONN_COUNTER(flow_events_recovered);
  VTAS_CONN_COUNTER(time_wait_entered);
  VTAS_CONN_COUNTER(close_lingers);
  VTAS_CONN_COUNTER(time_wait_overflow);
  VTAS_CONN_COUNTER(time_wait_acks);
  VTAS_CONN_COUNTER(time_wait_reopened);
  VTAS_CONN_COUNTER(rsts_sent);
  VTAS_CONN_COUNTER(rsts_rate_limited);
  VTAS_CONN_COUNTER(app_requests);
  VTAS_CONN_COUNTER(app_requests_rejected);
  VTAS_CONN_COUNTER(app_requests_duplicate);
  VTAS_CONN_COUNTER(app_requests_garbage);
  VTAS_CONN_COUNTER(apps_attached);
  VTAS_CONN_COUNTER(apps_detached);
  VTAS_CONN_COUNTER(registry_full);
  VTAS_CONN_COUNTER(registry_dropped);
  VTAS_CONN_COUNTER(registry_restored);
#undef VTAS_CONN_COUNTER
}

}  // namespace vtas::conn
