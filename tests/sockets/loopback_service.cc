#include "tests/sockets/loopback_service.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace vtas::sockets::testing {
namespace {

constexpr uint32_t kBufferLen = 65536;

client::testing::FakeServiceOptions with_defaults(client::testing::FakeServiceOptions o) {
  o.num_cores = 1;
  o.kin_capacity = std::max<uint32_t>(o.kin_capacity, 256);
  o.kout_capacity = std::max<uint32_t>(o.kout_capacity, 256);
  o.arx_capacity = std::max<uint32_t>(o.arx_capacity, 4096);
  o.atx_capacity = std::max<uint32_t>(o.atx_capacity, 1024);
  o.region_size = std::max<uint64_t>(o.region_size, 64ull << 20);
  return o;
}

}  // namespace

LoopbackService::LoopbackService(const std::string& runtime_dir,
                                 client::testing::FakeServiceOptions options)
    : fake_(client::testing::FakeService::start(runtime_dir, with_defaults(std::move(options)))) {
  if (fake_) thread_ = std::thread([this] { run(); });
}

LoopbackService::~LoopbackService() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

uint64_t LoopbackService::requests(abi::AppRequestType type) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return request_counts_[static_cast<uint8_t>(type) & 7];
}

size_t LoopbackService::open_flows() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (const auto& [id, f] : flows_) n += f.closed ? 0 : 1;
  return n;
}

bool LoopbackService::reset_connection_on_port(uint16_t local_port) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [id, f] : flows_) {
    if (f.closed || f.local_port != local_port) continue;
    push_arx(f, 0, abi::kArxReset);
    if (Flow* p = flow(f.peer)) p->peer = 0;
    f.peer = 0;
    return true;
  }
  return false;
}

LoopbackService::Flow* LoopbackService::flow(uint32_t id) {
  auto it = flows_.find(id);
  return it == flows_.end() ? nullptr : &it->second;
}

void LoopbackService::run() {
  using namespace std::chrono_literals;
  while (!stop_) {
    bool busy = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (uint32_t c = 0;; ++c) {
        client::testing::FakeContext* ctx = fake_->context(c);
        if (ctx == nullptr) break;
        while (auto r = ctx->pop_request()) {
          busy = true;
          ++request_counts_[r->type & 7];
          handle_request(c, *r);
        }
        while (auto b = ctx->pop_bump(0)) {
          busy = true;
          handle_bump(c, *b);
        }
      }
      for (auto& [id, f] : flows_) pump_flow(f);
    }
    if (!busy) std::this_thread::sleep_for(200us);
  }
}

void LoopbackService::answer(uint32_t context, const abi::AppRequest& r, abi::AppEventType type,
                             int16_t status) {
  abi::AppEvent e{};
  e.type = static_cast<uint8_t>(type);
  e.status = status;
  e.request_id = r.request_id;
  e.opaque = r.opaque;
  e.listener_id = r.listener_id;
  e.flow_id = r.flow_id;
  (void)fake_->context(context)->push_kin(e);
}

void LoopbackService::push_arx(const Flow& f, uint32_t tx_bump, uint8_t flags) {
  abi::ArxEntry e{};
  e.type = 1;
  e.flags = flags;
  e.core = 0;
  e.flow_id = f.id;
  e.opaque = f.cookie;
  e.rx_stream_end = f.rx_stream;
  e.rx_end_pos = f.rx_pos;
  e.tx_bump = tx_bump;
  (void)fake_->context(f.context)->push_arx(0, e);
}

void LoopbackService::handle_request(uint32_t context, const abi::AppRequest& r) {
  switch (static_cast<abi::AppRequestType>(r.type)) {
    case abi::AppRequestType::kListenOpen: {
      const uint16_t port = ntohs(r.local_port);
      for (const auto& [id, l] : listeners_) {
        if (l.port == port && !(r.flags & abi::kListenReusePort)) {
          return answer(context, r, abi::AppEventType::kListenOpened, -EADDRINUSE);
        }
      }
      Listener l;
      l.id = next_id_++;
      l.context = context;
      l.cookie = r.opaque;
      l.port = port;
      listeners_[l.id] = l;
      abi::AppRequest with_id = r;
      with_id.listener_id = l.id;
      return answer(context, with_id, abi::AppEventType::kListenOpened, 0);
    }
    case abi::AppRequestType::kListenClose:
      listeners_.erase(r.listener_id);
      return answer(context, r, abi::AppEventType::kListenClosed, 0);
    case abi::AppRequestType::kAccept: {
      auto it = listeners_.find(r.listener_id);
      if (it == listeners_.end()) return answer(context, r, abi::AppEventType::kAccepted, -EBADF);
      it->second.accepts.emplace_back(context, r.opaque);
      return;
    }
    case abi::AppRequestType::kConnOpen:
      return connect(context, r);
    case abi::AppRequestType::kConnClose: {
      Flow* f = flow(r.flow_id);
      if (f != nullptr) {
        if (Flow* p = flow(f->peer)) {
          if (r.flags & abi::kCloseReset) push_arx(*p, 0, abi::kArxReset);
          p->peer = 0;
        }
        f->closed = true;
        f->peer = 0;
      }
      return answer(context, r, abi::AppEventType::kConnClosed, 0);
    }
    default:
      return;
  }
}

void LoopbackService::connect(uint32_t context, const abi::AppRequest& r) {
  const uint16_t port = ntohs(r.remote_port);
  Listener* l = nullptr;
  for (auto& [id, candidate] : listeners_) {
    if (candidate.port == port && !candidate.accepts.empty()) l = &candidate;
  }
  if (ntohl(r.remote_ip) != kLocalIp || l == nullptr) {
    return answer(context, r, abi::AppEventType::kConnOpened, -ECONNREFUSED);
  }
  auto [accept_context, accept_cookie] = l->accepts.front();
  l->accepts.erase(l->accepts.begin());
  Flow c, s;
  c.id = next_id_++;
  s.id = next_id_++;
  c.context = context;
  c.cookie = r.opaque;
  s.context = accept_context;
  s.cookie = accept_cookie;
  for (Flow* f : {&c, &s}) {
    f->rx_len = f->tx_len = kBufferLen;
    f->rx_buffer = fake_->allocate(kBufferLen);
    f->tx_buffer = fake_->allocate(kBufferLen);
  }
  c.local_port = next_port_++;
  c.remote_port = port;
  s.local_port = port;
  s.remote_port = c.local_port;
  c.peer = s.id;
  s.peer = c.id;
  auto event = [&](const Flow& f, abi::AppEventType type, uint64_t opaque, uint32_t request_id) {
    abi::AppEvent e{};
    e.type = static_cast<uint8_t>(type);
    e.request_id = request_id;
    e.opaque = opaque;
    e.flow_id = f.id;
    e.listener_id = l->id;
    e.rx_buffer = f.rx_buffer;
    e.tx_buffer = f.tx_buffer;
    e.rx_len = f.rx_len;
    e.tx_len = f.tx_len;
    e.local_ip = htonl(kLocalIp);
    e.remote_ip = htonl(kLocalIp);
    e.local_port = htons(f.local_port);
    e.remote_port = htons(f.remote_port);
    return e;
  };
  (void)fake_->context(accept_context)
      ->push_kin(event(s, abi::AppEventType::kAccepted, accept_cookie, 0));
  (void)fake_->context(context)->push_kin(
      event(c, abi::AppEventType::kConnOpened, r.opaque, r.request_id));
  flows_[c.id] = c;
  flows_[s.id] = s;
}

void LoopbackService::handle_bump(uint32_t context, const abi::AtxEntry& b) {
  Flow* f = flow(b.flow_id);
  if (f == nullptr || f->context != context || f->closed) return;
  f->rx_used -= std::min(f->rx_used, b.rx_bump);
  f->tx_pending += b.tx_bump;
  if (b.flags & abi::kAtxTxFin) f->fin_pending = true;
}

void LoopbackService::pump_flow(Flow& f) {
  if (f.closed) return;
  Flow* p = flow(f.peer);
  uint32_t n = f.tx_pending;
  if (p != nullptr && !p->closed) n = std::min(n, p->rx_len - p->rx_used);
  if (n > 0) {
    if (p != nullptr && !p->closed) {
      const uint8_t* tx = fake_->at(f.tx_buffer);
      uint8_t* rx = fake_->at(p->rx_buffer);
      for (uint32_t i = 0; i < n; ++i) {
        rx[(p->rx_pos + i) % p->rx_len] = tx[(f.tx_pos + i) % f.tx_len];
      }
      p->rx_pos = (p->rx_pos + n) % p->rx_len;
      p->rx_stream += n;
      p->rx_used += n;
      push_arx(*p, 0, 0);
    }  // no peer any more: the bytes are dropped (acknowledged all the same)
    f.tx_pos = (f.tx_pos + n) % f.tx_len;
    f.tx_pending -= n;
    push_arx(f, n, 0);
  }
  if (f.tx_pending == 0 && f.fin_pending && !f.fin_done) {
    f.fin_done = true;
    if (p != nullptr && !p->closed) push_arx(*p, 0, abi::kArxRxFin);
    push_arx(f, 0, abi::kArxTxFinAcked);
  }
}

}  // namespace vtas::sockets::testing
