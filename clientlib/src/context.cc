#include "clientlib/src/context.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>

#include "clientlib/src/api_guard.h"
#include "clientlib/src/errors.h"
#include "clientlib/src/registry.h"
#include "components/fastpath/abi/attach_protocol.h"
#include "components/fastpath/abi/fd_passing.h"

namespace vtas::client {
namespace {

// Sends a ContextRequest with the context's eventfd and reads the answer, holding the attach
// socket for the whole exchange (several threads may create contexts at once).
int exchange_context_request(Attachment& a, int evfd, abi::ContextResponse& response) {
  std::lock_guard<std::mutex> lock(a.socket_mutex());
  abi::ContextRequest request{};
  request.magic = abi::kAttachMagic;
  request.version = abi::kAttachVersion;
  request.type = static_cast<uint32_t>(abi::AttachMessageType::kContextRequest);
  if (int rc = abi::send_with_fds(a.socket_fd(), &request, sizeof(request), &evfd, 1); rc != 0) {
    return fail(-rc == EPIPE ? ECONNRESET : -rc,
                "cannot send the context request to the vtas service: %s (did it stop?)",
                std::strerror(-rc));
  }
  pollfd p{a.socket_fd(), POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, kAttachTimeoutMs);
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) {
    return fail(ETIMEDOUT, "the vtas service did not answer the context request within %d ms",
                kAttachTimeoutMs);
  }
  int fds[abi::kAttachMaxFds];
  int got =
      abi::receive_with_fds(a.socket_fd(), &response, sizeof(response), fds, abi::kAttachMaxFds);
  for (int i = 0; i < got; ++i) ::close(fds[i]);  // a context response carries no fds
  if (got < 0) {
    return fail(got == -EBADMSG ? EPROTO : -got,
                "cannot read the context response from the vtas service: %s", std::strerror(-got));
  }
  if (response.magic != abi::kAttachMagic || response.version != abi::kAttachVersion ||
      response.type != static_cast<uint32_t>(abi::AttachMessageType::kContextResponse)) {
    return fail(EPROTO, "malformed context response (magic 0x%08x, version %u, type %u)",
                response.magic, response.version, response.type);
  }
  if (response.status != 0) {
    const int err = response.status < 0 ? -response.status : EPROTO;
    const std::string why(response.error, strnlen(response.error, sizeof(response.error)));
    return fail(err, "the vtas service refused a new context: %s (%s)", why.c_str(),
                std::strerror(err));
  }
  return 0;
}

// Checks where the service says the context's queue block is, against the descriptor table
// and the region, and returns its layout.
int check_queue_block(Attachment& a, const abi::ContextResponse& r, abi::QueueBlockLayout& layout) {
  const abi::AppRegionHeader& h = a.header();
  if (r.context_id >= h.max_contexts) {
    return fail(EPROTO, "context response: context id %u, but the region has %u descriptors",
                r.context_id, h.max_contexts);
  }
  auto* desc = a.region().at<abi::ContextDescriptor>(
      abi::kContextDescriptorsOffset + uint64_t{r.context_id} * sizeof(abi::ContextDescriptor));
  if (desc == nullptr)
    return fail(EPROTO, "context descriptor %u is outside the region", r.context_id);
  const uint32_t state = std::atomic_ref<uint32_t>(desc->state).load(std::memory_order_acquire);
  const uint64_t block = desc->queue_block;
  if (state != static_cast<uint32_t>(abi::ContextState::kActive) || block != r.queue_block) {
    return fail(EPROTO,
                "context %u: descriptor (state %u, queue block %llu) disagrees with the "
                "response (queue block %llu)",
                r.context_id, state, static_cast<unsigned long long>(block),
                static_cast<unsigned long long>(r.queue_block));
  }
  layout = abi::queue_block_layout(h.num_cores, h.kin_capacity, h.kout_capacity, h.arx_capacity,
                                   h.atx_capacity);
  const uint64_t heap_end = uint64_t{h.heap_offset} + h.heap_size;
  if (block % 64 != 0 || block < h.heap_offset || block > heap_end ||
      layout.total > heap_end - block) {
    return fail(EPROTO, "context %u: queue block [%llu, +%llu) is not inside the heap [%u, %llu)",
                r.context_id, static_cast<unsigned long long>(block),
                static_cast<unsigned long long>(layout.total), h.heap_offset,
                static_cast<unsigned long long>(heap_end));
  }
  return 0;
}

int ring_error(const std::string& message) {
  return fail(EPROTO, "%s", message.c_str());
}

int create_context(flextcp_context* ctx) {
  if (ctx == nullptr) return fail(EINVAL, "flextcp_context_create: ctx is NULL");
  std::memset(ctx, 0, sizeof(*ctx));
  ctx->evfd = -1;
  Attachment* a = Attachment::current();
  if (a == nullptr) {
    return fail(ENOTCONN, "flextcp_context_create: not attached; call flextcp_init() first");
  }
  int evfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (evfd < 0) {
    return fail(errno, "flextcp_context_create: eventfd failed: %s (out of file descriptors?)",
                std::strerror(errno));
  }
  abi::ContextResponse response{};
  abi::QueueBlockLayout layout{};
  if (exchange_context_request(*a, evfd, response) != 0 ||
      check_queue_block(*a, response, layout) != 0) {
    ::close(evfd);
    return -1;
  }

  const abi::AppRegionHeader& h = a->header();
  uint8_t* block = a->base() + response.queue_block;
  const std::string name = "ctx " + std::to_string(response.context_id);
  auto kin = shm::RingConsumer<abi::AppEvent>::attach(block + layout.kin, layout.kout - layout.kin,
                                                      h.kin_capacity, name + " kin");
  auto kout = shm::RingProducer<abi::AppRequest>::attach(
      block + layout.kout, layout.arx0 - layout.kout, h.kout_capacity, name + " kout");
  if (!kin || !kout) {
    ::close(evfd);
    return ring_error(kin ? kout.error().message : kin.error().message);
  }
  auto c = std::make_unique<Context>(*a, response.context_id, response.queue_block, layout.total,
                                     evfd, std::move(*kin), std::move(*kout));
  for (uint32_t core = 0; core < h.num_cores; ++core) {
    auto arx = shm::RingConsumer<abi::ArxEntry>::attach(
        block + layout.arx0 + core * layout.arx_stride, layout.arx_stride, h.arx_capacity,
        name + " arx" + std::to_string(core));
    auto atx = shm::RingProducer<abi::AtxEntry>::attach(
        block + layout.atx0 + core * layout.atx_stride, layout.atx_stride, h.atx_capacity,
        name + " atx" + std::to_string(core));
    if (!arx || !atx) return ring_error(arx ? atx.error().message : arx.error().message);
    c->arx.push_back(std::move(*arx));
    c->atx.push_back(std::move(*atx));
  }
  a->add_queue_block(response.queue_block, layout.total);
  a->live_contexts().fetch_add(1);
  ctx->evfd = evfd;
  ctx->ctx_id = static_cast<uint16_t>(response.context_id);
  ctx->num_queues = static_cast<uint16_t>(h.num_cores);
  ctx->vtas_impl = c.release();
  return 0;
}

}  // namespace

Context::~Context() {
  if (evfd >= 0) ::close(evfd);
}

Context* context_of(flextcp_context* ctx) {
  if (ctx == nullptr || ctx->vtas_impl == nullptr) {
    fail(EINVAL, "the flextcp_context was not created (flextcp_context_create) or was destroyed");
    return nullptr;
  }
  return static_cast<Context*>(ctx->vtas_impl);
}

int push_request(Context& c, abi::AppRequest& request) {
  request.context_id = static_cast<uint16_t>(c.id);
  if (++c.last_request_id == 0) c.last_request_id = 1;
  request.request_id = c.last_request_id;
  if (!c.kout.try_push(request)) {
    if (c.kout.corrupted()) return fail(EPROTO, "%s", c.kout.error().c_str());
    return fail(EAGAIN,
                "the control queue of context %u is full (%u requests): poll events and "
                "retry",
                c.id, c.kout.capacity());
  }
  // The control thread keeps its kout sleep announced once and for all, and a ticket gives
  // true only once; control requests are rare, so ring every time rather than trust that.
  (void)c.kout.consumer_needs_wakeup();
  (void)c.attachment.control_doorbell().ring();
  return 0;
}

bool context_corrupted(Context& c) {
  std::string text;
  if (c.kin.corrupted()) {
    text = c.kin.error();
  } else if (c.kout.corrupted()) {
    text = c.kout.error();
  } else {
    for (auto& ring : c.arx) {
      if (ring.corrupted()) {
        text = ring.error();
        break;
      }
    }
    for (auto& ring : c.atx) {
      if (text.empty() && ring.corrupted()) text = ring.error();
    }
  }
  if (text.empty()) return false;
  c.stats.corrupted = 1;
  fail(EPROTO, "context %u is unusable: %s", c.id, text.c_str());
  return true;
}

}  // namespace vtas::client

using vtas::client::Context;
using vtas::client::guarded;

extern "C" int flextcp_context_create(struct flextcp_context* ctx) {
  return guarded([&] { return vtas::client::create_context(ctx); }, -1);
}

extern "C" int vtas_context_destroy(struct flextcp_context* ctx) {
  return guarded(
      [&] {
        Context* c = vtas::client::context_of(ctx);
        if (c == nullptr) return -1;
        vtas::client::Registry::instance().remove_owned_by(c);
        c->attachment.live_contexts().fetch_sub(1);
        delete c;
        ctx->vtas_impl = nullptr;
        ctx->evfd = -1;
        return 0;
      },
      -1);
}

extern "C" int vtas_context_get_stats(struct flextcp_context* ctx, struct vtas_context_stats* out) {
  Context* c = vtas::client::context_of(ctx);
  if (c == nullptr) return -1;
  if (out == nullptr) return vtas::client::fail(EINVAL, "vtas_context_get_stats: out is NULL");
  *out = c->stats;
  return 0;
}
