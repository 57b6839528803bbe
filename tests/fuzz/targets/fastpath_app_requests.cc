// Fuzz target: the fast path's control-thread side of applications
// (components/fastpath/app_manager.cc) against a hostile app or VM proxy: attach-protocol
// messages over the real SOCK_SEQPACKET attach socket (AttachRequest, ContextRequest,
// VmAttachRequest, VmAppRequest/VmAppDetach or raw bytes; mostly well-formed, with fields
// and passed fds from the input), then requests written straight into the app's kout ring
// (any 64 bytes; sometimes a corrupted ring index), drained as the fastpath actor does, and a
// hang-up at the end. A fresh AppManager per input. Checks: no crash; every drained request
// comes from a live app's own context; after the hang-up and the detach every app is gone and
// no file descriptor leaked.
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "components/fastpath/abi/app_abi.h"
#include "components/fastpath/abi/attach_protocol.h"
#include "components/fastpath/app_manager.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/quiet_logs.h"

namespace vtas::fuzz {
namespace {

using fastpath::AppManager;

constexpr uint32_t kRing = 64;            // every ring capacity of the manager
constexpr uint64_t kRegionSize = 4 << 20;  // per app
constexpr int kMaxMessages = 12;

// A private directory for one input's attach socket, removed with it (libFuzzer does not always
// run atexit handlers, so nothing may outlive an input). tmpfs when there is one: binding a
// unix socket on a disk file system costs more than the whole rest of an input.
class SocketDir {
 public:
  SocketDir() {
    char shm_pattern[] = "/dev/shm/vtas-fuzz-apps.XXXXXX";
    char tmp_pattern[] = "/tmp/vtas-fuzz-apps.XXXXXX";
    const char* dir = ::mkdtemp(shm_pattern);
    if (dir == nullptr) dir = ::mkdtemp(tmp_pattern);
    VTAS_FUZZ_CHECK(dir != nullptr, "mkdtemp");
    path_ = dir;
  }
  ~SocketDir() { ::rmdir(path_.c_str()); }  // the AppManager unlinked its socket already
  SocketDir(const SocketDir&) = delete;
  SocketDir& operator=(const SocketDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int lowest_free_fd() {
  const int fd = ::dup(0);
  if (fd >= 0) ::close(fd);
  return fd;
}

int make_fd(uint8_t kind, FuzzInput& in) {
  switch (kind % 4) {
    case 1:
      return ::eventfd(0, EFD_CLOEXEC);
    case 2: {  // a VM region (or something posing as one) of an input-chosen size
      const int fd = ::memfd_create("vtas-fuzz-vm", MFD_CLOEXEC);
      const off_t sizes[] = {0, 4096, 0x4000, 1 << 20, 8 << 20, 0x4000 + 4096};
      (void)::ftruncate(fd, sizes[in.below(6)]);
      return fd;
    }
    case 3:
      return ::dup(0);  // not what the protocol expects at all
    default:
      return -1;
  }
}

void send_message(int socket, const void* bytes, size_t size, int fd) {
  iovec iov{const_cast<void*>(bytes), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  (void)::sendmsg(socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (fd >= 0) ::close(fd);
}

// The app side of one connection: what it learned from the answers.
struct Client {
  int socket = -1;
  int region_fd = -1;  // from a successful AttachResponse
  uint64_t region_size = 0, region_offset = 0;
  std::vector<uint64_t> queue_blocks;  // from successful ContextResponses

  // Reads every answer queued on the socket, keeping what the kout writes need.
  void read_answers() {
    for (;;) {
      alignas(8) uint8_t buf[256];
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * abi::kAttachMaxFds)];
      iovec iov{buf, sizeof buf};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      const ssize_t n = ::recvmsg(socket, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (n <= 0) return;
      std::vector<int> fds;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
          fds.push_back(fd);
        }
      }
      uint32_t type = 0;
      if (n >= 12) std::memcpy(&type, buf + 8, sizeof type);
      if (type == static_cast<uint32_t>(abi::AttachMessageType::kAttachResponse) &&
          static_cast<size_t>(n) >= sizeof(abi::AttachResponse)) {
        abi::AttachResponse r;
        std::memcpy(&r, buf, sizeof r);
        if (r.status == 0 && !fds.empty() && region_fd < 0) {
          region_fd = fds[0];
          fds.erase(fds.begin());
          region_size = r.region_size;
          region_offset = r.region_offset;
        }
      } else if (type == static_cast<uint32_t>(abi::AttachMessageType::kContextResponse) &&
                 static_cast<size_t>(n) >= sizeof(abi::ContextResponse)) {
        abi::ContextResponse r;
        std::memcpy(&r, buf, sizeof r);
        if (r.status == 0) queue_blocks.push_back(r.queue_block);
      }
      for (int fd : fds) ::close(fd);
    }
  }
};

template <class Message>
Message header_of(FuzzInput& in, abi::AttachMessageType type) {
  Message m{};
  const uint8_t choice = in.u8();
  m.magic = (choice & 1) ? in.u32() : abi::kAttachMagic;
  m.version = (choice & 2) ? in.u32() : abi::kAttachVersion;
  m.type = (choice & 4) ? in.u32() % 10 : static_cast<uint32_t>(type);
  return m;
}

// One attach-protocol message from the input.
void send_fuzzed_message(int socket, FuzzInput& in) {
  const uint8_t kind = in.u8();
  const int fd = make_fd(kind >> 4, in);
  switch (kind % 6) {
    case 0: {
      auto m = header_of<abi::AttachRequest>(in, abi::AttachMessageType::kAttachRequest);
      const std::string_view name = in.bytes(in.below(sizeof m.name + 1));
      std::memcpy(m.name, name.data(), name.size());
      return send_message(socket, &m, sizeof m, fd);
    }
    case 1: {
      auto m = header_of<abi::ContextRequest>(in, abi::AttachMessageType::kContextRequest);
      m.app_id = in.below(4);
      return send_message(socket, &m, sizeof m, fd);
    }
    case 2: {
      auto m = header_of<abi::VmAttachRequest>(in, abi::AttachMessageType::kVmAttachRequest);
      m.vm_id = in.below(4);
      m.max_connections = in.below(4);
      const std::string_view name = in.bytes(in.below(sizeof m.name + 1));
      std::memcpy(m.name, name.data(), name.size());
      return send_message(socket, &m, sizeof m, fd);
    }
    case 3: {
      auto m = header_of<abi::VmAppRequest>(
          in, (in.u8() & 1) ? abi::AttachMessageType::kVmAppDetach
                            : abi::AttachMessageType::kVmAppRequest);
      m.app_id = in.below(4);
      const std::string_view name = in.bytes(in.below(sizeof m.name + 1));
      std::memcpy(m.name, name.data(), name.size());
      return send_message(socket, &m, sizeof m, fd);
    }
    default: {
      const std::string_view raw = in.chunk(128);
      return send_message(socket, raw.data(), raw.size(), fd);
    }
  }
}

// Writes requests from the input into the kout ring of a context the client got.
void write_requests(Client& client, FuzzInput& in, uint32_t num_cores) {
  if (client.region_fd < 0 || client.queue_blocks.empty()) return;
  const uint64_t block = client.queue_blocks[in.below(client.queue_blocks.size())];
  const auto layout = abi::queue_block_layout(num_cores, kRing, kRing, kRing, kRing);
  if (block > client.region_size || layout.total > client.region_size - block) return;
  void* base = ::mmap(nullptr, client.region_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                      client.region_fd, static_cast<off_t>(client.region_offset));
  if (base == MAP_FAILED) return;
  uint8_t* ring = static_cast<uint8_t*>(base) + block + layout.kout;
  auto producer =
      shm::RingProducer<abi::AppRequest>::attach(ring, shm::ring_bytes(kRing), kRing, "fuzz");
  if (producer.ok()) {
    const uint32_t count = in.below(kRing + 1);
    for (uint32_t i = 0; i < count && !in.empty(); ++i) {
      abi::AppRequest r = in.take<abi::AppRequest>();
      if (!producer->try_push(r)) break;
    }
  }
  if (in.u8() == 0x5A) {  // rarely: a producer index no honest app writes
    const uint32_t head = in.u32();
    std::memcpy(ring + shm::kRingProducerOffset, &head, sizeof head);
  }
  ::munmap(base, client.region_size);
}

}  // namespace

int fuzz_fastpath_app_requests(const uint8_t* data, size_t size) {
  quiet_logs();
  FuzzInput in(data, size);
  const int lowest = lowest_free_fd();
  const uint32_t num_cores = 1 + in.below(2);
  std::vector<int> doorbells;
  for (uint32_t i = 0; i < num_cores + 1; ++i) doorbells.push_back(::eventfd(0, EFD_CLOEXEC));

  std::map<uint32_t, int> app_sockets, vm_sockets;
  std::set<uint32_t> detaching;
  {
    const SocketDir dir;
    fastpath::AppManagerConfig config;
    config.socket_path = dir.path() + "/app.sock";
    config.region_size = kRegionSize;
    config.num_cores = num_cores;
    config.kin_capacity = config.kout_capacity = config.arx_capacity = config.atx_capacity = kRing;
    config.max_apps = 4;
    config.core_doorbell_fds.assign(doorbells.begin() + 1, doorbells.end());
    config.control_doorbell_fd = doorbells[0];
    AppManager::Hooks hooks;
    hooks.watch_app_socket = [&](int fd, uint32_t app_id) { app_sockets[app_id] = fd; };
    hooks.watch_vm_socket = [&](int fd, uint32_t vm_id) { vm_sockets[vm_id] = fd; };
    hooks.unwatch = [&](int fd) {
      std::erase_if(app_sockets, [fd](const auto& e) { return e.second == fd; });
      std::erase_if(vm_sockets, [fd](const auto& e) { return e.second == fd; });
    };
    hooks.attached = [](AppManager::App&) {};
    hooks.detaching = [&](AppManager::App& app) { detaching.insert(app.id); };
    hooks.context_created = [](AppManager::App&, AppManager::Context&) {};
    AppManager manager(config, hooks);
    VTAS_FUZZ_CHECK(manager.listen().ok(), "the app manager cannot listen");

    // Lets the manager read whatever is queued, as the actor's loop would. The listen socket
    // is readable only once the client said something (accept_pending then reads the first
    // message, waiting up to 1 s for it: a silent client would only slow the fuzzer down).
    bool said_something = false;
    auto serve = [&] {
      if (said_something) manager.accept_pending();
      for (const auto& [id, fd] : std::map<uint32_t, int>(app_sockets)) manager.on_app_socket(id);
      for (const auto& [id, fd] : std::map<uint32_t, int>(vm_sockets)) manager.on_vm_socket(id);
      for (uint32_t id : detaching) manager.finish_detach(id);  // the cores' acks, at once
      detaching.clear();
    };

    Client client;
    client.socket = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, config.socket_path.c_str(), config.socket_path.size() + 1);
    VTAS_FUZZ_CHECK(::connect(client.socket, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0,
                    "cannot connect to the attach socket");

    for (int i = 0; i < kMaxMessages && !in.empty(); ++i) {
      if ((in.u8() & 3) == 0) {
        write_requests(client, in, num_cores);
        manager.drain_requests(
            [&](AppManager::App& app, AppManager::Context& ctx, const abi::AppRequest&) {
              VTAS_FUZZ_CHECK(!app.detaching, "a request relayed from a detaching app");
              bool own = false;
              for (const auto& c : app.contexts) own = own || c.get() == &ctx;
              VTAS_FUZZ_CHECK(own, "a request relayed with another app's context");
            });
      } else {
        send_fuzzed_message(client.socket, in);
        said_something = true;
      }
      serve();
      client.read_answers();
    }

    ::close(client.socket);  // the app is gone
    if (client.region_fd >= 0) ::close(client.region_fd);
    serve();
    serve();
    VTAS_FUZZ_CHECK(manager.app_count() == 0, "an app outlived its attach socket");
    VTAS_FUZZ_CHECK(manager.vms().empty(), "a VM outlived its proxy's socket");
  }
  for (int fd : doorbells) ::close(fd);
  VTAS_FUZZ_CHECK(lowest_free_fd() == lowest, "a file descriptor leaked");
  return 0;
}

}  // namespace vtas::fuzz
