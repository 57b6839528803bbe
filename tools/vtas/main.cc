// vtas: the supervisor of a vtas instance.
//
//   vtas [--manifest FILE] [TAS flags ...]     run an instance (default: the embedded manifest)
//   vtas check-manifest FILE                   validate a manifest and print the resolved one
//   vtas actor --runtime-dir DIR --name NAME   (internal) run one actor process
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <set>

#include "runtime/log.h"
#include "runtime/manifest/command_line.h"
#include "runtime/manifest/manifest_loader.h"
#include "runtime/supervisor/actor_process.h"
#include "runtime/supervisor/supervisor.h"
#include "tools/vtas/builtin_actors.h"

namespace vtas {
extern const char kDefaultManifest[];
}

namespace {

vtas::ManifestRules rules() {
  vtas::ManifestRules r;
  r.known_kinds.emplace();
  for (const auto& kind : vtas::builtin_actors().kinds()) r.known_kinds->insert(kind);
  return r;
}

std::string self_path() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "vtas";
  return std::string(buf, static_cast<size_t>(n));
}

int check_manifest(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: vtas check-manifest FILE\n";
    return 64;
  }
  auto m = vtas::load_manifest_file(argv[2], rules());
  if (!m) {
    std::cerr << m.error().message << "\n";
    return 1;
  }
  std::cout << vtas::manifest_to_text(*m);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "actor") == 0) {
    return vtas::run_actor_process(argc, argv, vtas::builtin_actors());
  }
  if (argc > 1 && std::strcmp(argv[1], "check-manifest") == 0) return check_manifest(argc, argv);

  auto command_line = vtas::parse_command_line(argc, argv);
  if (!command_line) {
    std::cerr << "vtas: " << command_line.error().message << "\n";
    return 64;
  }
  if (command_line->help) {
    std::cout << vtas::command_line_help();
    return 0;
  }
  if (command_line->version) {
    std::cout << "vtas 0.1.0\n";
    return 0;
  }
  auto manifest = command_line->manifest_path
                      ? vtas::load_manifest_file(*command_line->manifest_path, rules())
                      : vtas::load_manifest_text(vtas::kDefaultManifest, "<embedded default manifest>", rules());
  if (!manifest) {
    std::cerr << manifest.error().message << "\n";
    return 1;
  }
  if (vtas::Status s = vtas::apply_overrides(*command_line, &*manifest); !s) {
    std::cerr << "vtas: " << s.error().message << "\n";
    return 64;
  }
  // Overrides may combine into something invalid: validate the result once more.
  auto resolved = vtas::load_manifest_text(vtas::manifest_to_text(*manifest), "<manifest with command-line overrides>", rules());
  if (!resolved) {
    std::cerr << resolved.error().message << "\n";
    return 1;
  }

  // Sockets, shared memory and files the instance creates are private to its user.
  ::umask(077);
  // SIGINT/SIGTERM are taken through a signalfd: block them before any thread exists so no
  // ZeroMQ or actor thread is picked to run a default handler.
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, SIGINT);
  ::sigaddset(&set, SIGTERM);
  ::sigaddset(&set, SIGHUP);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  vtas::log::set_quiet(resolved->logging().quiet());
  vtas::log::route_protobuf_logs();
  vtas::SupervisorOptions options;
  options.default_actor_binary = self_path();
  options.ready_fd = command_line->ready_fd.value_or(-1);
  vtas::Supervisor supervisor(*resolved, vtas::builtin_actors(), options);
  return supervisor.run();
}
