// Fuzz target: the ivshmem server protocol as the guest proxy's client transport reads it
// (components/proxy/channel/ivshmem_protocol.h, components/proxy/guest/client_transport.cc).
// The input plays a hostile server: (0) a raw byte stream cut into sendmsg chunks, each with 0
// to 5 passed fds, read back with receive_ivshmem_message until the stream ends; or (1) a
// sequence of protocol messages (versions, peer ids, -1, raw values, with eventfds or memfds)
// answering a real ClientTransport::connect() handshake over a unix socket. Checks: no crash,
// every fd handed out is open, and no fd leaks (the lowest free fd is the same afterwards).
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "components/proxy/channel/channel_layout.h"
#include "components/proxy/channel/ivshmem_protocol.h"
#include "components/proxy/guest/client_transport.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/quiet_logs.h"

namespace vtas::fuzz {
namespace {

int lowest_free_fd() {
  const int fd = ::dup(0);
  if (fd >= 0) ::close(fd);
  return fd;
}

void send_chunk(int socket, std::string_view bytes, int fd_count) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 5)];
  int fds[5];
  for (int i = 0; i < fd_count; ++i) fds[i] = ::eventfd(0, EFD_CLOEXEC);
  if (fd_count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * fd_count);
  }
  (void)::sendmsg(socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  for (int i = 0; i < fd_count; ++i) ::close(fds[i]);
}

// Mode 0: the framing of receive_ivshmem_message over an arbitrary stream.
void fuzz_framing(FuzzInput& in) {
  int pair[2];
  VTAS_FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0, "socketpair");
  for (int i = 0; i < 64 && !in.empty(); ++i) {
    const uint8_t head = in.u8();
    const std::string_view bytes = in.bytes(head & 15);
    if (bytes.empty()) break;  // a zero-byte sendmsg carries no fds on a stream socket
    send_chunk(pair[1], bytes, (head >> 4) % 6);
  }
  ::shutdown(pair[1], SHUT_WR);
  for (int i = 0; i < 1024; ++i) {
    int64_t value = 0;
    int fd = -1;
    const int rc = proxy::receive_ivshmem_message(pair[0], &value, &fd, 0);
    if (rc != 0) {
      VTAS_FUZZ_CHECK(fd == -1, "an fd handed out with an error");
      break;
    }
    if (fd >= 0) {
      VTAS_FUZZ_CHECK(::fcntl(fd, F_GETFD) >= 0, "a handed-out fd is not open");
      ::close(fd);
    }
  }
  ::close(pair[0]);
  ::close(pair[1]);
}

// One message of the scripted server.
struct Message {
  int64_t value = 0;
  uint8_t fd_kind = 0;  // 0 none, 1 eventfd, 2 the VM region memfd, 3 a too-small memfd
};

// An ivshmem "server" on a unix socket that answers one connection with a script.
class ScriptedServer {
 public:
  ScriptedServer() {
    char pattern[] = "/tmp/vtas-fuzz-ivshmem.XXXXXX";
    VTAS_FUZZ_CHECK(::mkdtemp(pattern) != nullptr, "mkdtemp");
    dir_ = pattern;
    path_ = dir_ + "/ivshmem.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    VTAS_FUZZ_CHECK(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "bind");
    VTAS_FUZZ_CHECK(::listen(listen_fd_, 4) == 0, "listen");
    region_fd_ = ::memfd_create("vtas-fuzz-vm-region", MFD_CLOEXEC);
    small_fd_ = ::memfd_create("vtas-fuzz-small", MFD_CLOEXEC);
    VTAS_FUZZ_CHECK(::ftruncate(region_fd_, 2 * abi::kVmChannelBytes) == 0, "ftruncate");
    VTAS_FUZZ_CHECK(::ftruncate(small_fd_, 4096) == 0, "ftruncate");
    std::thread([this] { serve(); }).detach();  // lives as long as the process
    std::atexit([] { instance().remove_files(); });
  }

  static ScriptedServer& instance() {
    static ScriptedServer* server = new ScriptedServer();  // never destroyed: its thread runs on
    return *server;
  }

  const std::string& path() const { return path_; }

  // The channel header the region memfd carries for this run.
  void set_header(uint32_t host_peer_id, uint32_t vectors, bool magic) {
    proxy::ChannelHeader header{};
    header.magic = magic ? proxy::kChannelMagic : 0;
    header.layout_version = proxy::kChannelLayoutVersion;
    header.host_peer_id = host_peer_id;
    header.vectors = vectors;
    header.ring_capacity = proxy::kChannelRingCapacity;
    VTAS_FUZZ_CHECK(::pwrite(region_fd_, &header, sizeof header, 0) == sizeof header, "pwrite");
  }

  // Hands the script to the server thread; it answers the next connection with it.
  void play(std::vector<Message> script) {
    std::lock_guard lock(mutex_);
    script_ = std::move(script);
    pending_ = true;
    done_ = false;
    changed_.notify_all();
  }
  void wait_done() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return done_; });
  }

 private:
  void serve() {
    for (;;) {
      std::vector<Message> script;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return pending_; });
        script = std::move(script_);
        pending_ = false;
      }
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        for (const Message& m : script) {
          int fd = -1;
          if (m.fd_kind == 1) fd = ::eventfd(0, EFD_CLOEXEC);
          if (m.fd_kind == 2) fd = ::dup(region_fd_);
          if (m.fd_kind == 3) fd = ::dup(small_fd_);
          const int rc = proxy::send_ivshmem_message(client, m.value, fd);
          if (fd >= 0) ::close(fd);
          if (rc != 0) break;  // the client hung up
        }
        ::close(client);
      }
      std::lock_guard lock(mutex_);
      done_ = true;
      changed_.notify_all();
    }
  }

  void remove_files() {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  std::string dir_, path_;
  int listen_fd_ = -1, region_fd_ = -1, small_fd_ = -1;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Message> script_;
  bool pending_ = false, done_ = true;
};

// Mode 1: a whole handshake against ClientTransport::connect.
void fuzz_handshake(FuzzInput& in) {
  ScriptedServer& server = ScriptedServer::instance();
  server.set_header(in.below(4), in.below(4), in.u8() != 0xEE);
  std::vector<Message> script;
  for (int i = 0; i < 128 && !in.empty(); ++i) {
    const uint8_t choice = in.u8();
    Message m;
    switch (choice & 3) {
      case 0: m.value = in.below(4); break;  // a version or a small peer id
      case 1: m.value = -1; break;           // the shared memory
      case 2: m.value = in.below(8); break;
      default: m.value = in.take<int64_t>(); break;
    }
    m.fd_kind = static_cast<uint8_t>((choice >> 2) & 3);
    script.push_back(m);
  }
  const int lowest = lowest_free_fd();
  server.play(std::move(script));
  {
    auto transport = proxy::ClientTransport::connect(server.path(), 2000);
    if (transport.ok()) {
      VTAS_FUZZ_CHECK((*transport)->channel() != nullptr, "a transport without its channel");
      VTAS_FUZZ_CHECK((*transport)->region_size() >= abi::kVmChannelBytes, "a region too small");
    } else {
      VTAS_FUZZ_CHECK(!transport.error().message.empty(), "a failed handshake without a reason");
    }
  }
  server.wait_done();
  VTAS_FUZZ_CHECK(lowest_free_fd() == lowest, "the handshake leaked a file descriptor");
}

}  // namespace

int fuzz_ivshmem_protocol(const uint8_t* data, size_t size) {
  quiet_logs();
  FuzzInput in(data, size);
  const int lowest = lowest_free_fd();
  if (in.u8() & 1) {
    fuzz_handshake(in);
  } else {
    fuzz_framing(in);
    VTAS_FUZZ_CHECK(lowest_free_fd() == lowest, "the framing leaked a file descriptor");
  }
  return 0;
}

}  // namespace vtas::fuzz
