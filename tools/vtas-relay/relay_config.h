// RelayConfig: what vtas-relay does to the frames it forwards, per direction (a2b: from
// interface A to interface B; b2a: back), and how it is parsed from `--name=value` options and
// from the `set name=value` commands it reads at run time. An option applies to both
// directions unless its name starts with "a2b-" or "b2a-" (`--a2b-rate-mbps=100`).
//
// Used by the relay's main() and engine and by their tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/result.h"

namespace vtas::relay {

// Impairments of one direction, applied in this order to every frame:
//   loss -> corruption -> duplication -> bottleneck (token bucket, queue limit, CE marking)
//   -> delay (+ jitter, order kept) -> reordering.
struct Impairments {
  double loss_pct = 0;              // drop this share of frames
  double corrupt_pct = 0;           // flip one byte (XOR a non-zero mask) after the Ethernet header
  double duplicate_pct = 0;         // send a second copy (it takes its own place in the queue)
  double reorder_pct = 0;           // hold a frame back so later ones overtake it
  uint32_t reorder_delay_us = 100;  // ...by this much extra delay...
  uint32_t reorder_gap = 0;         // ...or until this many later frames went out (0: delay only)
  uint32_t delay_us = 0;            // fixed one-way delay
  uint32_t jitter_us = 0;           // plus uniform [0, jitter]; frames stay in order
  // Bottleneck: a token bucket of `rate_mbps` (0 = no bottleneck) with `burst_bytes` of
  // credit, in front of a FIFO of at most `queue_frames` frames (tail drop beyond).
  double rate_mbps = 0;
  uint32_t burst_bytes = 3028;
  uint32_t queue_frames = 1000;
  // ECN: set CE on ECT(0)/ECT(1) frames that arrive when the bottleneck queue holds at least
  // this many frames (0 = never). IPv4 header checksums are fixed up.
  uint32_t ce_threshold = 0;
  // Set CWR on TCP data segments that carry ECT but were not marked CE. A classic RFC 3168
  // receiver (Linux without tcp_dctcp) then echoes ECE only for the segments that were marked,
  // as a DCTCP receiver does; needed because vtas, like TAS, never sends CWR itself.
  bool cwr_unmarked = false;

  bool operator==(const Impairments&) const = default;
};

struct RelayConfig {
  std::string interface_a;
  std::string interface_b;
  uint64_t seed = 1;
  Impairments a2b;
  Impairments b2a;
  uint32_t pool_frames = 32768;  // frame buffers (queue + delay line + batches)
  uint32_t frame_bytes = 0;      // buffer size; 0 = from the larger MTU of the two interfaces
  bool busy_poll = false;        // spin instead of sleeping in epoll
  bool commands = false;         // read `set ...` / `stats` / `quit` lines on stdin
  std::string stats_file;        // also write the final counters here
};

// Applies one option (`name` without the leading "--"). Errors name the option, the value and
// what is allowed.
Status apply_option(RelayConfig& config, std::string_view name, std::string_view value);

// From `--name=value` / `--name value` arguments (argv[0] excluded).
Result<RelayConfig> parse_arguments(const std::vector<std::string>& args);

// Whole-config checks (both interfaces named and different, sizes sane).
Status validate(const RelayConfig& config);

// The options and what they do, for --help.
std::string usage();

// One line describing a direction's impairments ("loss=2% delay=100us ...", "none").
std::string describe(const Impairments& impairments);

}  // namespace vtas::relay
