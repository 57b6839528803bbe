#include <signal.h>

#include <vector>

#include "clientlib/sockets/src/calls.h"
#include "clientlib/sockets/src/config.h"
#include "clientlib/sockets/src/epoll_ops.h"
#include "clientlib/sockets/src/socket_ops.h"

namespace vtas::sockets {

Socket* lock_socket(int fd, std::unique_lock<std::mutex>& lock, bool undecided_too) {
  Engine& e = Engine::get();
  FdObject* o = e.fds().get(fd);
  if (o == nullptr || o->type != ObjectType::kSocket) return nullptr;
  lock = std::unique_lock<std::mutex>(e.mutex());
  o = e.fds().get(fd);  // again, under the lock: it may have been closed meanwhile
  if (o == nullptr || o->type != ObjectType::kSocket) {
    lock.unlock();
    return nullptr;
  }
  auto* s = static_cast<Socket*>(o);
  if (!undecided_too && s->kind == SocketKind::kUndecided) {
    lock.unlock();
    return nullptr;
  }
  return s;
}

EpollSet* lock_epoll(int fd, std::unique_lock<std::mutex>& lock) {
  Engine& e = Engine::get();
  FdObject* o = e.fds().get(fd);
  if (o == nullptr || o->type != ObjectType::kEpoll) return nullptr;
  lock = std::unique_lock<std::mutex>(e.mutex());
  o = e.fds().get(fd);
  if (o == nullptr || o->type != ObjectType::kEpoll) {
    lock.unlock();
    return nullptr;
  }
  return static_cast<EpollSet*>(o);
}

bool install_fd(Engine& e, int fd, FdObject* object) {
  if (e.fds().get(fd) != nullptr) drop_fd(e, fd);  // closed behind our back (fclose, syscall)
  if (!e.fds().set(fd, object)) return false;
  ++object->fd_refs;
  return true;
}

void drop_fd(Engine& e, int fd) {
  FdObject* o = e.fds().get(fd);
  if (o == nullptr || o->type == ObjectType::kInternal) return;
  e.fds().clear(fd);
  if (--o->fd_refs > 0) {
    if (o->type == ObjectType::kEpoll && static_cast<EpollSet*>(o)->kernel_fd == fd) {
      e.fds().for_each(0, FdTable::kChunkSize * FdTable::kMaxChunks - 1,
                       [&](int other, FdObject* p) {
                         if (p == o) static_cast<EpollSet*>(o)->kernel_fd = other;
                       });
    }
    return;
  }
  if (o->type == ObjectType::kSocket) {
    release_socket(e, static_cast<Socket*>(o));
  } else {
    release_epoll(e, static_cast<EpollSet*>(o));
  }
}

void hand_to_kernel(Engine& e, Socket* s) {
  std::vector<int> fds;
  e.fds().for_each(0, FdTable::kChunkSize * FdTable::kMaxChunks - 1, [&](int fd, FdObject* o) {
    if (o == s) fds.push_back(fd);
  });
  for (int fd : fds) e.fds().clear(fd);
  s->fd_refs = 0;
  s->kind = SocketKind::kUndecided;
  // Epoll registrations move to the kernel instances, with their events and data.
  move_watchers_to_kernel(e, s, fds.empty() ? -1 : fds.front());
  s->orphan = true;
  destroy_if_unused(e, s);
}

namespace {
thread_local bool t_sigpipe_owed = false;
}  // namespace

void raise_sigpipe(int flags) {
  if (!(flags & MSG_NOSIGNAL)) t_sigpipe_owed = true;
}

void deliver_sigpipe() {
  if (!t_sigpipe_owed) return;
  t_sigpipe_owed = false;
  const int saved = errno;
  (void)raise(SIGPIPE);
  errno = saved;
}

}  // namespace vtas::sockets
