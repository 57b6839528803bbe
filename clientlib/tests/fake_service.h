// FakeService: a stand-in for the fast path's application side, for libvtas unit tests. It
// serves the attach socket (abi/attach_protocol.h) at <runtime_dir>/app.sock from a thread,
// and creates the app region, its headers, the context descriptors and each context's queue
// block and rings exactly as the fast path does (components/fastpath/app_manager.cc, read,
// not linked). The test then acts as the service on the rings: it pops kout requests, pushes
// kin events, writes data into connection buffers and pushes arx entries, pops atx bumps.
//
// Options make it misbehave (wrong versions, refusals, missing descriptors) to test the
// library's errors. Ring objects of a context belong to the test thread once the context
// exists (one test thread or one helper thread per ring side, as with any SPSC ring).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "components/fastpath/abi/app_abi.h"
#include "components/fastpath/abi/attach_protocol.h"
#include "runtime/shm/doorbell.h"
#include "runtime/shm/region.h"
#include "runtime/shm/spsc_ring.h"

namespace vtas::client::testing {

struct FakeServiceOptions {
  uint32_t num_cores = 2;
  uint32_t kin_capacity = 64;
  uint32_t kout_capacity = 64;
  uint32_t arx_capacity = 64;
  uint32_t atx_capacity = 64;
  uint64_t region_size = 4ull << 20;
  uint32_t poll_interval_app_us = 0;                 // in the AttachResponse
  uint64_t fastpath_cpus = 0;                        // in the app region header
  // Misbehaviour.
  uint32_t attach_version = abi::kAttachVersion;     // in the AttachResponse
  int32_t attach_status = 0;                         // refuse the attach with this -errno
  std::string attach_error;                          // ...and this text
  uint32_t layout_version = abi::kAppLayoutVersion;  // in the region header
  uint32_t fds_missing = 0;                          // send this many descriptors fewer
  int32_t context_status = 0;                        // refuse context requests with this -errno
};

// One context as the service sees it.
struct FakeContext {
  uint32_t id = 0;
  uint64_t queue_block = 0;
  std::optional<shm::RingProducer<abi::AppEvent>> kin;
  std::optional<shm::RingConsumer<abi::AppRequest>> kout;
  std::vector<shm::RingProducer<abi::ArxEntry>> arx;
  std::vector<shm::RingConsumer<abi::AtxEntry>> atx;
  std::optional<shm::Doorbell> app_doorbell;  // the app's context eventfd

  // Pushes like the service: the entry, then the app's doorbell if it announced sleep.
  bool push_kin(const abi::AppEvent& event);
  bool push_arx(uint32_t core, const abi::ArxEntry& entry);
  std::optional<abi::AppRequest> pop_request();
  std::optional<abi::AtxEntry> pop_bump(uint32_t core);
};

class FakeService {
 public:
  // Serves <runtime_dir>/app.sock until destroyed.
  static std::unique_ptr<FakeService> start(const std::string& runtime_dir,
                                            FakeServiceOptions options = {});
  ~FakeService();
  FakeService(const FakeService&) = delete;
  FakeService& operator=(const FakeService&) = delete;

  const FakeServiceOptions& options() const { return options_; }
  // The context with `id` (created by the app's flextcp_context_create); nullptr if none.
  FakeContext* context(uint32_t id);
  // Waits until the app created context `id`; nullptr after `timeout_ms`.
  FakeContext* wait_for_context(uint32_t id, int timeout_ms);
  // Waits until the app closed its attach socket; false after `timeout_ms`.
  bool wait_detached(int timeout_ms);
  bool attached() const;

  // 64-byte aligned heap memory for connection buffers; its region offset.
  uint64_t allocate(uint64_t bytes);
  uint8_t* at(uint64_t offset) { return static_cast<uint8_t*>(region_->base()) + offset; }
  shm::Region& region() { return *region_; }
  // The service's ends of the doorbells the app rings.
  shm::Doorbell& control_doorbell() { return *control_doorbell_; }
  shm::Doorbell& core_doorbell(uint32_t core) { return core_doorbells_[core]; }

 private:
  FakeService(std::string socket_path, FakeServiceOptions options);
  bool setup();
  void serve();
  void answer_attach(int client);
  void answer_context(int client, int app_eventfd);
  bool create_context(int app_eventfd, abi::ContextResponse& response);

  std::string socket_path_;
  FakeServiceOptions options_;
  int listen_fd_ = -1;
  int client_fd_ = -1;
  int stop_fd_ = -1;
  std::optional<shm::Region> region_;
  std::optional<shm::Doorbell> control_doorbell_;
  std::vector<shm::Doorbell> core_doorbells_;
  uint64_t heap_next_ = 0;
  uint64_t heap_end_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<FakeContext>> contexts_;
  bool attached_ = false;
  bool detached_ = false;
  std::thread thread_;
};

}  // namespace vtas::client::testing
