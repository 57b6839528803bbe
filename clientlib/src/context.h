// Context: the library state behind one flextcp_context (one per application thread): the
// context's rings in the app region (runtime/shm/spsc_ring.h, layout abi::queue_block_layout):
//   kin  consumer (service -> app control events)   kout producer (app -> service requests)
//   arx  consumers, one per fast-path core          atx  producers, one per fast-path core
// its eventfd (the service rings it when it pushes to a ring we announced sleep on), and the
// events decoded but not yet handed out. Created by flextcp_context_create(); used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <vector>

#include "clientlib/src/api_guard.h"
#include "clientlib/src/attach.h"
#include "components/fastpath/abi/app_abi.h"
#include "runtime/shm/spsc_ring.h"
#include "vtas/tas_ll.h"

namespace vtas::client {

// Events one ring entry can turn into, at most (arx: two RECEIVED pieces, SENDBUF, TXCLOSED,
// RESET, RXCLOSED).
inline constexpr int kMaxEventsPerEntry = 8;

// Events decoded from an entry that did not fit into the caller's array; handed out first by
// the next flextcp_context_poll(). Holds at most one entry's worth.
struct EventBacklog {
  flextcp_event events[kMaxEventsPerEntry];
  int head = 0;
  int count = 0;
  bool empty() const { return count == 0; }
};

struct Context {
  Context(Attachment& a, uint32_t context_id, uint64_t block, uint64_t block_size, int fd,
          shm::RingConsumer<abi::AppEvent> kin_ring, shm::RingProducer<abi::AppRequest> kout_ring)
      : attachment(a),
        id(context_id),
        queue_block(block),
        queue_block_size(block_size),
        evfd(fd),
        kin(std::move(kin_ring)),
        kout(std::move(kout_ring)) {}
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Attachment& attachment;
  uint32_t id;
  uint64_t queue_block;
  uint64_t queue_block_size;
  int evfd;  // owned: the wait fd; the service holds a duplicate
  shm::RingConsumer<abi::AppEvent> kin;
  shm::RingProducer<abi::AppRequest> kout;
  std::vector<shm::RingConsumer<abi::ArxEntry>> arx;
  std::vector<shm::RingProducer<abi::AtxEntry>> atx;
  uint32_t next_arx = 0;         // round robin over the cores' arx rings
  uint32_t last_request_id = 0;  // request ids are never 0 (0 marks spontaneous events)
  EventBacklog backlog;
  bool sleep_announced = false;  // canwait() announced sleep on every ring
  bool invalid_printed = false;  // VTAS_DEBUG printed an invalid entry already
  // --fp-poll-interval-app: when the context was first found idle after its last event
  // (monotonic ns; 0: it had events since). Blocking waits poll until the interval is over.
  uint64_t idle_since_ns = 0;
  uint64_t next_service_check_ns = 0;  // service_gone() looks at the socket at most this often
  // Connections whose close the service refused for now (-ENOBUFS: too many of this app's
  // requests unanswered); poll sends each close again. Cookies: a connection is looked up, never
  // followed blindly. Grows only by connections this context closes.
  std::vector<uint64_t> close_retries;
  vtas_context_stats stats{};
};

// The Context behind `ctx`, or nullptr after fail(EINVAL) when `ctx` was not created.
Context* context_of(flextcp_context* ctx);

// Pushes a control request on kout (filling context_id and request_id) and rings the control
// doorbell. 0, or -1 with errno EAGAIN when kout is full (nothing was sent), EPROTO when it is
// corrupted.
int push_request(Context& c, abi::AppRequest& request);

// Sends again the closes the service refused with -ENOBUFS (Context::close_retries); those
// that still find kout full wait for the next call. control.cc; called by every poll.
void retry_refused_closes(Context& c);

// Runs `op` on the Context behind `ctx` (-1 with EINVAL if there is none), with exceptions
// kept inside: the body of most C entry points.
template <class Op>
int with_context(flextcp_context* ctx, Op op) {
  Context* c = context_of(ctx);
  if (c == nullptr) return -1;
  return guarded([&] { return op(*c); }, -1);
}

// True if some ring of the context is corrupted (its error is recorded with fail(EPROTO)).
bool context_corrupted(Context& c);

// True (and fail(ECONNRESET) recorded) once the service closed the attach socket. Looks at
// the socket at most every few milliseconds, so it is cheap enough for every empty poll.
bool service_gone(Context& c);

}  // namespace vtas::client
