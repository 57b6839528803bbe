#include "runtime/log.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

#include "runtime/clock.h"

namespace vtas::log {
namespace {

std::atomic<bool> g_quiet{false};
std::mutex g_mutex;

spdlog::sink_ptr shared_sink() {
  static spdlog::sink_ptr sink = [] {
    auto s = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    s->set_pattern("%H:%M:%S.%f %^%-5l%$ [%n] %v");
    return s;
  }();
  return sink;
}

spdlog::level::level_enum effective(spdlog::level::level_enum requested) {
  if (g_quiet.load() && requested < spdlog::level::err) return spdlog::level::err;
  return requested;
}

}  // namespace

std::shared_ptr<spdlog::logger> get(const std::string& name) {
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, shared_sink());
  logger->set_level(effective(spdlog::level::info));
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

void route_protobuf_logs() {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel level, const char* file, int line,
                                     const std::string& message) {
    static std::mutex mutex;
    static RateLimit limit(10, 1000000000ull);
    std::lock_guard lock(mutex);
    if (!limit.allow(monotonic_ns())) return;
    auto logger = get("protobuf");
    auto spd = level >= google::protobuf::LOGLEVEL_ERROR ? spdlog::level::warn : spdlog::level::debug;
    logger->log(spd, "{} ({}:{}){}", message, file, line,
                limit.suppressed() ? " [" + std::to_string(limit.suppressed()) + " similar suppressed]" : "");
  });
}

void set_quiet(bool quiet) {
  g_quiet.store(quiet);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) {
    l->set_level(effective(l->level()));
  });
}

bool quiet() { return g_quiet.load(); }

void set_level(const std::string& name, spdlog::level::level_enum level) {
  get(name)->set_level(effective(level));
}

std::optional<spdlog::level::level_enum> parse_level(std::string_view text) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
      {"off", spdlog::level::off},
  };
  for (const auto& [name, level] : kLevels) {
    if (text == name) return level;
  }
  return std::nullopt;
}

std::string level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

bool RateLimit::allow(uint64_t now_ns) {
  if (now_ns - window_start_ns_ >= period_ns_) {
    window_start_ns_ = now_ns;
    used_ = 0;
  }
  if (used_ < burst_) {
    ++used_;
    reported_suppressed_ = suppressed_;
    suppressed_ = 0;
    return true;
  }
  ++suppressed_;
  return false;
}

}  // namespace vtas::log
