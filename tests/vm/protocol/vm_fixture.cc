#include "tests/vm/protocol/vm_fixture.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace vtas::testing {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The parent pid of `pid` (field 4 of /proc/<pid>/stat, after the parenthesised name).
pid_t parent_of(pid_t pid) {
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  char state;
  pid_t ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

}  // namespace

void VmFixture::start_host(const std::string& proxy_settings) {
  net_ = std::make_unique<TestNetwork>(
      std::to_string(::testing::UnitTest::GetInstance()->random_seed() % 10));
  ASSERT_TRUE(net_->ok()) << net_->error();
  // tests/vm/protocol's copy of manifests/vm-host.txtpb, on the test's own network.
  vtas_ = std::make_unique<Instance>(
      "supervision { heartbeat_interval_ms: 100 heartbeat_timeout_ms: 5000 }\n" +
          net_->manifest_network() +
          "tas { fp_no_hugepages: true fp_poll_interval_tas: 2000 tcp_rxbuf_len: 262144 "
          "tcp_txbuf_len: 262144 }\n"
          "actor { name: \"fastpath\" kind: \"fastpath\" }\n"
          "actor { name: \"arp\" kind: \"arp\" }\n"
          "actor { name: \"timer\" kind: \"timer\" }\n"
          "actor { name: \"conn\" kind: \"conn\" }\n"
          "actor { name: \"proxy-host\" kind: \"proxy-host\" proxy_host { " + proxy_settings +
          " } }\n",
      "vm" + std::to_string(::getpid() % 100000));
  ASSERT_TRUE(vtas_->start()) << vtas_->supervisor_stderr();
  dir_ = vtas_->runtime_dir() + "/../out";
  std::filesystem::create_directories(dir_);
}

void VmFixture::TearDown() {
  if (HasFailure() && vtas_) {
    std::cerr << "---- vtasctl stats ----\n" << vtas_->ctl({"stats"}).out;
    if (!dir_.empty()) {
      for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
        if (entry.is_regular_file()) {
          std::cerr << "---- " << entry.path().filename().string() << " ----\n"
                    << output(entry.path().filename().string());
        }
      }
    }
  }
  for (auto& vm : vms_) kill_vm(*vm);
  for (pid_t pid : host_apps_) reap(pid);
  if (vtas_) {
    int status = vtas_->stop();
    EXPECT_EQ(status, 0) << vtas_->supervisor_stderr();
    if (HasFailure()) std::cerr << "---- supervisor log ----\n" << vtas_->supervisor_stderr();
  }
  vtas_.reset();  // removes the instance directory: runtime dir, VM dirs, outputs
  net_.reset();
}

void VmFixture::reap(pid_t pid) {
  if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
}

pid_t VmFixture::spawn(const std::vector<std::string>& argv, const std::string& name) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open((dir_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open((dir_ + "/" + name + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

GuestVm* VmFixture::start_vm(const std::string& name) {
  auto vm = std::make_unique<GuestVm>();
  vm->name = name;
  vm->runtime_dir = vtas_->runtime_dir() + "/../" + name;
  std::filesystem::create_directories(vm->runtime_dir);
  int ready[2];
  if (::pipe(ready) != 0) {
    ADD_FAILURE() << "pipe failed";
    return nullptr;
  }
  vm->proxy_pid = spawn({VTAS_PROXY_GUEST, "--client", ivshmem_socket(), "--runtime-dir",
                         vm->runtime_dir, "--ready-fd", std::to_string(ready[1])},
                        name + "-proxy");  // the pipe is inherited (not close-on-exec)
  ::close(ready[1]);
  pollfd p{ready[0], POLLIN, 0};
  char byte = 0;
  const bool up = ::poll(&p, 1, 10000) == 1 && ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  GuestVm* raw = vm.get();
  vms_.push_back(std::move(vm));
  if (!up) {
    ADD_FAILURE() << "guest proxy " << name
                  << " did not become ready: " << output(name + "-proxy.err");
    return nullptr;
  }
  return raw;
}

void VmFixture::kill_vm(GuestVm& vm) {
  reap(vm.proxy_pid);
  vm.proxy_pid = -1;
  for (pid_t pid : vm.apps) reap(pid);
  vm.apps.clear();
}

pid_t VmFixture::spawn_app(GuestVm* vm, const std::vector<std::string>& args,
                           const std::string& name) {
  std::vector<std::string> argv{"/usr/bin/env",
                                "VTAS_RUNTIME_DIR=" + (vm ? vm->runtime_dir : vtas_->runtime_dir()),
                                VTAS_LL_TOOL};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = spawn(argv, name);
  (vm ? vm->apps : host_apps_).push_back(pid);
  return pid;
}

CommandResult VmFixture::run_app(GuestVm* vm, const std::vector<std::string>& args,
                                 std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{"/usr/bin/env",
                                "VTAS_RUNTIME_DIR=" + (vm ? vm->runtime_dir : vtas_->runtime_dir()),
                                VTAS_LL_TOOL};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, timeout);
}

pid_t VmFixture::spawn_peer(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> full{"/usr/bin/python3", LINUX_PEER_SCRIPT};
  full.insert(full.end(), args.begin(), args.end());
  return net_->spawn_in_peer(full, dir_ + "/" + name, dir_ + "/" + name + ".err");
}

CommandResult VmFixture::run_peer(const std::vector<std::string>& args,
                                  std::chrono::milliseconds timeout) {
  std::vector<std::string> full{"/usr/bin/python3", LINUX_PEER_SCRIPT};
  full.insert(full.end(), args.begin(), args.end());
  return net_->run_in_peer(full, timeout);
}

std::string VmFixture::output(const std::string& name) const {
  return read_text(dir_ + "/" + name);
}

std::vector<std::string> VmFixture::sorted_sha256s(const std::vector<std::string>& names) const {
  std::vector<std::string> all;
  for (const auto& name : names) {
    auto values = field_values(output(name), "sha256");
    all.insert(all.end(), values.begin(), values.end());
  }
  std::sort(all.begin(), all.end());
  return all;
}

bool VmFixture::wait_output(const std::string& name, const std::string& needle,
                            std::chrono::milliseconds timeout) const {
  return eventually([&] { return output(name).find(needle) != std::string::npos; }, timeout);
}

int VmFixture::wait_pid(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      for (auto& vm : vms_) std::erase(vm->apps, pid);
      std::erase(host_apps_, pid);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

int64_t VmFixture::stats_counter(const std::string& actor, const std::string& name) const {
  const std::string stats = vtas_->ctl({"stats"}).out;
  size_t section = stats.find("[" + actor + "]\n");
  if (section == std::string::npos) return -1;
  size_t end = stats.find("\n[", section + 1);
  std::istringstream lines(
      stats.substr(section, end == std::string::npos ? std::string::npos : end - section));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string key, value;
    if (line.rfind("  ", 0) == 0 && line.rfind("    ", 0) != 0 && (words >> key >> value) &&
        key == name) {
      return std::strtoll(value.c_str(), nullptr, 10);
    }
  }
  return -1;
}

std::vector<std::string> VmFixture::actors_holding(const std::string& needle) const {
  std::vector<std::string> found;
  const pid_t supervisor = vtas_->pid();
  for (const auto& proc : std::filesystem::directory_iterator("/proc")) {
    const std::string pid_text = proc.path().filename().string();
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid != supervisor && parent_of(pid) != supervisor) continue;
    std::istringstream maps(read_text(proc.path().string() + "/maps"));
    for (std::string line; std::getline(maps, line);) {
      if (line.find(needle) != std::string::npos) {
        found.push_back(pid_text + " maps " +
                        line.substr(line.find('/') == std::string::npos ? 0 : line.find('/')));
        break;
      }
    }
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", ec)) {
      std::error_code link_ec;
      std::string target = std::filesystem::read_symlink(fd.path(), link_ec).string();
      if (!link_ec && target.find(needle) != std::string::npos) {
        found.push_back(pid_text + " holds " + target);
        break;
      }
    }
  }
  return found;
}

std::vector<std::string> field_values(const std::string& text, const std::string& key) {
  std::vector<std::string> out;
  size_t at = 0;
  const std::string needle = key + "=";
  while ((at = text.find(needle, at)) != std::string::npos) {
    at += needle.size();
    size_t end = text.find_first_of(" \n", at);
    out.push_back(text.substr(at, end - at));
  }
  return out;
}

}  // namespace vtas::testing
