// Epoll instance helpers used outside calls_epoll.cc: closing an instance, and moving a
// socket's registrations into the kernel instances when the socket turns out to be the
// kernel's. With the engine lock held.
#pragma once

#include "clientlib/sockets/src/engine.h"
#include "clientlib/sockets/src/objects.h"

namespace vtas::sockets {

// Last descriptor of `set` closed: drop its registrations, free it when no call uses it.
void release_epoll(Engine& e, EpollSet* set);
// `s` became a plain kernel socket with descriptor numbers as registered: register them in
// the kernel instances instead.
void move_watchers_to_kernel(Engine& e, Socket* s, int any_fd);
// epoll bits -> readiness of one registration now (0: not ready).
uint32_t item_events(const EpollItem* item);

}  // namespace vtas::sockets
