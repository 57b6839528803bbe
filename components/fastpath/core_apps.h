// What a fast-path core holds for each app context it serves: its own arx producer and atx
// consumer (one per core per context, so every ring stays single-producer single-consumer),
// and the app's doorbell. Created by the control thread, handed to the core by pointer with
// CommandType::kAttachContext, released after kDetachContext is acknowledged.
#pragma once

#include <cstdint>

#include "components/fastpath/abi/app_abi.h"
#include "runtime/shm/spsc_ring.h"

namespace vtas::fastpath {

struct CoreAppContext {
  uint32_t app_id;
  uint32_t context_id;
  shm::RingProducer<abi::ArxEntry> arx;
  shm::RingConsumer<abi::AtxEntry> atx;
  int app_doorbell_fd;   // the context's eventfd; owned by the control thread's App
  bool needs_wakeup = false;  // pushed to arx this iteration and the app may sleep
};

}  // namespace vtas::fastpath
