#include "tools/vtas-relay/relay_engine.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vtas::relay {
namespace {

constexpr int kBatch = 64;
constexpr int kBatchesPerWake = 8;  // per socket, so one busy side cannot starve the other
constexpr int64_t kBacklogRetryNs = 20'000;
constexpr uint32_t kMaxTxRetries = 10000;  // consecutive full-queue retries before dropping
constexpr uint64_t kEpollTagA = 0, kEpollTagB = 1, kEpollTagSignal = 2, kEpollTagStdin = 3;
const char* const kDirectionName[2] = {"a2b", "b2a"};

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool add_to_epoll(int epoll_fd, int fd, uint64_t tag) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  return ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

}  // namespace

Result<std::unique_ptr<RelayEngine>> RelayEngine::open(const RelayConfig& config) {
  if (Status s = validate(config); !s) return s.error();
  auto a = PacketSocket::open(config.interface_a);
  if (!a) return a.error();
  auto b = PacketSocket::open(config.interface_b);
  if (!b) return b.error();
  // Room for the largest frame either side can carry: MTU + Ethernet header + a VLAN tag.
  uint32_t frame_bytes = config.frame_bytes;
  if (frame_bytes == 0) frame_bytes = std::max(a->mtu(), b->mtu()) + 18;
  frame_bytes = (frame_bytes + 63) / 64 * 64;
  std::unique_ptr<RelayEngine> engine(
      new RelayEngine(config, std::move(*a), std::move(*b), frame_bytes));

  engine->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  engine->signal_fd_ = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (engine->epoll_fd_ < 0 || engine->signal_fd_ < 0 ||
      !add_to_epoll(engine->epoll_fd_, engine->sockets_[0].fd(), kEpollTagA) ||
      !add_to_epoll(engine->epoll_fd_, engine->sockets_[1].fd(), kEpollTagB) ||
      !add_to_epoll(engine->epoll_fd_, engine->signal_fd_, kEpollTagSignal)) {
    return make_error(std::string("vtas-relay: epoll/signalfd setup failed: ") +
                      std::strerror(errno));
  }
  if (config.commands) {
    ::fcntl(STDIN_FILENO, F_SETFL, ::fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    if (!add_to_epoll(engine->epoll_fd_, STDIN_FILENO, kEpollTagStdin)) {
      return make_error("vtas-relay: --commands: stdin cannot be watched (" +
                        std::string(std::strerror(errno)) + "); give it a pipe or a terminal");
    }
    engine->stdin_open_ = true;
  }
  return engine;
}

RelayEngine::RelayEngine(const RelayConfig& config, PacketSocket a, PacketSocket b,
                         uint32_t frame_bytes)
    : config_(config),
      sockets_{std::move(a), std::move(b)},
      frame_bytes_(frame_bytes),
      storage_(size_t{config.pool_frames} * frame_bytes),
      lengths_(config.pool_frames, 0),
      scratch_(65536) {
  impairers_[0] = std::make_unique<Impairer>(config.a2b, config.seed, 0);
  impairers_[1] = std::make_unique<Impairer>(config.b2a, config.seed, 1);
  free_.reserve(config.pool_frames);
  for (uint32_t slot = config.pool_frames; slot-- > 0;) free_.push_back(slot);
}

RelayEngine::~RelayEngine() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

std::optional<uint32_t> RelayEngine::take_slot() {
  if (free_.empty()) return std::nullopt;
  const uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

// ---- receive and decide -------------------------------------------------------------------------

void RelayEngine::receive(int direction, uint64_t now_ns) {
  DirectionCounters& c = impairers_[direction]->counters();
  for (int round = 0; round < kBatchesPerWake; ++round) {
    uint32_t slots[kBatch];
    uint8_t* buffers[kBatch];
    uint32_t lengths[kBatch];
    bool truncated[kBatch];
    int want = 0;
    while (want < kBatch) {
      const auto slot = take_slot();
      if (!slot) break;
      slots[want] = *slot;
      buffers[want] = frame(*slot);
      ++want;
    }
    if (want == 0) {
      // No buffer free (a long delay line at a high rate): read into scratch and drop, so the
      // loop does not spin on a readable socket and the loss is counted.
      uint8_t* scratch = scratch_.data();
      const int n = sockets_[direction].receive(&scratch, scratch_.size(), lengths, truncated, 1);
      if (n <= 0) return;
      ++c.rx_frames;
      c.rx_bytes += lengths[0];
      ++c.pool_drops;
      continue;
    }
    const int n = sockets_[direction].receive(buffers, frame_bytes_, lengths, truncated, want);
    for (int i = std::max(n, 0); i < want; ++i) free_slot(slots[i]);
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) {
      if (truncated[i]) {
        ++c.rx_frames;
        ++c.oversize;
        free_slot(slots[i]);
        continue;
      }
      lengths_[slots[i]] = lengths[i];
      handle_frame(direction, slots[i], now_ns);
    }
    if (n < want) return;
  }
}

void RelayEngine::handle_frame(int direction, uint32_t slot, uint64_t now_ns) {
  uint8_t* data = frame(slot);
  const uint32_t length = lengths_[slot];
  const FrameInfo info = inspect(data, length);
  const Verdict v = impairers_[direction]->decide(now_ns, length, info);
  if (v.drop != Verdict::Drop::kNone) {
    free_slot(slot);
    return;
  }
  // Marking first, then corruption: a corrupted header stays corrupted (the incremental
  // checksum update keeps the mismatch).
  if (v.mark_ce) set_ce(data, length, info);
  if (v.set_cwr) set_cwr(data, length, info);
  if (v.corrupt) flip_byte(data, length, v.corrupt_offset, v.corrupt_mask);
  if (v.duplicate) {
    if (const auto copy = take_slot()) {
      std::memcpy(frame(*copy), data, length);
      lengths_[*copy] = length;
      hold(direction, *copy, v.second);
    } else {
      ++impairers_[direction]->counters().pool_drops;
    }
  }
  hold(direction, slot, v.first);
}

void RelayEngine::hold(int direction, uint32_t slot, const Copy& copy) {
  if (copy.held_for_gap) {
    held_[direction].push_back(
        Held{slot, impairers_[direction]->impairments().reorder_gap, copy.release_ns});
    return;
  }
  due_.push(Due{copy.release_ns, sequence_++, slot, static_cast<uint8_t>(direction)});
}

// ---- send
// -----------------------------------------------------------------------------------------

void RelayEngine::to_tx(int direction, uint32_t slot, bool counts_for_gap) {
  tx_[direction].push_back(slot);
  if (!counts_for_gap || held_[direction].empty()) return;
  auto& held = held_[direction];
  for (auto it = held.begin(); it != held.end();) {
    if (--it->frames_to_wait == 0) {
      tx_[direction].push_back(it->slot);
      it = held.erase(it);
    } else {
      ++it;
    }
  }
}

void RelayEngine::release_due(uint64_t now_ns) {
  while (!due_.empty() && due_.top().release_ns <= now_ns) {
    const Due d = due_.top();
    due_.pop();
    to_tx(d.direction, d.slot, true);
  }
  for (int direction = 0; direction < 2; ++direction) {
    auto& held = held_[direction];
    for (auto it = held.begin(); it != held.end();) {
      if (it->deadline_ns <= now_ns) {
        tx_[direction].push_back(it->slot);
        it = held.erase(it);
      } else {
        ++it;
      }
    }
  }
}

bool RelayEngine::flush(int direction) {
  auto& queue = tx_[direction];
  PacketSocket& out = sockets_[1 - direction];
  DirectionCounters& c = impairers_[direction]->counters();
  while (!queue.empty()) {
    const uint8_t* frames[kBatch];
    uint32_t lengths[kBatch];
    int n = 0;
    for (auto it = queue.begin(); it != queue.end() && n < kBatch; ++it, ++n) {
      frames[n] = frame(*it);
      lengths[n] = lengths_[*it];
    }
    const int sent = out.send(frames, lengths, n);
    if (sent > 0) {
      tx_retry_streak_[direction] = 0;
      for (int i = 0; i < sent; ++i) {
        ++c.tx_frames;
        c.tx_bytes += lengths[i];
        free_slot(queue.front());
        queue.pop_front();
      }
      continue;
    }
    const int err = -sent;
    if (err == EAGAIN || err == ENOBUFS || err == EINTR) {
      // The device's queue is full: keep the frames (in order) and try again shortly.
      ++c.tx_retries;
      if (++tx_retry_streak_[direction] < kMaxTxRetries) return false;
    }
    // Refused for good (or stuck for too long): drop this frame, keep the rest going.
    tx_retry_streak_[direction] = 0;
    ++c.tx_errors;
    free_slot(queue.front());
    queue.pop_front();
  }
  return true;
}

// ---- the loop
// --------------------------------------------------------------------------------------

int64_t RelayEngine::timeout_ns(uint64_t now_ns, bool backlog) const {
  if (config_.busy_poll) return 0;
  int64_t timeout = -1;
  auto consider = [&](uint64_t at) {
    const int64_t wait = at > now_ns ? static_cast<int64_t>(at - now_ns) : 0;
    if (timeout < 0 || wait < timeout) timeout = wait;
  };
  if (!due_.empty()) consider(due_.top().release_ns);
  for (const auto& held : held_) {
    for (const Held& h : held) consider(h.deadline_ns);
  }
  if (backlog) consider(now_ns + kBacklogRetryNs);
  // Wake once a second anyway for the frames-per-second sampling.
  consider(now_ns + 1'000'000'000);
  return timeout;
}

void RelayEngine::sample_rate(uint64_t now_ns) {
  if (now_ns - window_start_ns_ < 1'000'000'000) return;
  const uint64_t frames = impairers_[0]->counters().tx_frames + impairers_[1]->counters().tx_frames;
  const uint64_t rate =
      (frames - frames_at_window_start_) * 1'000'000'000 / (now_ns - window_start_ns_);
  peak_frames_per_s_ = std::max(peak_frames_per_s_, rate);
  frames_at_window_start_ = frames;
  window_start_ns_ = now_ns;
}

Status RelayEngine::run() {
  start_ns_ = window_start_ns_ = monotonic_ns();
  epoll_event events[8];
  bool backlog = false;
  bool readable[2] = {true, true};  // read once at start: frames may have queued already
  while (!stop_) {
    const uint64_t now = monotonic_ns();
    release_due(now);
    for (int d = 0; d < 2; ++d) {
      if (readable[d]) receive(d, now);
    }
    release_due(now);
    backlog = false;
    for (int d = 0; d < 2; ++d) backlog |= !flush(d);
    sample_rate(now);

    const int64_t wait = timeout_ns(monotonic_ns(), backlog);
    timespec ts{};
    timespec* timeout = nullptr;
    if (wait >= 0) {
      ts.tv_sec = static_cast<time_t>(wait / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(wait % 1'000'000'000);
      timeout = &ts;
    }
    const int n = ::epoll_pwait2(epoll_fd_, events, 8, timeout, nullptr);
    if (n < 0 && errno != EINTR) {
      return make_error(std::string("vtas-relay: epoll_pwait2 failed: ") + std::strerror(errno));
    }
    readable[0] = readable[1] = config_.busy_poll;
    for (int i = 0; i < std::max(n, 0); ++i) {
      switch (events[i].data.u64) {
        case kEpollTagA:
          readable[0] = true;
          break;
        case kEpollTagB:
          readable[1] = true;
          break;
        case kEpollTagSignal:
          handle_signals();
          break;
        case kEpollTagStdin:
          handle_commands();
          break;
        default:
          break;
      }
    }
  }
  // Frames still in the delay line are dropped with the relay; count them as not sent.
  return Status();
}

// ---- signals, commands, counters
// ----------------------------------------------------------------------

void RelayEngine::handle_signals() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGUSR1) {
      std::fputs(stats_text().c_str(), stdout);
      std::fflush(stdout);
    } else {
      stop_ = true;
    }
  }
}

void RelayEngine::handle_commands() {
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n > 0) {
      command_buffer_.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 && stdin_open_) {
      // The controlling side went away: stop listening, keep relaying.
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, STDIN_FILENO, nullptr);
      stdin_open_ = false;
    }
    break;
  }
  size_t end;
  while ((end = command_buffer_.find('\n')) != std::string::npos) {
    const std::string line = command_buffer_.substr(0, end);
    command_buffer_.erase(0, end + 1);
    execute(line);
  }
  if (command_buffer_.size() > 65536) command_buffer_.clear();  // no line that long is ours
}

void RelayEngine::execute(const std::string& raw) {
  std::string line = raw;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return;
  if (line == "stats") {
    std::fputs(stats_text().c_str(), stdout);
  } else if (line == "quit") {
    stop_ = true;
    std::puts("ok quit");
  } else if (line.rfind("set ", 0) == 0) {
    const std::string assignment = line.substr(4);
    const size_t eq = assignment.find('=');
    RelayConfig next = config_;
    Status s =
        eq == std::string::npos
            ? Status(make_error("vtas-relay: `set` needs NAME=VALUE, got '" + assignment + "'"))
            : apply_option(next, assignment.substr(0, eq), assignment.substr(eq + 1));
    if (s && (next.interface_a != config_.interface_a || next.interface_b != config_.interface_b ||
              next.seed != config_.seed)) {
      s = make_error("vtas-relay: interfaces and seed cannot change at run time");
    }
    if (s) {
      config_ = next;
      impairers_[0]->reconfigure(config_.a2b);
      impairers_[1]->reconfigure(config_.b2a);
      std::printf("ok a2b: %s; b2a: %s\n", describe(config_.a2b).c_str(),
                  describe(config_.b2a).c_str());
    } else {
      std::printf("error %s\n", s.error().message.c_str());
    }
  } else {
    std::printf("error vtas-relay: unknown command '%s' (set NAME=VALUE, stats, quit)\n",
                line.c_str());
  }
  std::fflush(stdout);
}

std::string RelayEngine::stats_text() {
  std::string out;
  char line[1024];
  for (int d = 0; d < 2; ++d) {
    const DirectionCounters& c = impairers_[d]->counters();
    std::snprintf(line, sizeof line,
                  "stats %s rx=%lu tx=%lu rx_bytes=%lu tx_bytes=%lu lost=%lu queue_drops=%lu "
                  "corrupted=%lu duplicated=%lu reordered=%lu delayed=%lu ce_marked=%lu "
                  "cwr_set=%lu max_queue=%lu pool_drops=%lu oversize=%lu tx_errors=%lu "
                  "tx_retries=%lu\n",
                  kDirectionName[d], c.rx_frames, c.tx_frames, c.rx_bytes, c.tx_bytes, c.lost,
                  c.queue_drops, c.corrupted, c.duplicated, c.reordered, c.delayed, c.ce_marked,
                  c.cwr_set, c.max_queue, c.pool_drops, c.oversize, c.tx_errors, c.tx_retries);
    out += line;
  }
  const uint64_t now = monotonic_ns();
  const double seconds = static_cast<double>(now - start_ns_) / 1e9;
  const uint64_t frames = impairers_[0]->counters().tx_frames + impairers_[1]->counters().tx_frames;
  std::snprintf(line, sizeof line,
                "stats total elapsed_s=%.3f frames=%lu frames_per_s=%.0f peak_frames_per_s=%lu "
                "kernel_drops_a=%lu kernel_drops_b=%lu waiting=%zu\n",
                seconds, frames, seconds > 0 ? static_cast<double>(frames) / seconds : 0.0,
                peak_frames_per_s_, sockets_[0].kernel_drops(), sockets_[1].kernel_drops(),
                due_.size() + held_[0].size() + held_[1].size());
  out += line;
  return out;
}

}  // namespace vtas::relay
