// Helpers shared by the call implementations (calls_*.cc): finding the vtas object behind a
// descriptor with the engine lock held, installing and dropping descriptors, keeping C++
// exceptions out of the C entry points.
#pragma once

#include <cerrno>
#include <mutex>
#include <new>

#include "clientlib/sockets/src/engine.h"
#include "clientlib/sockets/src/libc_calls.h"
#include "clientlib/sockets/src/objects.h"

namespace vtas::sockets {

// The socket behind `fd` with the engine lock taken into `lock`, or nullptr (a kernel
// descriptor; the lock is not held). Undecided sockets count only if `undecided_too`.
Socket* lock_socket(int fd, std::unique_lock<std::mutex>& lock, bool undecided_too);
// As lock_socket() for epoll instances.
EpollSet* lock_epoll(int fd, std::unique_lock<std::mutex>& lock);

// Makes `fd` refer to `object` (fd_refs + 1), dropping a stale entry left by a close the
// library did not see. False if the table cannot hold it.
bool install_fd(Engine& e, int fd, FdObject* object);
// Forgets `fd` (before the kernel descriptor is closed, so its number cannot be reused by
// another thread in between); releases the object when it was the last descriptor.
void drop_fd(Engine& e, int fd);
// Stops managing `s`: every descriptor that refers to it becomes a plain kernel socket.
void hand_to_kernel(Engine& e, Socket* s);

// Runs `body`, turning an escaping exception into -1 with errno ENOMEM.
template <class F>
auto guarded(F&& body) noexcept -> decltype(body()) {
  try {
    return body();
  } catch (...) {
    errno = ENOMEM;
    return -1;
  }
}

// Notes that the calling thread owes itself a SIGPIPE (Linux sends one with EPIPE unless
// MSG_NOSIGNAL). Raised by deliver_sigpipe() once the engine lock is released, so a handler
// may use sockets.
void raise_sigpipe(int flags);
void deliver_sigpipe();

}  // namespace vtas::sockets
