// TimerConfig: what the timer actor takes from the manifest (TAS parameters for the RTO, the
// runtime directory for the flow table) plus its own scan cadence, resolved once at start.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "components/slowpath/timer/rto_policy.h"
#include "proto/manifest.pb.h"
#include "runtime/clock.h"
#include "runtime/result.h"

namespace vtas::timer {

struct TimerConfig {
  // The actor that gets Retransmit / WindowProbe, and whose restart means a new flow table.
  std::string fastpath = "fastpath";
  // `<runtime_dir>/flows`: the fast path's flow table.
  std::string flow_table_path;
  RtoPolicy rto;

  // The sweep finds flows that start having data in flight or a closed window: every
  // `sweep_tick` it looks at max_flows * sweep_tick / sweep_cycle slots, so every slot is seen
  // once per sweep_cycle. A flow it finds is then timed exactly on the wheel until it goes
  // idle, so the first timeout after an idle period may be late by up to a cycle; timeouts
  // during a transfer are on time. Measured here (131072 slots, memory-bound): ~12-15 ns per
  // free slot (its flags word), ~20 ns per in-use idle flow, i.e. 1.6-2.5 ms of CPU per full
  // cycle; with a 100 ms cycle ~2% of one core, in 10 ms ticks of ~0.2 ms.
  // A cycle only starts when the fast-path cores sent something since the last one began (the
  // per-core tx_packets counters: no packet, no new data in flight), or sweep_idle_max passed
  // (a window can close with nothing sent): an idle instance costs next to nothing.
  Nanos sweep_tick = std::chrono::milliseconds(10);
  Nanos sweep_cycle = std::chrono::milliseconds(100);
  Nanos sweep_idle_max = std::chrono::seconds(1);
  // Retry attaching to the flow table this often while it is not there.
  Nanos attach_retry = std::chrono::milliseconds(100);
  // Check this often that the mapped table is still the fast path's (it re-creates it when it
  // restarts; the ActorEvent for that usually tells us sooner).
  Nanos table_check = std::chrono::seconds(1);
  // Explicit timers beyond this are refused (an actor gone wild must not eat the memory).
  size_t max_explicit_timers = size_t{1} << 20;
  // Flow checks per wake-up; more due at once (a mass timeout, a restart) continue on the next
  // loop iteration so messages and heartbeats are not starved.
  size_t max_checks_per_wakeup = 16384;
};

// From the manifest: tas.cc_rexmit_ints, tas.cc_control_interval, tas.tcp_rtt_init and the
// runtime directory. An error names the offending field and value.
Result<TimerConfig> config_from_manifest(const manifest::Manifest& manifest);

// Checks a configuration (also one built by hand in tests).
Status validate(const TimerConfig& config);

}  // namespace vtas::timer
