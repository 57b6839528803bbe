// getsockopt and setsockopt. The kernel socket behind every vtas socket stores the options:
// setsockopt is passed to it first (so values are validated and read back exactly as Linux
// does, SO_RCVBUF doubling included), then the options vtas acts on are recorded. Options
// without effect on vtas (buffer sizes are the service's, keepalive is not implemented) are
// accepted and reported under VTAS_SOCKETS_DEBUG. Answers that only vtas knows (SO_ERROR,
// TCP_INFO's state) come from the socket.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/time.h>

#include <cstring>

#include "clientlib/sockets/src/calls.h"
#include "clientlib/sockets/src/config.h"
#include "clientlib/sockets/src/socket_ops.h"
#include "vtas/sockets.h"

namespace vtas::sockets {
namespace {

int64_t timeval_ns(const void* value, socklen_t len) {
  if (value == nullptr || len < static_cast<socklen_t>(sizeof(timeval))) return 0;
  timeval tv{};
  std::memcpy(&tv, value, sizeof(tv));
  return static_cast<int64_t>(tv.tv_sec) * 1000000000LL + static_cast<int64_t>(tv.tv_usec) * 1000;
}

int int_value(const void* value, socklen_t len) {
  if (value == nullptr || len < static_cast<socklen_t>(sizeof(int))) return 0;
  int v = 0;
  std::memcpy(&v, value, sizeof(v));
  return v;
}

const char* no_effect_reason(int level, int name) {
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_RCVBUF:
      case SO_SNDBUF:
      case SO_RCVBUFFORCE:
      case SO_SNDBUFFORCE:
        return "buffer sizes of vtas connections are set by the service "
               "(tcp_rxbuf_len/tcp_txbuf_len)";
      case SO_KEEPALIVE:
        return "vtas sends no keepalive probes";
      case SO_RCVLOWAT:
        return "reads return as soon as any data is there";
      case SO_PRIORITY:
      case SO_MARK:
        return "vtas does not use the kernel's packet priority or marks";
      default:
        return nullptr;
    }
  }
  if (level == IPPROTO_TCP) {
    switch (name) {
      case TCP_NODELAY:
        return "vtas sends without Nagle delay anyway";
      case TCP_KEEPIDLE:
      case TCP_KEEPINTVL:
      case TCP_KEEPCNT:
        return "vtas sends no keepalive probes";
      case TCP_DEFER_ACCEPT:
      case TCP_FASTOPEN:
      case TCP_QUICKACK:
      case TCP_MAXSEG:
      case TCP_CONGESTION:
      case TCP_USER_TIMEOUT:
        return "the service decides this for every connection";
      default:
        return nullptr;
    }
  }
  return nullptr;
}

int setsockopt_impl(int fd, int level, int name, const void* value, socklen_t len) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, true);
  if (s == nullptr) return libc().setsockopt(fd, level, name, value, len);
  const int rc = libc().setsockopt(fd, level, name, value, len);
  if (rc != 0) return rc;
  Engine& e = Engine::get();
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_REUSEPORT:
        s->reuse_port = int_value(value, len) != 0;
        break;
      case SO_LINGER: {
        linger l{};
        if (value != nullptr && len >= static_cast<socklen_t>(sizeof(l)))
          std::memcpy(&l, value, sizeof(l));
        s->linger_seconds = l.l_onoff ? l.l_linger : -1;
        break;
      }
      case SO_RCVTIMEO:
        s->rcv_timeout_ns = timeval_ns(value, len);
        break;
      case SO_SNDTIMEO:
        s->snd_timeout_ns = timeval_ns(value, len);
        break;
      default:
        break;
    }
  } else if (level == IPPROTO_TCP && name == TCP_CORK) {
    s->cork = int_value(value, len) != 0;
    if (!s->cork) flush_socket(e, s);
  }
  if (const char* why = no_effect_reason(level, name);
      why != nullptr && s->kind != SocketKind::kUndecided) {
    debug("fd %d: option %d/%d accepted, no effect on vtas: %s", fd, level, name, why);
  } else if (why != nullptr) {
    debug("fd %d: option %d/%d stored; if the socket goes to vtas it has no effect: %s", fd, level,
          name, why);
  }
  return 0;
}

int getsockopt_impl(int fd, int level, int name, void* value, socklen_t* len) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, false);
  if (s == nullptr) return libc().getsockopt(fd, level, name, value, len);
  if (level == SOL_SOCKET && name == SO_ERROR) {
    if (value == nullptr || len == nullptr || *len < static_cast<socklen_t>(sizeof(int))) {
      errno = EINVAL;
      return -1;
    }
    Engine::get().pump();
    const int err = s->error;
    s->error = 0;
    std::memcpy(value, &err, sizeof(err));
    *len = sizeof(int);
    return 0;
  }
  if (level == SOL_SOCKET && name == SO_ACCEPTCONN && s->kind == SocketKind::kListener) {
    if (value == nullptr || len == nullptr || *len < static_cast<socklen_t>(sizeof(int))) {
      errno = EINVAL;
      return -1;
    }
    const int yes = 1;
    std::memcpy(value, &yes, sizeof(yes));
    *len = sizeof(int);
    return 0;
  }
  if (level == IPPROTO_TCP && name == TCP_INFO && s->kind == SocketKind::kConnection) {
    if (value == nullptr || len == nullptr) {
      errno = EFAULT;
      return -1;
    }
    tcp_info info{};
    switch (s->state) {
      case ConnState::kConnecting:
        info.tcpi_state = TCP_SYN_SENT;
        break;
      case ConnState::kEstablished:
        info.tcpi_state = s->peer_fin ? (s->wr_shut ? TCP_LAST_ACK : TCP_CLOSE_WAIT)
                                      : (s->wr_shut ? TCP_FIN_WAIT1 : TCP_ESTABLISHED);
        break;
      default:
        info.tcpi_state = TCP_CLOSE;
        break;
    }
    info.tcpi_snd_mss = 1448;
    info.tcpi_rcv_mss = 1448;
    const socklen_t n = *len < static_cast<socklen_t>(sizeof(info)) ? *len : sizeof(info);
    std::memcpy(value, &info, n);
    *len = n;
    return 0;
  }
  lock.unlock();
  return libc().getsockopt(fd, level, name, value, len);
}

}  // namespace
}  // namespace vtas::sockets

using vtas::sockets::guarded;

extern "C" {

int vtas_getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  return guarded([&] { return vtas::sockets::getsockopt_impl(fd, level, name, value, len); });
}
int vtas_setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  return guarded([&] { return vtas::sockets::setsockopt_impl(fd, level, name, value, len); });
}

}  // extern "C"
