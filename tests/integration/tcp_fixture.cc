#include "tests/integration/tcp_fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/spawn.h"

namespace vtas::testing {

void TcpFixture::start_instance(const std::string& extra_tas) {
  net_ = std::make_unique<TestNetwork>(std::to_string(::testing::UnitTest::GetInstance()->random_seed() % 10));
  ASSERT_TRUE(net_->ok()) << net_->error();
  vtas_ = std::make_unique<Instance>(
      "supervision { heartbeat_interval_ms: 100 heartbeat_timeout_ms: 2000 }\n" +
          net_->manifest_network() +
          "tas { fp_no_hugepages: true fp_poll_interval_tas: 2000 tcp_rxbuf_len: 262144 "
          "tcp_txbuf_len: 262144 " + extra_tas + " }\n"
          "actor { name: \"fastpath\" kind: \"fastpath\" }\n"
          "actor { name: \"arp\" kind: \"arp\" }\n"
          "actor { name: \"timer\" kind: \"timer\" }\n"
          "actor { name: \"conn\" kind: \"conn\" }\n",
      "tcp" + std::to_string(::getpid() % 100000));
  ASSERT_TRUE(vtas_->start()) << vtas_->supervisor_stderr();
  dir_ = vtas_->runtime_dir() + "/../out";
  std::filesystem::create_directories(dir_);
}

void TcpFixture::TearDown() {
  if (HasFailure() && vtas_) {
    // What everyone saw, for the failure report.
    std::cerr << "---- vtasctl stats ----\n" << vtas_->ctl({"stats"}).out;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::cerr << "---- " << entry.path().filename().string() << " ----\n"
                << output(entry.path().filename().string());
    }
  }
  for (pid_t pid : apps_) {
    if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
  }
  if (vtas_) {
    int status = vtas_->stop();
    EXPECT_EQ(status, 0) << vtas_->supervisor_stderr();
    if (HasFailure()) std::cerr << "---- supervisor log ----\n" << vtas_->supervisor_stderr();
  }
  vtas_.reset();
  net_.reset();
}

pid_t TcpFixture::spawn_app(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> full{VTAS_LL_TOOL};
  full.insert(full.end(), args.begin(), args.end());
  SpawnOptions options;
  options.stdout_path = dir_ + "/" + name;
  options.stderr_path = dir_ + "/" + name + ".err";
  options.env = {{"VTAS_RUNTIME_DIR", vtas_->runtime_dir()}};
  const pid_t pid = spawn_process_or_abort(full, options);
  apps_.push_back(pid);
  return pid;
}

pid_t TcpFixture::spawn_peer(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> full{"/usr/bin/python3", LINUX_PEER_SCRIPT};
  full.insert(full.end(), args.begin(), args.end());
  return net_->spawn_in_peer(full, dir_ + "/" + name, dir_ + "/" + name + ".err");
}

CommandResult TcpFixture::run_app(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  ::setenv("VTAS_RUNTIME_DIR", vtas_->runtime_dir().c_str(), 1);
  std::vector<std::string> full{VTAS_LL_TOOL};
  full.insert(full.end(), args.begin(), args.end());
  return run_command(full, timeout);
}

CommandResult TcpFixture::run_peer(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> full{"/usr/bin/python3", LINUX_PEER_SCRIPT};
  full.insert(full.end(), args.begin(), args.end());
  return net_->run_in_peer(full, timeout);
}

std::string TcpFixture::output(const std::string& name) const {
  std::ifstream in(dir_ + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool TcpFixture::wait_output(const std::string& name, const std::string& needle,
                             std::chrono::milliseconds timeout) const {
  return eventually([&] { return output(name).find(needle) != std::string::npos; }, timeout);
}

int TcpFixture::wait_pid(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

std::vector<std::string> values_of(const std::string& text, const std::string& key) {
  std::vector<std::string> out;
  size_t at = 0;
  std::string needle = key + "=";
  while ((at = text.find(needle, at)) != std::string::npos) {
    at += needle.size();
    size_t end = text.find_first_of(" \n", at);
    out.push_back(text.substr(at, end - at));
  }
  return out;
}

}  // namespace vtas::testing
