// Descriptor calls: close, close_range, dup, dup2, dup3, fcntl, ioctl. The kernel descriptor
// of a vtas socket is always real, so these act on it first and keep the table in step:
// a dup refers to the same socket (one open file description), the last close closes it.
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clientlib/sockets/src/calls.h"
#include "clientlib/sockets/src/config.h"
#include "clientlib/sockets/src/socket_ops.h"
#include "vtas/sockets.h"

namespace vtas::sockets {
namespace {

// True when called from a child that shares our memory but not our descriptors (vfork, raw
// clone): there the table is the parent's, and only the kernel descriptor may be touched.
bool foreign_process(const Engine& e) {
  return e.owner_pid() != 0 && ::getpid() != e.owner_pid();
}

int close_impl(int fd) {
  Engine& e = Engine::get();
  if (e.fds().get(fd) == nullptr) return libc().close(fd);
  {
    std::lock_guard<std::mutex> lock(e.mutex());
    FdObject* o = e.fds().get(fd);
    if (o != nullptr && o->type == ObjectType::kInternal) {
      debug("close(%d) ignored: the descriptor belongs to libvtas", fd);
      return 0;
    }
    if (o != nullptr && !foreign_process(e)) drop_fd(e, fd);
  }
  return libc().close(fd);
}

int close_range_impl(unsigned first, unsigned last, int flags) {
  Engine& e = Engine::get();
  if (libc().close_range == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  if (flags & CLOSE_RANGE_CLOEXEC) return libc().close_range(first, last, flags);
  std::lock_guard<std::mutex> lock(e.mutex());
  const int hi = last > static_cast<unsigned>(INT32_MAX) ? INT32_MAX : static_cast<int>(last);
  const int lo = first > static_cast<unsigned>(INT32_MAX) ? INT32_MAX : static_cast<int>(first);
  std::vector<int> managed, internal;
  e.fds().for_each(lo, hi, [&](int fd, FdObject* o) {
    (o->type == ObjectType::kInternal ? internal : managed).push_back(fd);
  });
  if (!foreign_process(e)) {
    for (int fd : managed) drop_fd(e, fd);
  }
  if (internal.empty()) return libc().close_range(first, last, flags);
  // Close around libvtas's own descriptors.
  unsigned from = first;
  for (int fd : internal) {
    if (static_cast<unsigned>(fd) > from &&
        libc().close_range(from, static_cast<unsigned>(fd) - 1, flags) != 0) {
      return -1;
    }
    from = static_cast<unsigned>(fd) + 1;
  }
  if (from <= last && from != 0) return libc().close_range(from, last, flags);
  return 0;
}

// After the kernel made `new_fd` a copy of `fd`: the table follows.
void mirror_dup(Engine& e, int fd, int new_fd) {
  FdObject* o = e.fds().get(fd);
  if (o == nullptr || o->type == ObjectType::kInternal) return;
  if (!install_fd(e, new_fd, o)) debug("descriptor %d is beyond the table: a kernel copy", new_fd);
}

int dup_impl(int fd) {
  Engine& e = Engine::get();
  if (e.fds().get(fd) == nullptr) return libc().dup(fd);
  std::lock_guard<std::mutex> lock(e.mutex());
  const int new_fd = libc().dup(fd);
  if (new_fd >= 0) mirror_dup(e, fd, new_fd);
  return new_fd;
}

int dup3_impl(int fd, int new_fd, int flags, bool is_dup2) {
  Engine& e = Engine::get();

  if (e.fds().get(fd) == nullptr && e.fds().get(new_fd) == nullptr) {
    return is_dup2 ? libc().dup2(fd, new_fd) : libc().dup3(fd, new_fd, flags);
  }
  std::lock_guard<std::mutex> lock(e.mutex());
  FdObject* target = e.fds().get(new_fd);
  if (target != nullptr && target->type == ObjectType::kInternal) {
    debug("dup onto descriptor %d refused: it belongs to libvtas", new_fd);
    errno = EBUSY;
    return -1;
  }
  if (fd == new_fd) return is_dup2 ? libc().dup2(fd, new_fd) : libc().dup3(fd, new_fd, flags);
  const int rc = is_dup2 ? libc().dup2(fd, new_fd) : libc().dup3(fd, new_fd, flags);
  if (rc < 0) return rc;
  if (e.fds().get(new_fd) != nullptr) drop_fd(e, new_fd);  // dup2 closed it
  mirror_dup(e, fd, new_fd);
  return rc;
}

int fcntl_impl(int fd, int cmd, unsigned long arg) {
  Engine& e = Engine::get();
  if (e.fds().get(fd) == nullptr) return libc().fcntl(fd, cmd, arg);
  std::unique_lock<std::mutex> lock(e.mutex());
  FdObject* o = e.fds().get(fd);
  const int rc = libc().fcntl(fd, cmd, arg);
  if (rc < 0 || o == nullptr) return rc;
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      mirror_dup(e, fd, rc);
      break;
    case F_SETFL:
      if (o->type == ObjectType::kSocket) {
        auto* s = static_cast<Socket*>(o);
        s->nonblocking = (arg & O_NONBLOCK) != 0;
        if (arg & O_ASYNC)
          debug("fd %d: O_ASYNC (signal-driven I/O) has no effect on vtas sockets", fd);
      }
      break;
    default:
      break;  // F_GETFL, F_GETFD, F_SETFD...: the kernel descriptor holds the truth
  }
  return rc;
}

int ioctl_impl(int fd, unsigned long request, void* arg) {
  std::unique_lock<std::mutex> lock;
  Socket* s = lock_socket(fd, lock, true);
  if (s == nullptr) return libc().ioctl(fd, request, arg);
  switch (request) {
    case FIONBIO: {
      const int rc = libc().ioctl(fd, request, arg);
      if (rc == 0 && arg != nullptr) s->nonblocking = *static_cast<int*>(arg) != 0;
      return rc;
    }
    case FIONREAD:  // == SIOCINQ
      if (s->kind == SocketKind::kUndecided) return libc().ioctl(fd, request, arg);
      if (s->kind == SocketKind::kListener) {
        errno = EINVAL;
        return -1;
      }
      Engine::get().pump();
      *static_cast<int*>(arg) = static_cast<int>(s->rx_avail);
      return 0;
    case TIOCOUTQ:  // == SIOCOUTQ
      if (s->kind != SocketKind::kConnection) return libc().ioctl(fd, request, arg);
      *static_cast<int*>(arg) = static_cast<int>(s->conn.c.txb_sent + s->conn.c.txb_allocated);
      return 0;
    default:
      return libc().ioctl(fd, request, arg);
  }
}

}  // namespace
}  // namespace vtas::sockets

using vtas::sockets::guarded;

extern "C" {

int vtas_close(int fd) {
  return guarded([&] { return vtas::sockets::close_impl(fd); });
}
int vtas_close_range(unsigned int first, unsigned int last, int flags) {
  return guarded([&] { return vtas::sockets::close_range_impl(first, last, flags); });
}
int vtas_dup(int fd) {
  return guarded([&] { return vtas::sockets::dup_impl(fd); });
}
int vtas_dup2(int fd, int new_fd) {
  return guarded([&] { return vtas::sockets::dup3_impl(fd, new_fd, 0, true); });
}
int vtas_dup3(int fd, int new_fd, int flags) {
  return guarded([&] { return vtas::sockets::dup3_impl(fd, new_fd, flags, false); });
}
int vtas_fcntl(int fd, int cmd, unsigned long arg) {
  return guarded([&] { return vtas::sockets::fcntl_impl(fd, cmd, arg); });
}
int vtas_ioctl(int fd, unsigned long request, void* arg) {
  return guarded([&] { return vtas::sockets::ioctl_impl(fd, request, arg); });
}

}  // extern "C"
