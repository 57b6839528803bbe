// RelayEngine: vtas-relay's event loop. It owns the two PacketSockets, a pool of frame
// buffers, one Impairer per direction and a timing heap of frames waiting to go out; each
// wake-up it sends what became due, reads what arrived (up to a bounded batch per socket),
// decides each frame's fate and flushes. Sleeps in epoll with a nanosecond timeout for the
// next due frame (or spins with --busy-poll). SIGUSR1 prints the counters, SIGINT/SIGTERM end
// the loop; with --commands, stdin lines change impairments at run time.
//
// One thread; used by the relay's main() only.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "tools/vtas-relay/impairer.h"
#include "tools/vtas-relay/packet_socket.h"
#include "tools/vtas-relay/relay_config.h"

namespace vtas::relay {

class RelayEngine {
 public:
  // Opens both interfaces and sets up the loop's fds. SIGINT, SIGTERM and SIGUSR1 must be
  // blocked in the calling thread (they are read from a signalfd).
  static Result<std::unique_ptr<RelayEngine>> open(const RelayConfig& config);
  ~RelayEngine();

  // Runs until SIGINT/SIGTERM or `quit`. Errors: an unrecoverable socket failure.
  Status run();

  // The counters as "stats ..." lines (also printed on SIGUSR1 and at the end of run()).
  std::string stats_text();
  const DirectionCounters& counters(int direction) const {
    return impairers_[direction]->counters();
  }

 private:
  struct Due {
    uint64_t release_ns;
    uint64_t sequence;  // keeps equal times in arrival order
    uint32_t slot;
    uint8_t direction;
    bool operator>(const Due& o) const {
      return release_ns != o.release_ns ? release_ns > o.release_ns : sequence > o.sequence;
    }
  };
  struct Held {  // reordered with --reorder-gap
    uint32_t slot;
    uint32_t frames_to_wait;
    uint64_t deadline_ns;
  };

  RelayEngine(const RelayConfig& config, PacketSocket a, PacketSocket b, uint32_t frame_bytes);

  void receive(int direction, uint64_t now_ns);
  void handle_frame(int direction, uint32_t slot, uint64_t now_ns);
  void hold(int direction, uint32_t slot, const Copy& copy);
  void release_due(uint64_t now_ns);
  void to_tx(int direction, uint32_t slot, bool counts_for_gap);
  bool flush(int direction);  // false if frames stay queued (the kernel's queue was full)
  int64_t timeout_ns(uint64_t now_ns, bool backlog) const;
  void handle_signals();
  void handle_commands();
  void execute(const std::string& line);
  void sample_rate(uint64_t now_ns);

  std::optional<uint32_t> take_slot();
  void free_slot(uint32_t slot) { free_.push_back(slot); }
  uint8_t* frame(uint32_t slot) { return storage_.data() + size_t{slot} * frame_bytes_; }

  RelayConfig config_;
  std::array<PacketSocket, 2> sockets_;  // [0] = A, [1] = B; direction d reads sockets_[d]
  std::array<std::unique_ptr<Impairer>, 2> impairers_;
  uint32_t frame_bytes_;
  std::vector<uint8_t> storage_;
  std::vector<uint32_t> lengths_;
  std::vector<uint32_t> free_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  std::array<std::deque<Held>, 2> held_;
  std::array<std::deque<uint32_t>, 2> tx_;  // per direction: slots to send, in order
  uint64_t sequence_ = 0;
  std::vector<uint8_t> scratch_;  // frames read with no buffer free

  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  bool stop_ = false;
  std::string command_buffer_;
  bool stdin_open_ = false;

  uint64_t start_ns_ = 0;
  uint64_t window_start_ns_ = 0;
  uint64_t frames_at_window_start_ = 0;
  uint32_t tx_retry_streak_[2] = {0, 0};  // consecutive full-queue sends per direction
  uint64_t peak_frames_per_s_ = 0;
};

}  // namespace vtas::relay
