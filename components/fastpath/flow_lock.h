// FlowLock: the per-flow spinlock in FlowState::lock, held while a core or the control thread
// reads or changes a flow's TCP state. Critical sections are a few hundred nanoseconds; a core
// never blocks while holding one.
#pragma once

#include <atomic>

#include "components/fastpath/abi/flow_state.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace vtas::fastpath {

class FlowLock {
 public:
  explicit FlowLock(abi::FlowState& fs) : lock_(fs.lock) {
    while (lock_.exchange(1, std::memory_order_acquire) != 0) {
      while (lock_.load(std::memory_order_relaxed) != 0) {
#if defined(__x86_64__)
        _mm_pause();
#endif
      }
    }
  }
  ~FlowLock() { lock_.store(0, std::memory_order_release); }
  FlowLock(const FlowLock&) = delete;
  FlowLock& operator=(const FlowLock&) = delete;

 private:
  std::atomic_ref<uint32_t> lock_;
};

}  // namespace vtas::fastpath
