#include "tests/cc_e2e/cc_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace vtas::testing {
namespace {

constexpr int kSinkPort = 9000;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Report {
  uint64_t t_us;
  uint64_t bytes;
};

// The sink's "t_us=<t> conn=<i> bytes=<b>" lines, per connection, in time order.
std::map<int, std::vector<Report>> parse_reports(const std::string& text) {
  std::map<int, std::vector<Report>> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    unsigned long long t = 0, bytes = 0;
    int conn = 0;
    if (std::sscanf(line.c_str(), "t_us=%llu conn=%d bytes=%llu", &t, &conn, &bytes) == 3) {
      out[conn].push_back(Report{t, bytes});
    }
  }
  return out;
}

}  // namespace

uint64_t monotonic_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

double jain_index(const std::vector<double>& x) {
  double sum = 0, squares = 0;
  for (double v : x) {
    sum += v;
    squares += v * v;
  }
  return squares > 0 ? sum * sum / (static_cast<double>(x.size()) * squares) : 0;
}

std::vector<uint64_t> numbers_after(const std::string& text, const std::string& key) {
  std::vector<uint64_t> out;
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
    out.push_back(std::strtoull(text.c_str() + at + key.size(), nullptr, 10));
  }
  return out;
}

void CcFixture::SetUp() {
  net_ = std::make_unique<RelayNetwork>(
      std::to_string(::testing::UnitTest::GetInstance()->random_seed() % 10));
  ASSERT_TRUE(net_->ok()) << net_->error();
}

void CcFixture::start(const std::vector<std::string>& relay_options, const std::string& tas) {
  std::string why;
  ASSERT_TRUE(net_->start_relay(relay_options, &why)) << why;
  vtas_ = std::make_unique<Instance>(
      "supervision { heartbeat_interval_ms: 100 heartbeat_timeout_ms: 2000 }\n" +
          net_->manifest_network() +
          "tas { fp_no_hugepages: true fp_poll_interval_tas: 2000 tcp_rxbuf_len: 262144 "
          "tcp_txbuf_len: 262144 " +
          tas +
          " }\n"
          "actor { name: \"fastpath\" kind: \"fastpath\" }\n"
          "actor { name: \"arp\" kind: \"arp\" }\n"
          "actor { name: \"timer\" kind: \"timer\" }\n"
          "actor { name: \"conn\" kind: \"conn\" }\n"
          "actor { name: \"cc\" kind: \"cc\" }\n",
      "cc" + std::to_string(::getpid() % 100000));
  ASSERT_TRUE(vtas_->start()) << vtas_->supervisor_stderr();
  dir_ = vtas_->runtime_dir() + "/../out";
  std::filesystem::create_directories(dir_);
}

void CcFixture::start_sink() {
  net_->spawn_in_peer({GOODPUT_SINK_BINARY, std::to_string(kSinkPort), "--interval-ms", "100"},
                      dir_ + "/sink.out", dir_ + "/sink.err");
  ASSERT_TRUE(eventually([&] {
    return read_file(dir_ + "/sink.out").find("listening") != std::string::npos;
  })) << read_file(dir_ + "/sink.err");
}

void CcFixture::start_senders(int conns) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("VTAS_RUNTIME_DIR", vtas_->runtime_dir().c_str(), 1);
    const int out = ::open((dir_ + "/sender.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open((dir_ + "/sender.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<std::string> args{
        VTAS_LL_TOOL,          "connect", net_->peer_ip(), std::to_string(kSinkPort), "--conns",
        std::to_string(conns), "--bytes", "1000000000000"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  senders_.push_back(pid);
  ASSERT_TRUE(eventually([&] { return cc_rates().size() == static_cast<size_t>(conns); },
                         std::chrono::seconds(20)))
      << "cc does not control " << conns << " flow(s): " << call_cc("cc_flow_query", "")
      << read_file(dir_ + "/sender.err");
}

std::vector<double> CcFixture::goodput_mbps(uint64_t from_us, uint64_t to_us) const {
  std::vector<double> out;
  for (const auto& [conn, reports] : parse_reports(read_file(dir_ + "/sink.out"))) {
    const Report* first = nullptr;
    const Report* last = nullptr;
    for (const Report& r : reports) {
      if (r.t_us >= from_us && first == nullptr) first = &r;
      if (r.t_us <= to_us) last = &r;
    }
    if (first == nullptr || last == nullptr || last->t_us <= first->t_us) {
      out.push_back(0);
      continue;
    }
    out.push_back(static_cast<double>(last->bytes - first->bytes) * 8 /
                  static_cast<double>(last->t_us - first->t_us));
  }
  return out;
}

std::vector<double> CcFixture::measure(double seconds) {
  const uint64_t from = monotonic_us();
  // Waiting is the measurement itself here, not a synchronisation.
  std::this_thread::sleep_for(std::chrono::microseconds(static_cast<uint64_t>(seconds * 1e6)));
  const uint64_t to = monotonic_us();
  // The sink reports every 100 ms: let the report that closes the window arrive.
  eventually(
      [&] {
        for (const auto& [conn, reports] : parse_reports(read_file(dir_ + "/sink.out"))) {
          if (reports.empty() || reports.back().t_us < to) return false;
        }
        return true;
      },
      std::chrono::seconds(2));
  return goodput_mbps(from, to);
}

std::string CcFixture::call_cc(const std::string& message, const std::string& text) {
  const CommandResult r = vtas_->ctl({"call", "cc", message, text});
  EXPECT_EQ(r.exit_code, 0) << message << " " << text << ": " << r.out << r.err;
  return r.out;
}

std::vector<uint64_t> CcFixture::cc_rates() {
  const CommandResult r = vtas_->ctl({"call", "cc", "cc_flow_query", "limit: 100"});
  // " rate_kbps: " and not "tx_rate_kbps: ".
  return numbers_after(r.out, " rate_kbps: ");
}

int64_t CcFixture::cc_counter(const std::string& name) {
  const std::string stats = vtas_->ctl({"stats"}).out;
  const size_t section = stats.find("[cc]");
  if (section == std::string::npos) return -1;
  const size_t end = stats.find("\n[", section + 1);
  const size_t at = stats.find("\n  " + name + " ", section);
  if (at == std::string::npos || (end != std::string::npos && at > end)) return -1;
  return std::strtoll(stats.c_str() + at + 3 + name.size(), nullptr, 10);
}

void CcFixture::TearDown() {
  if (HasFailure() && vtas_) {
    std::cerr << "---- vtasctl stats ----\n" << vtas_->ctl({"stats"}).out;
    std::cerr << "---- relay ----\n" << (net_ ? net_->relay_output() : "");
    for (const char* file : {"sender.out", "sender.err", "sink.err"}) {
      std::cerr << "---- " << file << " ----\n" << read_file(dir_ + "/" + file);
    }
  }
  for (pid_t pid : senders_) {
    if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
  }
  if (vtas_) {
    const int status = vtas_->stop();
    EXPECT_EQ(status, 0) << vtas_->supervisor_stderr();
    if (HasFailure()) std::cerr << "---- supervisor log ----\n" << vtas_->supervisor_stderr();
  }
  vtas_.reset();
  net_.reset();
}

}  // namespace vtas::testing
