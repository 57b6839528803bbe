#include "tests/integration/spawn.h"

#include <fcntl.h>
#include <spawn.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace vtas::testing {
namespace {

// Our environment with `overrides` applied, as "NAME=value" strings.
std::vector<std::string> environment_with(const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> result;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    bool overridden = false;
    for (const auto& [name, value] : overrides) overridden |= entry.rfind(name + "=", 0) == 0;
    if (!overridden) result.push_back(entry);
  }
  for (const auto& [name, value] : overrides) result.push_back(name + "=" + value);
  return result;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

}  // namespace

pid_t spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options) {
  std::vector<std::string> args = argv;
  std::vector<std::string> env = environment_with(options.env);
  std::vector<char*> arg_pointers = pointers_to(args), env_pointers = pointers_to(env);

  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  for (int fd : options.close_fds) ::posix_spawn_file_actions_addclose(&actions, fd);
  if (!options.stdout_path.empty()) {
    ::posix_spawn_file_actions_addopen(&actions, 1, options.stdout_path.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  if (!options.stderr_path.empty()) {
    ::posix_spawn_file_actions_addopen(&actions, 2, options.stderr_path.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, arg_pointers[0], &actions, nullptr, arg_pointers.data(),
                               env_pointers.data());
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  return pid;
}

pid_t spawn_process_or_abort(const std::vector<std::string>& argv, const SpawnOptions& options) {
  const pid_t pid = spawn_process(argv, options);
  if (pid < 0) {
    std::fprintf(stderr, "cannot run %s: %s (is the build complete?)\n", argv[0].c_str(),
                 std::strerror(errno));
    std::abort();
  }
  return pid;
}

}  // namespace vtas::testing
