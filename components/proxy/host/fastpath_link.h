// FastPathLink: one VM's connection to the fast path's attach socket (<runtime_dir>/app.sock,
// components/fastpath/abi/attach_protocol.h), held by the host proxy. attach() hands the fast
// path the VM's region (VmAttachRequest) and takes its doorbells; then the proxy speaks for
// the VM's apps on it: VmAppRequest, ContextRequest{app_id} with an eventfd, VmAppDetach.
// The fast path answers requests in order, so answers are read back asynchronously
// (read_answer(), when fd() is readable) and matched by the caller in FIFO order.
// Closing the link (destruction) makes the fast path release the VM's apps, flows and region.
// Host proxy thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "components/fastpath/abi/attach_protocol.h"
#include "runtime/result.h"
#include "runtime/shm/doorbell.h"

namespace vtas::proxy {

class FastPathLink {
 public:
  // One answer of the fast path: an AttachResponse (to VmAppRequest) or a ContextResponse.
  struct Answer {
    abi::AttachMessageType type;
    abi::AttachResponse attach;    // type == kAttachResponse
    abi::ContextResponse context;  // type == kContextResponse
  };

  // Connects to `socket_path`, sends VmAttachRequest with a duplicate of `region_fd`, and waits
  // up to `timeout_ms` for the answer and the fast path's doorbells.
  // What the fast path enforces for the VM (the rest of its limits the host proxy keeps).
  struct Limits {
    uint32_t max_connections = 0;  // open connections of all its apps (0: no limit)
    uint32_t max_rate_kbps = 0;    // transmit rate of all its flows together (0: no limit)
  };
  static Result<FastPathLink> attach(const std::string& socket_path, int region_fd, uint32_t vm_id,
                                     const std::string& name, const Limits& limits, int timeout_ms);

  FastPathLink(FastPathLink&& other) noexcept;
  FastPathLink& operator=(FastPathLink&& other) noexcept;
  FastPathLink(const FastPathLink&) = delete;
  FastPathLink& operator=(const FastPathLink&) = delete;
  ~FastPathLink();

  int fd() const { return socket_; }
  uint32_t num_cores() const { return static_cast<uint32_t>(core_doorbells_.size()); }
  shm::Doorbell& control_doorbell() { return control_doorbell_; }
  shm::Doorbell& core_doorbell(uint32_t core) { return core_doorbells_[core]; }

  // Requests (answers come through read_answer(), in order).
  Status request_app(const std::string& name);
  Status request_context(uint32_t app_id, int context_eventfd);
  Status detach_app(uint32_t app_id);  // no answer

  // The next answer, std::nullopt when none is ready, or an error (the fast path closed the
  // socket or sent something that is not an answer).
  Result<std::optional<Answer>> read_answer();

 private:
  FastPathLink(int socket, shm::Doorbell control, std::vector<shm::Doorbell> cores)
      : socket_(socket), control_doorbell_(std::move(control)), core_doorbells_(std::move(cores)) {}

  int socket_ = -1;
  shm::Doorbell control_doorbell_;
  std::vector<shm::Doorbell> core_doorbells_;
};

}  // namespace vtas::proxy
