// ConnConfig: every knob of the conn actor in one place, with the values a production host
// wants as defaults, and its construction from the manifest (network.ip_addr, the TAS
// parameters tcp_* and arp_timeout_max, the runtime directory). The names of the peer actors
// conn talks to live here too (PeerNames), so no other unit spells them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "components/slowpath/conn_registry.h"
#include "components/slowpath/keyed_hash.h"
#include "components/slowpath/port_allocator.h"
#include "components/wire/address.h"
#include "proto/manifest.pb.h"
#include "runtime/clock.h"
#include "runtime/result.h"

namespace vtas::conn {

// How long a passive close keeps its linger entry (conn_close.cc): a few of the timer's
// retransmission timeouts, so the peer's answers to a FIN resent just before its ACK arrived
// find the entry. At most the configured TIME_WAIT.
inline constexpr std::chrono::seconds kPassiveCloseLinger{1};

// The actors conn talks to, by manifest name.
struct PeerNames {
  std::string fastpath = "fastpath";
  std::string arp = "arp";
  std::string timer = "timer";
};

struct ConnConfig {
  PeerNames peers;

  // --- addresses ---------------------------------------------------------------------------
  uint32_t local_ip = 0;    // host order; 0 = take any destination address (tests only)
  wire::MacAddr local_mac;  // source MAC of our SYNs; zero = learned from received frames

  // --- TCP ---------------------------------------------------------------------------------
  uint16_t mss = 1460;                    // the MSS we announce (what we can receive per segment)
  uint16_t min_send_mss = 64;             // a peer announcing less gets this (Linux: 48; TAS: none)
  uint32_t rx_buffer = 8192;              // tas.tcp_rxbuf_len: our window and our window scale
  uint32_t tx_buffer = 8192;              // tas.tcp_txbuf_len
  uint32_t handshake_timeout_us = 10000;  // tas.tcp_handshake_timeout: first SYN timeout
  uint32_t handshake_retries = 10;        // tas.tcp_handshake_retries: SYN retransmissions
  uint32_t handshake_timeout_max_us = 60'000'000;  // doubling stops here
  PortRange ephemeral_ports;
  Nanos time_wait = std::chrono::seconds(60);  // 2 * MSL
  // A connection the app closed gracefully whose peer never finishes its side is reset
  // after this long (Linux tcp_fin_timeout; TAS has no equivalent).
  Nanos close_timeout = std::chrono::seconds(60);
  // RFC 6191 / RFC 1122 4.2.2.13: a SYN for a tuple in TIME_WAIT that is provably newer
  // (higher timestamp, or without timestamps a sequence number beyond the old one) may reopen
  // it. Off: every SYN for a TIME_WAIT tuple is answered with an ACK and not accepted.
  bool time_wait_accept_newer_syn = true;

  // --- SYN flood bounds ----------------------------------------------------------------------
  uint32_t backlog_max = 4096;       // cap on an app's listen backlog (Linux somaxconn)
  uint32_t syn_queue_limit = 16384;  // SYNs waiting over all listeners together
  Nanos backlog_syn_lifetime = std::chrono::seconds(30);  // a waiting SYN is dropped after
  uint32_t rst_burst = 200;  // RSTs for closed ports / unknown segments ...
  Nanos rst_period = std::chrono::milliseconds(100);  // ... per this period

  // --- per-app bounds (an app must not exhaust conn's tables for the others) ---------------
  uint32_t max_listeners_per_app = 1024;
  uint32_t max_accepts_per_listener = 4096;
  uint32_t max_pending_opens_per_app = 4096;
  uint32_t max_reuseport_group = 64;  // listeners sharing one port (TAS: 32)

  // --- peers ---------------------------------------------------------------------------------
  Nanos arp_cache_ttl = std::chrono::seconds(10);
  Nanos arp_request_timeout = std::chrono::seconds(11);  // > tas.arp_timeout_max
  Nanos install_timeout = std::chrono::seconds(1);
  uint32_t install_attempts = 3;
  Nanos flow_query_timeout = std::chrono::seconds(1);
  // A timer conn armed in `timer` that has not fired this long after its deadline is run by
  // conn itself (a lost TimerFired delays a handshake, it never hangs it).
  Nanos timer_grace = std::chrono::seconds(1);
  Nanos housekeeping_interval = std::chrono::seconds(1);

  // --- registry ----------------------------------------------------------------------------
  std::string registry_path;  // <runtime_dir>/<actor name>.registry
  RegistryCapacity registry_capacity;

  // --- determinism for tests ----------------------------------------------------------------
  uint64_t random_seed = 0;       // 0 = from the kernel
  std::optional<SipKey> isn_key;  // unset = random (or the registry's after a restart)

  // The window scale we announce: the smallest shift that fits rx_buffer into 16 bits.
  uint8_t receive_window_scale() const;
  // The window field of our SYN / SYN-ACK (never scaled, RFC 7323 2.2).
  uint16_t syn_window() const;
};

// Checks ranges and relations (retries, MSS, buffers, port range, capacities); the message
// names the field, the value and the allowed range.
Status validate(const ConnConfig& config);

// The config of the conn actor `actor_name` of `manifest`: local address from network.ip_addr
// (empty = any), TCP parameters from tas, registry under the runtime directory.
Result<ConnConfig> config_from_manifest(const manifest::Manifest& manifest,
                                        const std::string& actor_name);

}  // namespace vtas::conn
