#include "tests/long/long_fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
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

}  // namespace

void LongFixture::start_direct(const std::string& extra_tas) {
  direct_ = std::make_unique<TestNetwork>("l");
  ASSERT_TRUE(direct_->ok()) << direct_->error();
  start_vtas(direct_->manifest_network(), extra_tas);
}

void LongFixture::start_relayed(const std::vector<std::string>& relay_options,
                                const std::string& extra_tas) {
  relayed_ = std::make_unique<RelayNetwork>("l");
  ASSERT_TRUE(relayed_->ok()) << relayed_->error();
  std::string why;
  ASSERT_TRUE(relayed_->start_relay(relay_options, &why)) << why;
  start_vtas(relayed_->manifest_network(), extra_tas);
}

void LongFixture::start_vtas(const std::string& network, const std::string& extra_tas) {
  // A field may appear once in text format: the default buffer sizes only if the test sets none.
  const std::string buffers = extra_tas.find("buf_len") == std::string::npos
                                  ? "tcp_rxbuf_len: 262144 tcp_txbuf_len: 262144 "
                                  : "";
  // Restart intensity high enough for a hundred deliberate kills; everything else as the
  // integration tests run vtas.
  vtas_ = std::make_unique<Instance>(
      "supervision { max_restarts: 1000 period_ms: 10000 heartbeat_interval_ms: 100 "
      "heartbeat_timeout_ms: 2000 }\n" +
          network + "tas { fp_no_hugepages: true fp_poll_interval_tas: 2000 " + buffers +
          extra_tas +
          " }\n"
          "actor { name: \"fastpath\" kind: \"fastpath\" }\n"
          "actor { name: \"arp\" kind: \"arp\" " +
          slow_path_actor_options_ +
          " }\n"
          "actor { name: \"timer\" kind: \"timer\" " +
          slow_path_actor_options_ +
          " }\n"
          "actor { name: \"conn\" kind: \"conn\" " +
          slow_path_actor_options_ +
          " }\n"
          "actor { name: \"cc\" kind: \"cc\" " +
          slow_path_actor_options_ +
          " }\n"
          "actor { name: \"scale\" kind: \"scale\" " +
          slow_path_actor_options_ + " }\n",
      "lg" + std::to_string(::getpid() % 100000));
  ASSERT_TRUE(vtas_->start()) << vtas_->supervisor_stderr();
  dir_ = vtas_->runtime_dir() + "/../out";
  std::filesystem::create_directories(dir_);
}

void LongFixture::TearDown() {
  if (HasFailure() && vtas_ && !dir_.empty()) {
    std::cerr << "---- vtasctl stats ----\n" << vtas_->ctl({"stats"}).out;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::string text = output(entry.path().filename().string());
      // What libvtas dropped as invalid (VTAS_DEBUG, once per context) can be anywhere in
      // the file; the tail below is mostly its other debug lines.
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        if (line.find("dropped an invalid entry") != std::string::npos) {
          std::cerr << "---- " << entry.path().filename().string() << ": " << line << "\n";
        }
      }
      if (text.size() > 4000) text = "... " + text.substr(text.size() - 4000);
      std::cerr << "---- " << entry.path().filename().string() << " ----\n" << text;
    }
  }
  for (pid_t pid : children_) {
    if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
  }
  if (vtas_) {
    const int status = vtas_->stop();
    EXPECT_EQ(status, 0) << vtas_->supervisor_stderr();
    if (HasFailure()) {
      std::string log = vtas_->supervisor_stderr();
      if (log.size() > 20000) log = "... " + log.substr(log.size() - 20000);
      std::cerr << "---- supervisor log ----\n" << log;
    }
  }
  vtas_.reset();
  direct_.reset();
  relayed_.reset();
}

pid_t LongFixture::spawn_app(const std::vector<std::string>& args, const std::string& name,
                             const std::string& binary) {
  std::vector<std::string> full{binary.empty() ? std::string(VTAS_LL_TOOL) : binary};
  full.insert(full.end(), args.begin(), args.end());
  // libvtas prints the first invalid entry each context drops (an event for a connection it
  // does not know, say) only with VTAS_DEBUG: a test that fails wants to see it.
  SpawnOptions options;
  options.stdout_path = dir_ + "/" + name;
  options.stderr_path = dir_ + "/" + name + ".err";
  options.env = {{"VTAS_RUNTIME_DIR", vtas_->runtime_dir()}, {"VTAS_DEBUG", "1"}};
  const pid_t pid = spawn_process_or_abort(full, options);
  children_.push_back(pid);
  return pid;
}

pid_t LongFixture::spawn_peer(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> full{"/usr/bin/python3", LINUX_PEER_SCRIPT};
  full.insert(full.end(), args.begin(), args.end());
  return spawn_in_peer(full, name);
}

pid_t LongFixture::spawn_in_peer(const std::vector<std::string>& argv, const std::string& name) {
  const std::string out = dir_ + "/" + name, err = dir_ + "/" + name + ".err";
  // The networks kill what they spawned when they go; the fixture reaps it too.
  const pid_t pid =
      direct_ ? direct_->spawn_in_peer(argv, out, err) : relayed_->spawn_in_peer(argv, out, err);
  children_.push_back(pid);
  return pid;
}

std::string LongFixture::output(const std::string& name) const {
  return read_file(dir_ + "/" + name);
}

bool LongFixture::wait_output(const std::string& name, const std::string& needle,
                              std::chrono::milliseconds timeout) const {
  return eventually([&] { return output(name).find(needle) != std::string::npos; }, timeout);
}

int LongFixture::poll_pid(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return -1;
  children_.erase(std::remove(children_.begin(), children_.end(), pid), children_.end());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int LongFixture::wait_pid(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int code = poll_pid(pid);
    if (code >= 0) return code;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

const std::string& LongFixture::vtas_ip() const {
  return direct_ ? direct_->vtas_ip() : relayed_->vtas_ip();
}

const std::string& LongFixture::peer_ip() const {
  return direct_ ? direct_->peer_ip() : relayed_->peer_ip();
}

std::vector<std::string> key_values(const std::string& text, const std::string& key) {
  std::vector<std::string> out;
  const std::string needle = key + "=";
  for (size_t at = 0; (at = text.find(needle, at)) != std::string::npos;) {
    // Only whole keys: "sha256=" must not match inside "xsha256=".
    const bool whole = at == 0 || text[at - 1] == ' ' || text[at - 1] == '\n';
    at += needle.size();
    if (!whole) continue;
    const size_t end = text.find_first_of(" \n", at);
    out.push_back(text.substr(at, end - at));
  }
  return out;
}

size_t count_lines_with(const std::string& text, const std::string& needle) {
  size_t count = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(needle) != std::string::npos) ++count;
  }
  return count;
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace vtas::testing
