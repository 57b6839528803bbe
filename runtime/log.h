// Logging: one named spdlog logger per actor, a process-wide quiet switch (TAS --quiet),
// levels changeable at run time, and a rate limiter for hot paths.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vtas::log {

// The logger of an actor or tool, created on first use. Writes to stderr with the name in
// every line so interleaved output of several actors stays readable.
std::shared_ptr<spdlog::logger> get(const std::string& name);

// Quiet mode: only errors and worse are printed, whatever the per-logger level says.
void set_quiet(bool quiet);
bool quiet();

// Sends protobuf's own log lines (e.g. "invalid UTF-8 in string field" for every malformed
// message a peer sends) through a rate-limited "protobuf" logger instead of raw stderr.
void route_protobuf_logs();

// Applies `level` to the named logger (respecting quiet mode).
void set_level(const std::string& name, spdlog::level::level_enum level);

// "trace", "debug", "info", "warn", "error", "critical", "off" (as spdlog names them).
std::optional<spdlog::level::level_enum> parse_level(std::string_view text);
std::string level_name(spdlog::level::level_enum level);

// Lets through at most `burst` events per `period_ns` and counts the rest, so a flood of
// bad packets cannot flood the log. Not thread-safe: one per loop.
class RateLimit {
 public:
  RateLimit(uint32_t burst, uint64_t period_ns) : burst_(burst), period_ns_(period_ns) {}
  // True if this event may be logged now. `suppressed()` then tells how many were dropped
  // since the last allowed one (to report "... and N more").
  bool allow(uint64_t now_ns);
  uint64_t suppressed() const { return reported_suppressed_; }

 private:
  uint32_t burst_;
  uint64_t period_ns_;
  uint64_t window_start_ns_ = 0;
  uint32_t used_ = 0;
  uint64_t suppressed_ = 0;
  uint64_t reported_suppressed_ = 0;
};

}  // namespace vtas::log
