#include "components/proxy/host/fastpath_link.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "components/fastpath/abi/fd_passing.h"

namespace vtas::proxy {
namespace {

}  // namespace

Result<FastPathLink> FastPathLink::attach(const std::string& socket_path, int region_fd, uint32_t vm_id,
                                          const std::string& name, const Limits& limits,
                                          int timeout_ms) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return make_error("fast path attach socket path too long: " + socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int s = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  auto fail = [&](const std::string& why) {
    ::close(s);
    return make_error(why);
  };
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return fail("cannot reach the fast path at " + socket_path + ": " + std::strerror(errno) +
                " (is the fastpath actor running in this instance?)");
  }
  abi::VmAttachRequest request{};
  abi::fill_header(request, abi::AttachMessageType::kVmAttachRequest);
  request.vm_id = vm_id;
  request.max_connections = limits.max_connections;
  request.max_rate_kbps = limits.max_rate_kbps;
  abi::copy_text(request.name, name);
  if (int rc = abi::send_with_fds(s, &request, sizeof(request), &region_fd, 1); rc != 0) {
    return fail("cannot send the VM attach request to " + socket_path + ": " + std::strerror(-rc));
  }
  pollfd p{s, POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, timeout_ms);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    return fail("the fast path at " + socket_path + " did not answer the VM attach request within " +
                std::to_string(timeout_ms) + " ms");
  }
  abi::VmAttachResponse response{};
  int fds[abi::kAttachMaxFds];
  int got = abi::receive_with_fds(s, &response, sizeof(response), fds, abi::kAttachMaxFds);
  if (got < 0) {
    return fail("no answer to the VM attach request from " + socket_path + ": " + std::strerror(-got));
  }
  std::vector<shm::Doorbell> owned;
  for (int i = 0; i < got; ++i) owned.push_back(shm::Doorbell::adopt(fds[i]));
  if (response.magic != abi::kAttachMagic || response.version != abi::kAttachVersion ||
      response.type != static_cast<uint32_t>(abi::AttachMessageType::kVmAttachResponse)) {
    return fail(socket_path + " answered the VM attach request with something else (magic 0x" +
                std::to_string(response.magic) + ", version " + std::to_string(response.version) +
                "): a fast path of another vtas release?");
  }
  if (response.status != 0) {
    return fail("the fast path refused the VM: " + abi::text_of(response.error) + " (" +
                std::strerror(-response.status) + ")");
  }
  if (response.num_cores == 0 || response.num_cores > 16 ||
      static_cast<uint32_t>(got) != 1 + response.num_cores) {
    return fail("the fast path's VM attach answer names " + std::to_string(response.num_cores) +
                " cores but passed " + std::to_string(got) + " doorbells");
  }
  ::fcntl(s, F_SETFL, ::fcntl(s, F_GETFL) | O_NONBLOCK);
  shm::Doorbell control = std::move(owned[0]);
  owned.erase(owned.begin());
  return FastPathLink(s, std::move(control), std::move(owned));
}

FastPathLink::FastPathLink(FastPathLink&& other) noexcept
    : socket_(std::exchange(other.socket_, -1)),
      control_doorbell_(std::move(other.control_doorbell_)),
      core_doorbells_(std::move(other.core_doorbells_)) {}

FastPathLink& FastPathLink::operator=(FastPathLink&& other) noexcept {
  if (this != &other) {
    if (socket_ >= 0) ::close(socket_);
    socket_ = std::exchange(other.socket_, -1);
    control_doorbell_ = std::move(other.control_doorbell_);
    core_doorbells_ = std::move(other.core_doorbells_);
  }
  return *this;
}

FastPathLink::~FastPathLink() {
  if (socket_ >= 0) ::close(socket_);
}

Status FastPathLink::request_app(const std::string& name) {
  abi::VmAppRequest request{};
  abi::fill_header(request, abi::AttachMessageType::kVmAppRequest);
  abi::copy_text(request.name, name);
  if (int rc = abi::send_with_fds(socket_, &request, sizeof(request), nullptr, 0); rc != 0) {
    return make_error(std::string("VM app request to the fast path: ") + std::strerror(-rc));
  }
  return Status();
}

Status FastPathLink::request_context(uint32_t app_id, int context_eventfd) {
  abi::ContextRequest request{};
  abi::fill_header(request, abi::AttachMessageType::kContextRequest);
  request.app_id = app_id;
  if (int rc = abi::send_with_fds(socket_, &request, sizeof(request), &context_eventfd, 1); rc != 0) {
    return make_error(std::string("context request to the fast path: ") + std::strerror(-rc));
  }
  return Status();
}

Status FastPathLink::detach_app(uint32_t app_id) {
  abi::VmAppRequest request{};
  abi::fill_header(request, abi::AttachMessageType::kVmAppDetach);
  request.app_id = app_id;
  if (int rc = abi::send_with_fds(socket_, &request, sizeof(request), nullptr, 0); rc != 0) {
    return make_error(std::string("VM app detach to the fast path: ") + std::strerror(-rc));
  }
  return Status();
}

Result<std::optional<FastPathLink::Answer>> FastPathLink::read_answer() {
  union {
    abi::AttachResponse attach;
    abi::ContextResponse context;
  } raw{};
  static_assert(sizeof(raw) == 64);
  int fd = -1;
  int got = abi::receive_with_fds(socket_, &raw, sizeof(raw), &fd, 1);
  if (got == -EAGAIN || got == -EWOULDBLOCK) return std::optional<Answer>();
  if (got < 0) {
    return make_error(got == -ECONNRESET ? std::string("the fast path closed the VM's attach socket")
                                         : std::string("reading from the fast path: ") + std::strerror(-got));
  }
  if (fd >= 0) ::close(fd);  // answers to VM proxies carry no fds
  if (raw.attach.magic != abi::kAttachMagic || raw.attach.version != abi::kAttachVersion) {
    return make_error("the fast path sent a message with a wrong magic or version");
  }
  Answer answer{};
  answer.type = static_cast<abi::AttachMessageType>(raw.attach.type);
  if (answer.type == abi::AttachMessageType::kAttachResponse) {
    answer.attach = raw.attach;
  } else if (answer.type == abi::AttachMessageType::kContextResponse) {
    answer.context = raw.context;
  } else {
    return make_error("the fast path sent message type " + std::to_string(raw.attach.type) +
                      " on a VM's attach socket");
  }
  return std::optional<Answer>(answer);
}

}  // namespace vtas::proxy
