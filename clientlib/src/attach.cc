#include "clientlib/src/attach.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "clientlib/src/api_guard.h"
#include "clientlib/src/errors.h"
#include "components/fastpath/abi/attach_protocol.h"
#include "components/fastpath/abi/fd_passing.h"
#include "runtime/shm/abi.h"
#include "runtime/shm/spsc_ring.h"
#include "vtas/tas_ll.h"

namespace vtas::client {
namespace {

std::mutex g_attach_mutex;  // serialises attach() / detach()
std::atomic<Attachment*> g_attachment{nullptr};

// Received descriptors not yet handed to an owner; closed on every early return.
struct ReceivedFds {
  int fds[abi::kAttachMaxFds];
  int count = 0;
  ~ReceivedFds() {
    for (int i = 0; i < count; ++i) {
      if (fds[i] >= 0) ::close(fds[i]);
    }
  }
  int take(int i) {
    int fd = fds[i];
    fds[i] = -1;
    return fd;
  }
};

const char* program_name() {
  const char* name = program_invocation_short_name;
  return name != nullptr && name[0] != '\0' ? name : "app";
}

int connect_error(int err, const std::string& path) {
  switch (err) {
    case ENOENT:
    case ECONNREFUSED:
    case ENOTDIR:
      return fail(ECONNREFUSED,
                  "vtas service not running: nothing listens on %s (%s). Start vtas, or point "
                  "VTAS_RUNTIME_DIR or VTAS_INSTANCE at the running instance",
                  path.c_str(), std::strerror(err));
    case EACCES:
    case EPERM:
      return fail(EACCES,
                  "permission denied connecting to %s: run as the user of the vtas service, or "
                  "ask its operator for group access to the socket",
                  path.c_str());
    default:
      return fail(err, "cannot connect to the vtas service at %s: %s", path.c_str(),
                  std::strerror(err));
  }
}

// Copies a NUL-terminated (or not) fixed-size text field from the service.
std::string text_field(const char* field, size_t size) {
  return std::string(field, strnlen(field, size));
}

// Validates the app region header once, against what the attach response promised.
int check_app_header(const abi::AppRegionHeader& h, uint32_t num_cores, uint64_t region_size) {
  if (h.num_cores == 0 || h.num_cores > abi::kMaxAppCores || h.num_cores != num_cores) {
    return fail(EPROTO,
                "app region header names %u fast-path cores, the attach response %u (limit %u): "
                "the service is inconsistent; restart it",
                h.num_cores, num_cores, abi::kMaxAppCores);
  }
  if (h.max_contexts == 0 || h.max_contexts > abi::kMaxAppContexts) {
    return fail(EPROTO, "app region header: max_contexts %u is not in 1..%u", h.max_contexts,
                abi::kMaxAppContexts);
  }
  const uint32_t capacities[] = {h.kin_capacity, h.kout_capacity, h.arx_capacity, h.atx_capacity};
  for (uint32_t capacity : capacities) {
    if (!shm::is_valid_ring_capacity(capacity)) {
      return fail(EPROTO, "app region header: ring capacity %u is not a power of two in 1..2^30",
                  capacity);
    }
  }
  const uint64_t descriptors_end =
      abi::kContextDescriptorsOffset + uint64_t{h.max_contexts} * sizeof(abi::ContextDescriptor);
  if (h.heap_offset < descriptors_end || h.heap_offset % 64 != 0 || h.heap_offset > region_size ||
      h.heap_size > region_size - h.heap_offset) {
    return fail(EPROTO,
                "app region header: heap [%u, +%llu) does not fit between the context "
                "descriptors (end %llu) and the region end (%llu)",
                h.heap_offset, static_cast<unsigned long long>(h.heap_size),
                static_cast<unsigned long long>(descriptors_end),
                static_cast<unsigned long long>(region_size));
  }
  return 0;
}

// True when every CPU this thread may run on is one the fast path's cores may run on
// (`fastpath_cpus`, CPUs 0-63; 0 = unknown). Then spinning through the poll interval can only
// take the CPU from a core that has the very packets we wait for: the scheduler shares a CPU
// between two busy tasks in slices of milliseconds, whatever sched_yield says (measured: RPC
// round trips of 2.2 ms between two vtas instances on memif, each app pinned with its fast
// path). Sleeping on the eventfd lets the core run at once and wake us.
bool cpus_only_fast_path(uint64_t fastpath_cpus) {
  if (fastpath_cpus == 0) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  uint64_t mine = 0;
  if (::sched_getaffinity(0, sizeof(set), &set) != 0 || !abi::cpu_mask_of(set, &mine)) return false;
  return (mine & ~fastpath_cpus) == 0;
}

}  // namespace

std::string attach_socket_path() {
  std::string dir;
  if (const char* runtime_dir = std::getenv("VTAS_RUNTIME_DIR"); runtime_dir && *runtime_dir) {
    dir = runtime_dir;
  } else if (const char* instance = std::getenv("VTAS_INSTANCE"); instance && *instance) {
    dir = std::string("/run/vtas/") + instance;
  } else {
    dir = "/run/vtas/vtas";
  }
  return dir + "/" + abi::kAttachSocketName;
}

Result<AppRegionMapping> AppRegionMapping::map(int fd, uint64_t region_offset, uint64_t region_size) {
  AppRegionMapping m;
  if (region_offset == 0) {
    // A host app: the whole memfd, exactly as before apps in VMs existed.
    auto whole = shm::Region::map_fd(fd, shm::Access::kReadWrite);
    if (!whole) return whole.error();
    m.base_ = whole->base();
    m.size_ = whole->size();
    m.fd_ = whole->fd();
    m.whole_.emplace(std::move(*whole));
    return m;
  }
  // An app in a VM: its slice of the VM region. The fd may be a VFIO device fd (fstat size 0):
  // then the kernel checks the range against the BAR when we map it.
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  struct stat st {};
  const bool sized = ::fstat(fd, &st) == 0 && st.st_size > 0;
  const uint64_t fd_size = sized ? static_cast<uint64_t>(st.st_size) : 0;
  if (region_offset % page != 0 || region_size == 0 || region_size > (uint64_t{1} << 40) ||
      region_offset > (uint64_t{1} << 62) ||
      (sized && (region_offset > fd_size || region_size > fd_size - region_offset))) {
    ::close(fd);
    return make_error("the service gave a region slice [" + std::to_string(region_offset) + ", +" +
                      std::to_string(region_size) + ") that is not page aligned or not inside its " +
                      std::to_string(fd_size) + "-byte fd");
  }
  void* p = ::mmap(nullptr, region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   static_cast<off_t>(region_offset));
  if (p == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    return make_error("mmap of the region slice at offset " + std::to_string(region_offset) + " (" +
                      std::to_string(region_size) + " bytes): " + std::strerror(err));
  }
  m.base_ = p;
  m.size_ = region_size;
  m.fd_ = fd;
  return m;
}

AppRegionMapping::AppRegionMapping(AppRegionMapping&& other) noexcept { *this = std::move(other); }

AppRegionMapping& AppRegionMapping::operator=(AppRegionMapping&& other) noexcept {
  if (this != &other) {
    if (!whole_ && base_ != nullptr) ::munmap(base_, size_);
    if (!whole_ && fd_ >= 0) ::close(fd_);
    whole_ = std::move(other.whole_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
    other.whole_.reset();
  }
  return *this;
}

AppRegionMapping::~AppRegionMapping() {
  if (whole_) return;  // the Region unmaps and closes
  if (base_ != nullptr) ::munmap(base_, size_);
  if (fd_ >= 0) ::close(fd_);
}

Attachment* Attachment::current() {
  return g_attachment.load(std::memory_order_acquire);
}

Attachment::~Attachment() {
  if (socket_fd_ >= 0) ::close(socket_fd_);
}

bool Attachment::buffer_range_ok(uint64_t offset, uint64_t length) const {
  const uint64_t heap_start = header_.heap_offset;
  const uint64_t heap_end = heap_start + header_.heap_size;  // checked at attach: no overflow
  if (length == 0 || offset < heap_start || offset > heap_end || length > heap_end - offset) {
    return false;
  }
  std::lock_guard<std::mutex> lock(blocks_mutex_);
  for (const auto& [block, block_length] : queue_blocks_) {
    if (offset < block + block_length && block < offset + length) return false;
  }
  return true;
}

bool Attachment::service_gone() {
  if (service_gone_.load(std::memory_order_relaxed)) return true;
  // POLLRDHUP only: a context answer waiting to be read (POLLIN) is not a hang-up; POLLHUP
  // and POLLERR are always reported.
  pollfd p{socket_fd_, POLLRDHUP, 0};
  if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))) {
    service_gone_.store(true, std::memory_order_relaxed);
    return true;
  }
  return false;
}

void Attachment::add_queue_block(uint64_t offset, uint64_t length) {
  std::lock_guard<std::mutex> lock(blocks_mutex_);
  queue_blocks_.emplace_back(offset, length);
}

// The body of attach(), with g_attach_mutex held.
int attach_locked() {
  const std::string path = attach_socket_path();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return fail(ENAMETOOLONG,
                "attach socket path %s is longer than %zu bytes: use a shorter "
                "VTAS_RUNTIME_DIR",
                path.c_str(), sizeof(addr.sun_path) - 1);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  std::unique_ptr<Attachment> a(new Attachment());
  a->socket_fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (a->socket_fd_ < 0) {
    return fail(errno, "cannot create the attach socket: %s", std::strerror(errno));
  }
  if (::connect(a->socket_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return connect_error(errno, path);
  }

  abi::AttachRequest request{};
  request.magic = abi::kAttachMagic;
  request.version = abi::kAttachVersion;
  request.type = static_cast<uint32_t>(abi::AttachMessageType::kAttachRequest);
  std::strncpy(request.name, program_name(), sizeof(request.name) - 1);
  if (int rc = abi::send_with_fds(a->socket_fd_, &request, sizeof(request), nullptr, 0); rc != 0) {
    return fail(-rc, "cannot send the attach request to %s: %s", path.c_str(), std::strerror(-rc));
  }

  pollfd p{a->socket_fd_, POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, kAttachTimeoutMs);
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) {
    return fail(ETIMEDOUT, "the vtas service at %s did not answer the attach request within %d ms",
                path.c_str(), kAttachTimeoutMs);
  }
  abi::AttachResponse response{};
  ReceivedFds fds;
  int got = abi::receive_with_fds(a->socket_fd_, &response, sizeof(response), fds.fds,
                                  abi::kAttachMaxFds);
  if (got == -ECONNRESET) {
    return fail(ECONNRESET,
                "the vtas service at %s closed the connection without answering: it "
                "refused this client (check the service's log)",
                path.c_str());
  }
  if (got == -EBADMSG) {
    return fail(EPROTO,
                "%s answered with a message of the wrong size: not a vtas attach socket, "
                "or a vtas release with a different attach protocol",
                path.c_str());
  }
  if (got < 0) {
    return fail(-got, "cannot read the attach response from %s: %s", path.c_str(),
                std::strerror(-got));
  }
  fds.count = got;
  if (response.magic != abi::kAttachMagic ||
      response.type != static_cast<uint32_t>(abi::AttachMessageType::kAttachResponse)) {
    return fail(EPROTO, "%s is not a vtas attach socket (magic 0x%08x, type %u)", path.c_str(),
                response.magic, response.type);
  }
  if (response.version != abi::kAttachVersion) {
    return fail(EPROTO,
                "version mismatch: the vtas service speaks attach protocol version %u, "
                "this libvtas version %u; use a libvtas from the same vtas release as the service",
                response.version, abi::kAttachVersion);
  }
  if (response.status != 0) {
    const std::string why = text_field(response.error, sizeof(response.error));
    const int err = response.status < 0 ? -response.status : EPROTO;
    if (err == EPROTO) {
      return fail(EPROTO,
                  "version mismatch: the vtas service refused this libvtas (%s); use a "
                  "libvtas from the same vtas release as the service",
                  why.c_str());
    }
    if (err == EACCES || err == EPERM) {
      return fail(EACCES, "permission denied: the vtas service refused this process (%s)",
                  why.c_str());
    }
    return fail(err, "the vtas service refused to attach this process: %s (%s)", why.c_str(),
                std::strerror(err));
  }
  if (response.num_cores == 0 || response.num_cores > abi::kMaxAppCores ||
      static_cast<uint32_t>(got) != 2 + response.num_cores) {
    return fail(EPROTO,
                "attach response: %u fast-path cores but %d descriptors (expected "
                "region + control doorbell + one per core, at most %u cores)",
                response.num_cores, got, abi::kMaxAppCores);
  }

  auto region = AppRegionMapping::map(fds.take(0), response.region_offset, response.region_size);
  if (!region) return fail(EPROTO, "cannot map the app region: %s", region.error().message.c_str());
  if (Status s = shm::check_region_header(region->base(), region->size(),
                                          shm::RegionKind::kAppContext, abi::kAppLayoutVersion);
      !s) {
    return fail(EPROTO, "%s", s.error().message.c_str());
  }
  const auto* shared = region->at<abi::AppRegionHeader>(abi::kAppRegionHeaderOffset);
  if (shared == nullptr) return fail(EPROTO, "the app region is too small for its header");
  std::memcpy(&a->header_, shared, sizeof(a->header_));  // one snapshot, then only the copy
  if (check_app_header(a->header_, response.num_cores, region->size()) != 0) return -1;

  a->region_.emplace(std::move(*region));
  a->app_id_ = response.app_id;
  a->poll_interval_app_us_ =
      cpus_only_fast_path(a->header_.fastpath_cpus) ? 0 : response.poll_interval_app_us;
  a->control_doorbell_ = shm::Doorbell::adopt(fds.take(1));
  for (uint32_t core = 0; core < response.num_cores; ++core) {
    a->core_doorbells_.push_back(shm::Doorbell::adopt(fds.take(static_cast<int>(2 + core))));
  }
  g_attachment.store(a.release(), std::memory_order_release);
  return 0;
}

int Attachment::attach() {
  std::lock_guard<std::mutex> lock(g_attach_mutex);
  if (current() != nullptr) return 0;
  return attach_locked();
}

int Attachment::detach() {
  std::lock_guard<std::mutex> lock(g_attach_mutex);
  Attachment* a = current();
  if (a == nullptr) return 0;
  if (int live = a->live_contexts().load(); live != 0) {
    return fail(EBUSY, "vtas_fini: %d context(s) still exist; vtas_context_destroy() them first",
                live);
  }
  g_attachment.store(nullptr, std::memory_order_release);
  delete a;  // closes the socket: the service detaches us and resets our connections
  return 0;
}

}  // namespace vtas::client

extern "C" int flextcp_init(void) {
  return vtas::client::guarded([] { return vtas::client::Attachment::attach(); }, -1);
}

extern "C" int vtas_fini(void) {
  return vtas::client::guarded([] { return vtas::client::Attachment::detach(); }, -1);
}
