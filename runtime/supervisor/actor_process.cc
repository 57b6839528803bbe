#include "runtime/supervisor/actor_process.h"

#include <google/protobuf/text_format.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "runtime/directory.h"
#include "runtime/log.h"
#include "runtime/zmq_runner.h"

namespace vtas {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitConfig = 78;
constexpr int kExitSoftware = 70;

struct ActorArgs {
  std::string runtime_dir;
  std::string name;
  uint32_t incarnation = 0;
};

bool parse_args(int argc, const char* const* argv, ActorArgs* out) {
  // argv[0] = binary, argv[1] = "actor"
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--runtime-dir") {
      out->runtime_dir = value;
    } else if (flag == "--name") {
      out->name = value;
    } else if (flag == "--incarnation") {
      out->incarnation = static_cast<uint32_t>(std::strtoul(value.c_str(), nullptr, 10));
    } else {
      return false;
    }
  }
  return !out->runtime_dir.empty() && !out->name.empty();
}

// Milliseconds since this process was forked (/proc/self/stat's start time, in clock ticks
// since boot); -1 if unknown.
double ms_since_fork() {
  std::ifstream stat("/proc/self/stat");
  std::string text;
  std::getline(stat, text);
  const size_t name_end = text.rfind(')');
  if (name_end == std::string::npos || name_end + 2 > text.size()) return -1;
  std::istringstream fields(text.substr(name_end + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) {  // field 22 is starttime
    if (!(fields >> field)) return -1;
  }
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  const double start_s = std::strtod(field.c_str(), nullptr) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9 - start_s) * 1000;
}

}  // namespace

int run_actor_process(int argc, const char* const* argv, const ActorRegistry& registry) {
  ::umask(077);
  log::route_protobuf_logs();
  ActorArgs args;
  if (!parse_args(argc, argv, &args)) {
    std::cerr << "usage: " << argv[0]
              << " actor --runtime-dir DIR --name NAME [--incarnation N]\n"
                 "(started by the vtas supervisor; not meant to be run by hand)\n";
    return kExitUsage;
  }
  auto logger = log::get(args.name);
  const double before_main_ms = ms_since_fork();
  const auto main_entered = std::chrono::steady_clock::now();
  std::string path = args.runtime_dir + "/manifest.txtpb";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  manifest::Manifest manifest;
  if (!in || !google::protobuf::TextFormat::ParseFromString(text.str(), &manifest)) {
    logger->error("cannot read the instance manifest {} (is the supervisor running?)", path);
    return kExitConfig;
  }
  const manifest::Actor* spec = nullptr;
  for (const auto& a : manifest.actor()) {
    if (a.name() == args.name) spec = &a;
  }
  if (!spec) {
    logger->error("no actor named '{}' in {}", args.name, path);
    return kExitConfig;
  }
  log::set_quiet(manifest.logging().quiet());
  log::set_level(args.name, log::parse_level(spec->log_level()).value_or(spdlog::level::info));

  std::unique_ptr<Actor> actor = registry.create(ActorSpec{manifest, *spec});
  if (!actor) {
    logger->error("this binary has no actor kind '{}'", spec->kind());
    return kExitConfig;
  }
  Directory directory(manifest);
  RunnerOptions options;
  options.name = args.name;
  options.incarnation = args.incarnation;
  options.mailbox_endpoints = {directory.mailbox_endpoints(args.name).back()};  // ipc only
  options.resolve = [&directory](const std::string& peer) { return directory.endpoint(peer, false); };
  options.supervisor = kSupervisorName;
  options.trace_endpoint = directory.trace_in_endpoint(false);
  options.heartbeat_interval = std::chrono::milliseconds(manifest.supervision().heartbeat_interval_ms());
  const double in_main_ms = std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - main_entered).count();
  const double slow_ms = static_cast<double>(kSlowActorStart.count());
  if (before_main_ms >= slow_ms || in_main_ms >= slow_ms) {
    logger->warn("slow start: {:.0f} ms from fork to main (exec, loading the libraries), "
                 "{:.0f} ms from main to the actor's own start (manifest, actor creation)",
                 before_main_ms, in_main_ms);
  }
  zmq::context_t context;
  Status status;
  {
    ZmqActorRunner runner(context, options);
    status = runner.run(*actor);
  }
  actor.reset();
  if (!status) {
    logger->error("{}", status.error().message);
    return kExitSoftware;
  }
  return 0;
}

}  // namespace vtas
