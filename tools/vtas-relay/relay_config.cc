#include "tools/vtas-relay/relay_config.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

namespace vtas::relay {
namespace {

constexpr uint64_t kMaxDelayUs = 10'000'000;  // 10 s: anything longer is a typo

Status bad_value(std::string_view name, std::string_view value, std::string_view allowed) {
  return make_error("vtas-relay: --" + std::string(name) + "=" + std::string(value) +
                    " is not valid (allowed: " + std::string(allowed) + ")");
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

Status parse_u32(std::string_view name, std::string_view value, uint64_t low, uint64_t high,
                 uint32_t& out) {
  uint64_t v = 0;
  if (!parse_number(value, v) || v < low || v > high) {
    return bad_value(name, value,
                     "an integer " + std::to_string(low) + ".." + std::to_string(high));
  }
  out = static_cast<uint32_t>(v);
  return Status();
}

Status parse_double(std::string_view name, std::string_view value, double low, double high,
                    double& out) {
  double v = 0;
  if (!parse_number(value, v) || !std::isfinite(v) || v < low || v > high) {
    char range[64];
    std::snprintf(range, sizeof range, "a number %g..%g", low, high);
    return bad_value(name, value, range);
  }
  out = v;
  return Status();
}

Status parse_bool(std::string_view name, std::string_view value, bool& out) {
  if (value.empty() || value == "1" || value == "true" || value == "on" || value == "yes") {
    out = true;
  } else if (value == "0" || value == "false" || value == "off" || value == "no") {
    out = false;
  } else {
    return bad_value(name, value, "true/false, on/off, 1/0");
  }
  return Status();
}

using DirectionSetter =
    std::function<Status(Impairments&, std::string_view name, std::string_view value)>;

const std::map<std::string, DirectionSetter, std::less<>>& direction_options() {
  static const std::map<std::string, DirectionSetter, std::less<>> options = {
      {"loss",
       [](Impairments& i, auto n, auto v) { return parse_double(n, v, 0, 100, i.loss_pct); }},
      {"corrupt",
       [](Impairments& i, auto n, auto v) { return parse_double(n, v, 0, 100, i.corrupt_pct); }},
      {"duplicate",
       [](Impairments& i, auto n, auto v) { return parse_double(n, v, 0, 100, i.duplicate_pct); }},
      {"reorder",
       [](Impairments& i, auto n, auto v) { return parse_double(n, v, 0, 100, i.reorder_pct); }},
      {"reorder-delay-us",
       [](Impairments& i, auto n, auto v) {
         return parse_u32(n, v, 0, kMaxDelayUs, i.reorder_delay_us);
       }},
      {"reorder-gap",
       [](Impairments& i, auto n, auto v) { return parse_u32(n, v, 0, 1000000, i.reorder_gap); }},
      {"delay-us",
       [](Impairments& i, auto n, auto v) { return parse_u32(n, v, 0, kMaxDelayUs, i.delay_us); }},
      {"jitter-us",
       [](Impairments& i, auto n, auto v) { return parse_u32(n, v, 0, kMaxDelayUs, i.jitter_us); }},
      {"rate-mbps",
       [](Impairments& i, auto n, auto v) { return parse_double(n, v, 0, 400000, i.rate_mbps); }},
      {"burst-bytes",
       [](Impairments& i, auto n, auto v) { return parse_u32(n, v, 64, 1u << 30, i.burst_bytes); }},
      {"queue-frames",
       [](Impairments& i, auto n, auto v) { return parse_u32(n, v, 1, 1000000, i.queue_frames); }},
      {"ce-threshold",
       [](Impairments& i, auto n, auto v) { return parse_u32(n, v, 0, 1000000, i.ce_threshold); }},
      {"cwr-unmarked",
       [](Impairments& i, auto n, auto v) { return parse_bool(n, v, i.cwr_unmarked); }},
  };
  return options;
}

std::string percent(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g%%", v);
  return text;
}

}  // namespace

Status apply_option(RelayConfig& c, std::string_view name, std::string_view value) {
  if (name == "a" || name == "b") {
    if (value.empty() || value.size() > 15) return bad_value(name, value, "an interface name");
    (name == "a" ? c.interface_a : c.interface_b) = std::string(value);
    return Status();
  }
  if (name == "seed") {
    if (!parse_number(value, c.seed)) return bad_value(name, value, "an unsigned 64-bit integer");
    return Status();
  }
  if (name == "pool-frames") return parse_u32(name, value, 256, 1u << 22, c.pool_frames);
  if (name == "frame-bytes") return parse_u32(name, value, 0, 65536, c.frame_bytes);
  if (name == "busy-poll") return parse_bool(name, value, c.busy_poll);
  if (name == "commands") return parse_bool(name, value, c.commands);
  if (name == "stats-file") {
    c.stats_file = std::string(value);
    return Status();
  }
  std::string_view base = name;
  Impairments* only = nullptr;
  if (name.starts_with("a2b-")) {
    only = &c.a2b;
    base = name.substr(4);
  } else if (name.starts_with("b2a-")) {
    only = &c.b2a;
    base = name.substr(4);
  }
  const auto found = direction_options().find(base);
  if (found == direction_options().end()) {
    return make_error("vtas-relay: unknown option --" + std::string(name) +
                      " (vtas-relay --help lists them)");
  }
  if (only != nullptr) return found->second(*only, name, value);
  if (Status s = found->second(c.a2b, name, value); !s) return s;
  return found->second(c.b2a, name, value);
}

Result<RelayConfig> parse_arguments(const std::vector<std::string>& args) {
  RelayConfig c;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--")) {
      return make_error("vtas-relay: unexpected argument '" + std::string(arg) +
                        "' (options are --name=value)");
    }
    arg.remove_prefix(2);
    std::string_view name = arg;
    std::string value;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    } else {
      // `--name value`, except for flags that stand alone.
      const bool flag = name == "busy-poll" || name == "commands" || name.ends_with("cwr-unmarked");
      if (!flag) {
        if (i + 1 >= args.size()) {
          return make_error("vtas-relay: --" + std::string(name) + " needs a value");
        }
        value = args[++i];
      }
    }
    if (Status s = apply_option(c, name, value); !s) return s.error();
  }
  if (Status s = validate(c); !s) return s.error();
  return c;
}

Status validate(const RelayConfig& c) {
  if (c.interface_a.empty() || c.interface_b.empty()) {
    return make_error("vtas-relay: both --a=IFACE and --b=IFACE are required");
  }
  if (c.interface_a == c.interface_b) {
    return make_error("vtas-relay: --a and --b are both '" + c.interface_a +
                      "'; the relay forwards between two different interfaces");
  }
  return Status();
}

std::string describe(const Impairments& i) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : " ") + s; };
  if (i.loss_pct > 0) add("loss=" + percent(i.loss_pct));
  if (i.corrupt_pct > 0) add("corrupt=" + percent(i.corrupt_pct));
  if (i.duplicate_pct > 0) add("duplicate=" + percent(i.duplicate_pct));
  if (i.reorder_pct > 0) {
    add("reorder=" + percent(i.reorder_pct) + "(+" + std::to_string(i.reorder_delay_us) + "us" +
        (i.reorder_gap ? " or " + std::to_string(i.reorder_gap) + " frames" : "") + ")");
  }
  if (i.delay_us > 0 || i.jitter_us > 0) {
    add("delay=" + std::to_string(i.delay_us) + "us+[0," + std::to_string(i.jitter_us) + "]us");
  }
  if (i.rate_mbps > 0) {
    char text[96];
    std::snprintf(text, sizeof text, "rate=%gMbit/s burst=%uB queue=%u", i.rate_mbps, i.burst_bytes,
                  i.queue_frames);
    add(text);
    if (i.ce_threshold > 0) add("ce-threshold=" + std::to_string(i.ce_threshold));
  }
  if (i.cwr_unmarked) add("cwr-unmarked");
  return out.empty() ? "none" : out;
}

std::string usage() {
  return R"(usage: vtas-relay --a=IFACE --b=IFACE [options]
Forwards every Ethernet frame between two interfaces (AF_PACKET), impairing them on the way.
Impairment options apply to both directions; prefix with a2b- or b2a- for one direction
(a2b: frames received on A, sent on B).
  --loss=PCT               drop PCT% of frames
  --corrupt=PCT            flip one byte after the Ethernet header in PCT% of frames
  --duplicate=PCT          send PCT% of frames twice
  --reorder=PCT            hold PCT% of frames back so later ones overtake them, by
  --reorder-delay-us=US      extra delay (default 100)
  --reorder-gap=N            or until N later frames went out, whichever is first (0: delay only)
  --delay-us=US            fixed one-way delay
  --jitter-us=US           plus a uniform random [0, US]; frames stay in order
  --rate-mbps=R            bottleneck: token bucket at R Mbit/s of frame bytes (0: none)
  --burst-bytes=B          its bucket depth (default 3028: two full frames)
  --queue-frames=N         its FIFO limit, tail drop beyond (default 1000)
  --ce-threshold=K         set CE on ECT frames arriving with >= K frames queued (0: off)
  --cwr-unmarked           set CWR on unmarked ECT TCP data (makes a classic-ECN receiver
                           echo ECE per marked segment, as DCTCP's receiver does)
Other options:
  --seed=N                 seed of the random decisions (default 1): same seed, same decisions
  --pool-frames=N          frame buffers (default 32768); frames beyond are dropped, counted
  --frame-bytes=N          buffer size (default: from the interfaces' MTU)
  --busy-poll              spin instead of sleeping (lowest latency, one core busy)
  --commands               read commands on stdin: `set NAME=VALUE` (any impairment option,
                           without --), `stats`, `quit`
  --stats-file=PATH        also write the final counters to PATH
Prints "ready" when both interfaces are open, counters on SIGUSR1 and at exit (SIGINT/SIGTERM).
)";
}

}  // namespace vtas::relay
