#include "components/fastpath/memory_port.h"

#include <cstring>

namespace vtas::fastpath {

MemoryPort::MemoryPort(wire::MacAddr mac, uint32_t buffers, uint16_t queues)
    : mac_(mac), pool_(new Buffer[buffers]), rx_(queues) {
  caps_.queues = queues;
  free_.reserve(buffers);
  for (uint32_t i = 0; i < buffers; ++i) free_.push_back(&pool_[i]);
}

MemoryPort::~MemoryPort() = default;

MemoryPort::Buffer* MemoryPort::take_buffer() {
  if (free_.empty()) return nullptr;
  Buffer* b = free_.back();
  free_.pop_back();
  return b;
}

bool MemoryPort::inject(const uint8_t* frame, size_t length, uint16_t queue) {
  if (length > kBufferSize || queue >= rx_.size()) return false;
  Buffer* b = take_buffer();
  if (!b) return false;
  std::memcpy(b->data, frame, length);
  b->length = static_cast<uint16_t>(length);
  rx_[queue].push_back(b);
  return true;
}

std::vector<std::vector<uint8_t>> MemoryPort::take_sent() {
  std::vector<std::vector<uint8_t>> out;
  out.swap(sent_);
  return out;
}

uint16_t MemoryPort::rx_burst(uint16_t queue, Packet* out, uint16_t max) {
  if (queue >= rx_.size()) return 0;
  uint16_t n = 0;
  while (n < max && !rx_[queue].empty()) {
    Buffer* b = rx_[queue].front();
    rx_[queue].pop_front();
    out[n] = Packet{b->data, b->length, kBufferSize, 0, 0, b};
    ++n;
  }
  return n;
}

uint16_t MemoryPort::tx_burst(uint16_t /*queue*/, Packet* packets, uint16_t n) {
  if (tx_limit_ != 0 && n > tx_limit_) n = tx_limit_;
  for (uint16_t i = 0; i < n; ++i) {
    if (sink_) {
      sink_(packets[i].data, packets[i].length);
    } else {
      sent_.emplace_back(packets[i].data, packets[i].data + packets[i].length);
    }
    free_.push_back(static_cast<Buffer*>(packets[i].native));
  }
  return n;
}

uint16_t MemoryPort::alloc_burst(uint16_t /*queue*/, Packet* out, uint16_t n) {
  if (free_.size() < n) return 0;
  for (uint16_t i = 0; i < n; ++i) {
    Buffer* b = take_buffer();
    out[i] = Packet{b->data, 0, kBufferSize, 0, 0, b};
  }
  return n;
}

void MemoryPort::free_burst(Packet* packets, uint16_t n) {
  for (uint16_t i = 0; i < n; ++i) free_.push_back(static_cast<Buffer*>(packets[i].native));
}

}  // namespace vtas::fastpath
