// CcConfig: what the cc actor takes from the manifest (the TAS congestion-control parameters,
// the runtime directory for the flow table and its own state file, the fast path's name) plus
// its own cadences, resolved once at start. Policy messages change `params` / `tas` later.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "components/cc/actor/slot_sweep.h"
#include "components/cc/algorithms/params.h"
#include "proto/manifest.pb.h"
#include "runtime/clock.h"
#include "runtime/result.h"

namespace vtas::cc {

struct CcConfig {
  Params params;
  // The cc fields of the manifest's TasParameters, every one set (cc_policy.h cc_fields_of):
  // the base run-time changes merge into, and what cc_policy_query shows.
  manifest::TasParameters tas;
  // The actor whose restart means a new flow table.
  std::string fastpath = "fastpath";
  std::string flow_table_path;  // `<runtime_dir>/flows`
  std::string state_path;       // `<runtime_dir>/cc.state`

  // Finding new flows (slot_sweep.h): a tick every `sweep_tick_busy` while a sweep cycle runs
  // or handshakes happened lately, else every `sweep_tick_idle`. A new flow waits for control
  // at most about one idle tick plus one busy tick after its handshake reached the slow path.
  SlotSweep::Settings sweep;
  Nanos sweep_tick_busy = std::chrono::milliseconds(2);
  Nanos sweep_tick_idle = std::chrono::milliseconds(10);

  // A flow whose counters did not move since its last step (no ACK, no loss) is not stepped:
  // it is looked at again after idle_check_min_us, doubling per idle look up to
  // idle_check_max_us. So idle connections cost no wake-ups at the RTT scale, and a flow
  // that resumes is under control again within idle_check_max_us.
  uint32_t idle_check_min_us = 1000;
  uint32_t idle_check_max_us = 64000;

  // Control steps per round; more due at once continue in the next round, so messages and
  // heartbeats are not starved.
  uint32_t max_steps_per_round = 4096;

  // Wake rounds with a timerfd (microsecond precision). The actor loop's own timers sleep in
  // whole milliseconds, which would stretch every control interval below 1 ms to 1 ms.
  bool precise_wakeups = true;

  // Retry attaching to the flow table this often while it is not there.
  Nanos attach_retry = std::chrono::milliseconds(100);
  // Check this often that the mapped table is still the fast path's.
  Nanos table_check = std::chrono::seconds(1);
};

// From the manifest: tas (cc fields, tcp_rtt_init, tcp_link_bw) and the runtime directory.
// An error names the offending field and value.
Result<CcConfig> config_from_manifest(const manifest::Manifest& manifest);

// Checks a configuration (also one built by hand in tests).
Status validate(const CcConfig& config);

}  // namespace vtas::cc
