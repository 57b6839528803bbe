// fork(): the child is a new application to the service. pthread_atfork handlers keep the
// engine consistent across the fork (its lock is held while the process forks) and then:
//   child:  forgets the parent's attachment and context without touching the shared memory
//           (the parent keeps using it), marks every vtas socket inherited, and attaches
//           anew on its first vtas operation. Inherited listeners are reopened in the child
//           when it first uses them (accept, poll, epoll), with REUSEPORT semantics, so the
//           parent and its children share the port as they share a listening socket on Linux.
//           Inherited connections belong to the parent's flow: in the child they read and
//           write as closed (ENOTCONN / EPIPE); closing them there leaves the parent's alone.
//   parent: listeners that it does not watch (no epoll registration, no thread waiting on
//           them) are suspended in the service, reopened on its next use: a pre-forking
//           server's parent (nginx's master) then takes no connections its children should.
// exec(): vtas sockets cannot cross it (the attachment is close-on-exec). The descriptor the
// new program inherits is the plain kernel socket behind it: unconnected, so reads fail with
// ENOTCONN and writes with EPIPE; nothing crashes.
#include <pthread.h>
#include <unistd.h>

#include <mutex>

#include "clientlib/sockets/src/config.h"
#include "clientlib/sockets/src/engine.h"
#include "clientlib/sockets/src/libc_calls.h"
#include "clientlib/sockets/src/socket_ops.h"

namespace vtas::sockets {
namespace {

void prepare() {
  Engine::get().before_fork();
}
void parent() {
  Engine::get().after_fork_parent();
}
void child() {
  Engine::get().after_fork_child();
}

struct ForkHandlers {
  ForkHandlers() { pthread_atfork(prepare, parent, child); }
};
ForkHandlers g_handlers;

}  // namespace

void Engine::before_fork() {
  mutex_.lock();
}

void Engine::after_fork_parent() {
  if (availability_ == Availability::kAttached) {
    fds_.for_each(0, FdTable::kChunkSize * FdTable::kMaxChunks - 1, [&](int, FdObject* o) {
      if (o->type != ObjectType::kSocket) return;
      auto* s = static_cast<Socket*>(o);
      if (s->kind != SocketKind::kListener || s->listen_state != ListenState::kOpen) return;
      if (!s->watchers.empty() || !s->waiters.empty() || s->busy > 0) return;
      suspend_listener(*this, s);
      debug("listener on port %u suspended in the parent after fork()", ntohs(s->bound_port));
    });
  }
  mutex_.unlock();
}

void Engine::after_fork_child() {
  // Only this thread exists now; nothing else holds a lock of ours or of libvtas (every
  // libvtas call runs under mutex_, which the forking thread holds).
  if (availability_ == Availability::kAttached) {
    fds_.for_each(0, FdTable::kChunkSize * FdTable::kMaxChunks - 1, [&](int fd, FdObject* o) {
      if (o->type == ObjectType::kInternal) {
        fds_.clear(fd);  // the child closes nothing of the parent's; these are copies
        return;
      }
      if (o->type == ObjectType::kEpoll) {
        auto* set = static_cast<EpollSet*>(o);
        set->closed_listeners = 0;
        for (EpollItem* item : set->items) {
          set->closed_listeners += item->socket->kind == SocketKind::kListener ? 1 : 0;
        }
        set->waiters.clear();
        return;
      }
      if (o->type != ObjectType::kSocket) return;
      auto* s = static_cast<Socket*>(o);
      if (s->inherited) return;
      s->inherited = true;
      s->waiters.clear();
      if (s->kind == SocketKind::kListener) {
        s->listen_state = ListenState::kSuspended;
        s->posted.clear();        // the parent's accept slots
        s->accept_queue.clear();  // the parent's connections
      }
    });
    // libvtas state of the parent: destroying it here only frees this process's copies
    // (memory, mappings, descriptors); the shared memory is not written.
    (void)vtas_context_destroy(&ctx_);
    (void)vtas_fini();
    ctx_ = flextcp_context{};
  }
  flush_list_.clear();
  ctx_armed_ = false;
  sleepers_ = 0;
  availability_ = Availability::kUnknown;  // attach again on first use
  owner_pid_ = 0;
  // The thread's Waiter eventfd is shared with the parent's thread: make our own.
  Waiter* w = thread_waiter();
  if (w != nullptr) {
    fds_.clear(w->efd);
    libc().close(w->efd);
    w->efd = -1;
    (void)thread_waiter();
  }
  mutex_.unlock();
}

}  // namespace vtas::sockets
