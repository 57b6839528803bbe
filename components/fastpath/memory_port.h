// MemoryPort: a Port over plain memory for unit tests and the in-memory benchmark. Frames
// injected with inject() are received by rx_burst(); frames sent are kept in sent() (or
// handed to a sink). Buffers come from a fixed pool, so a leak shows up as exhaustion.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "components/fastpath/port.h"

namespace vtas::fastpath {

class MemoryPort final : public Port {
 public:
  static constexpr uint16_t kBufferSize = 2048;

  MemoryPort(wire::MacAddr mac, uint32_t buffers = 4096, uint16_t queues = 1);
  ~MemoryPort() override;

  // Queues a frame for reception on `queue`. False when the pool is exhausted.
  bool inject(const uint8_t* frame, size_t length, uint16_t queue = 0);
  // Frames sent so far (copied), oldest first; take_sent() empties the list.
  std::vector<std::vector<uint8_t>> take_sent();
  size_t sent_count() const { return sent_.size(); }
  // When set, sent frames go to the sink instead of being kept (benchmarks).
  void set_sink(std::function<void(const uint8_t*, size_t)> sink) { sink_ = std::move(sink); }
  // Accept at most this many frames per tx_burst (0 = all): simulates a full NIC queue.
  void limit_tx(uint16_t per_burst) { tx_limit_ = per_burst; }
  uint32_t buffers_free() const { return static_cast<uint32_t>(free_.size()); }

  const std::string& name() const override { return name_; }
  wire::MacAddr mac() const override { return mac_; }
  const PortCapabilities& capabilities() const override { return caps_; }
  uint16_t rx_burst(uint16_t queue, Packet* out, uint16_t max) override;
  uint16_t tx_burst(uint16_t queue, Packet* packets, uint16_t n) override;
  uint16_t alloc_burst(uint16_t queue, Packet* out, uint16_t n) override;
  void free_burst(Packet* packets, uint16_t n) override;
  int rx_wakeup_fd(uint16_t) override { return -1; }
  void enable_rx_wakeup(uint16_t, bool) override {}
  bool program_reta(const GroupCores&) override { return false; }

 private:
  struct Buffer {
    uint8_t data[kBufferSize];
    uint16_t length;
  };
  Buffer* take_buffer();

  std::string name_ = "memory";
  wire::MacAddr mac_;
  PortCapabilities caps_;
  std::unique_ptr<Buffer[]> pool_;
  std::vector<Buffer*> free_;
  std::vector<std::deque<Buffer*>> rx_;
  std::vector<std::vector<uint8_t>> sent_;
  std::function<void(const uint8_t*, size_t)> sink_;
  uint16_t tx_limit_ = 0;
};

}  // namespace vtas::fastpath
