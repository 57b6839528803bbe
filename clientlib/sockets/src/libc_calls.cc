#include "clientlib/sockets/src/libc_calls.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace vtas::sockets {
namespace {

LibcCalls g_calls;
std::once_flag g_once;

template <class F>
void resolve(F*& slot, const char* name, bool required = true) {
  void* symbol = dlsym(RTLD_NEXT, name);
  if (symbol == nullptr) symbol = dlsym(RTLD_DEFAULT, name);
  if (symbol == nullptr && required) {
    // Without the real libc call nothing can work; say so plainly rather than crash later.
    static const char message[] = "libvtas_sockets: cannot find libc's functions (dlsym)\n";
    (void)!::write(2, message, sizeof(message) - 1);
    std::abort();
  }
  slot = reinterpret_cast<F*>(symbol);
}

void resolve_all() {
  LibcCalls& c = g_calls;
  resolve(c.socket, "socket");
  resolve(c.bind, "bind");
  resolve(c.listen, "listen");
  resolve(c.accept, "accept");
  resolve(c.accept4, "accept4");
  resolve(c.connect, "connect");
  resolve(c.shutdown, "shutdown");
  resolve(c.close, "close");
  resolve(c.close_range, "close_range", false);
  resolve(c.getsockname, "getsockname");
  resolve(c.getpeername, "getpeername");
  resolve(c.getsockopt, "getsockopt");
  resolve(c.setsockopt, "setsockopt");
  resolve(c.fcntl, "fcntl");
  resolve(c.ioctl, "ioctl");
  resolve(c.dup, "dup");
  resolve(c.dup2, "dup2");
  resolve(c.dup3, "dup3");
  resolve(c.read, "read");
  resolve(c.write, "write");
  resolve(c.readv, "readv");
  resolve(c.writev, "writev");
  resolve(c.recv, "recv");
  resolve(c.send, "send");
  resolve(c.recvfrom, "recvfrom");
  resolve(c.sendto, "sendto");
  resolve(c.recvmsg, "recvmsg");
  resolve(c.sendmsg, "sendmsg");
  resolve(c.sendfile, "sendfile");
  resolve(c.poll, "poll");
  resolve(c.ppoll, "ppoll");
  resolve(c.select, "select");
  resolve(c.pselect, "pselect");
  resolve(c.epoll_create, "epoll_create");
  resolve(c.epoll_create1, "epoll_create1");
  resolve(c.epoll_ctl, "epoll_ctl");
  resolve(c.epoll_wait, "epoll_wait");
  resolve(c.epoll_pwait, "epoll_pwait");
  resolve(c.epoll_pwait2, "epoll_pwait2", false);
}

}  // namespace

const LibcCalls& libc() {
  std::call_once(g_once, resolve_all);
  return g_calls;
}

}  // namespace vtas::sockets
