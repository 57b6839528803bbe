#include "tests/integration/instance.h"

#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/spawn.h"

namespace vtas::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Where test instances live: a memory filesystem, as /run is on a production host. On a disk
// the instance's shared-memory files (flow table, conn registry, cc state) and logs are
// written back to the disk, and a page written again waits for the filesystem's journal:
// actors and the test stood still for seconds on this machine's virtual disk.
// VTAS_TEST_TMPDIR overrides; /tmp is the fallback when /dev/shm is missing or small.
std::string temp_base() {
  if (const char* chosen = ::getenv("VTAS_TEST_TMPDIR"); chosen && *chosen) return chosen;
  struct statfs fs {};
  constexpr uint64_t kEnough = 1ull << 30;
  if (::statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
      static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_bsize) >= kEnough) {
    return "/dev/shm";
  }
  return "/tmp";
}

std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = temp_base() + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* dir = ::mkdtemp(buf.data());
  return dir ? dir : "";
}

}  // namespace

std::string vtas_binary() { return VTAS_BINARY; }
std::string vtasctl_binary() { return VTASCTL_BINARY; }

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  CommandResult result;
  std::string dir = make_temp_dir("vtas-cmd-");
  std::string out_path = dir + "/out", err_path = dir + "/err";
  SpawnOptions options;
  options.stdout_path = out_path;
  options.stderr_path = err_path;
  const pid_t pid = spawn_process(argv, options);
  if (pid < 0) {
    result.err = "cannot run " + argv[0] + ": " + ::strerror(errno);
    std::filesystem::remove_all(dir);
    return result;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.err = "timed out";
      std::filesystem::remove_all(dir);
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  std::filesystem::remove_all(dir);
  return result;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

Instance::Instance(const std::string& manifest_body, const std::string& name) {
  dir_ = make_temp_dir("vtas-it-");
  runtime_dir_ = dir_ + "/run";
  manifest_path_ = dir_ + "/manifest.txtpb";
  stderr_path_ = dir_ + "/vtas.stderr";
  std::ofstream(manifest_path_) << "instance: \"" << name << "\"\nruntime_dir: \"" << runtime_dir_
                                << "\"\n" << manifest_body;
}

Instance::~Instance() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::filesystem::remove_all(dir_);
}

bool Instance::start(std::vector<std::string> extra_args) {
  int ready[2];
  if (::pipe(ready) != 0) return false;
  std::vector<std::string> argv{vtas_binary(), "--manifest", manifest_path_,
                                "--ready-fd=" + std::to_string(ready[1])};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  SpawnOptions options;
  options.stderr_path = stderr_path_;
  options.close_fds = {ready[0]};
  pid_ = spawn_process(argv, options);
  ::close(ready[1]);
  pollfd p{ready[0], POLLIN, 0};
  bool ok = false;
  if (::poll(&p, 1, 30000) == 1) {
    uint64_t value = 0;
    ok = ::read(ready[0], &value, sizeof(value)) == sizeof(value) && value == 1;
  }
  ::close(ready[0]);
  return ok;
}

int Instance::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (pid_ > 0) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

int Instance::stop() {
  if (pid_ > 0) ::kill(pid_, SIGTERM);
  return wait_exit();
}

CommandResult Instance::ctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{vtasctl_binary(), "--runtime-dir", runtime_dir_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

std::string Instance::status_json() const { return ctl({"--json", "status"}).out; }

std::string Instance::supervisor_stderr() const { return read_file(stderr_path_); }

std::string actor_field(const std::string& json, const std::string& actor, const std::string& field) {
  // Status JSON lists actors as objects starting with "name":"<actor>"; fields follow.
  size_t at = json.find("\"name\":\"" + actor + "\"");
  if (at == std::string::npos) return "";
  size_t end = json.find('}', at);
  size_t f = json.find("\"" + field + "\":", at);
  if (f == std::string::npos || f > end) return "";
  f += field.size() + 3;
  if (json[f] == '"') {  // a string: up to the closing quote, skipping escaped ones
    std::string value;
    for (size_t i = f + 1; i < json.size() && json[i] != '"'; ++i) {
      if (json[i] == '\\' && i + 1 < json.size()) ++i;
      value += json[i];
    }
    return value;
  }
  size_t stop = json.find_first_of(",}", f);
  return json.substr(f, stop - f);
}

}  // namespace vtas::testing
