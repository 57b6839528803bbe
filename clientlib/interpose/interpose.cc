// libvtas_interpose.so: run unmodified programs on vtas with
//   LD_PRELOAD=libvtas_interpose.so program ...
// It defines libc's socket, descriptor, data and polling calls (and the _FORTIFY_SOURCE
// variants Debian's binaries call) and forwards each to libvtas_sockets (vtas/sockets.h),
// which serves vtas sockets itself and hands every other descriptor to the real libc
// (dlsym(RTLD_NEXT)). Nothing else is defined; the exported names are exactly these
// (interpose.map). Configuration: clientlib/sockets/README.md.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdlib>

#include "vtas/sockets.h"

namespace {

[[noreturn]] void buffer_overflow() {
  static const char message[] = "*** buffer overflow detected ***: terminated\n";
  (void)!::syscall(1, 2, message, sizeof(message) - 1);  // write(2, ...) without libc's write
  std::abort();
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int socket(int domain, int type, int protocol) {
  return vtas_socket(domain, type, protocol);
}
int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  return vtas_bind(fd, addr, len);
}
int listen(int fd, int backlog) {
  return vtas_listen(fd, backlog);
}
int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  return vtas_accept(fd, addr, len);
}
int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  return vtas_accept4(fd, addr, len, flags);
}
int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  return vtas_connect(fd, addr, len);
}
int shutdown(int fd, int how) {
  return vtas_shutdown(fd, how);
}
int close(int fd) {
  return vtas_close(fd);
}
int close_range(unsigned int first, unsigned int last, int flags) {
  return vtas_close_range(first, last, flags);
}
int getsockname(int fd, struct sockaddr* addr, socklen_t* len) {
  return vtas_getsockname(fd, addr, len);
}
int getpeername(int fd, struct sockaddr* addr, socklen_t* len) {
  return vtas_getpeername(fd, addr, len);
}
int getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  return vtas_getsockopt(fd, level, name, value, len);
}
int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  return vtas_setsockopt(fd, level, name, value, len);
}
int fcntl(int fd, int cmd, ...) {
  va_list args;
  va_start(args, cmd);
  const unsigned long arg = va_arg(args, unsigned long);
  va_end(args);
  return vtas_fcntl(fd, cmd, arg);
}
int fcntl64(int fd, int cmd, ...) {
  va_list args;
  va_start(args, cmd);
  const unsigned long arg = va_arg(args, unsigned long);
  va_end(args);
  return vtas_fcntl(fd, cmd, arg);
}
int ioctl(int fd, unsigned long request, ...) {
  va_list args;
  va_start(args, request);
  void* arg = va_arg(args, void*);
  va_end(args);
  return vtas_ioctl(fd, request, arg);
}
int dup(int fd) {
  return vtas_dup(fd);
}
int dup2(int fd, int new_fd) {
  return vtas_dup2(fd, new_fd);
}
int dup3(int fd, int new_fd, int flags) {
  return vtas_dup3(fd, new_fd, flags);
}

ssize_t read(int fd, void* buf, size_t len) {
  return vtas_read(fd, buf, len);
}
ssize_t __read_chk(int fd, void* buf, size_t len, size_t buf_len) {
  if (len > buf_len) buffer_overflow();
  return vtas_read(fd, buf, len);
}
ssize_t write(int fd, const void* buf, size_t len) {
  return vtas_write(fd, buf, len);
}
ssize_t readv(int fd, const struct iovec* iov, int count) {
  return vtas_readv(fd, iov, count);
}
ssize_t writev(int fd, const struct iovec* iov, int count) {
  return vtas_writev(fd, iov, count);
}
ssize_t recv(int fd, void* buf, size_t len, int flags) {
  return vtas_recv(fd, buf, len, flags);
}
ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buf_len, int flags) {
  if (len > buf_len) buffer_overflow();
  return vtas_recv(fd, buf, len, flags);
}
ssize_t send(int fd, const void* buf, size_t len, int flags) {
  return vtas_send(fd, buf, len, flags);
}
ssize_t recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* addr,
                 socklen_t* addr_len) {
  return vtas_recvfrom(fd, buf, len, flags, addr, addr_len);
}
ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buf_len, int flags,
                       struct sockaddr* addr, socklen_t* addr_len) {
  if (len > buf_len) buffer_overflow();
  return vtas_recvfrom(fd, buf, len, flags, addr, addr_len);
}
ssize_t sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* addr,
               socklen_t addr_len) {
  return vtas_sendto(fd, buf, len, flags, addr, addr_len);
}
ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  return vtas_recvmsg(fd, msg, flags);
}
ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  return vtas_sendmsg(fd, msg, flags);
}
ssize_t sendfile(int out_fd, int in_fd, off_t* offset, size_t count) {
  return vtas_sendfile(out_fd, in_fd, offset, count);
}
ssize_t sendfile64(int out_fd, int in_fd, off64_t* offset, size_t count) {
  return vtas_sendfile(out_fd, in_fd, reinterpret_cast<off_t*>(offset), count);
}

int poll(struct pollfd* fds, nfds_t count, int timeout_ms) {
  return vtas_poll(fds, count, timeout_ms);
}
int __poll_chk(struct pollfd* fds, nfds_t count, int timeout_ms, size_t fds_len) {
  if (fds_len / sizeof(*fds) < count) buffer_overflow();
  return vtas_poll(fds, count, timeout_ms);
}
int ppoll(struct pollfd* fds, nfds_t count, const struct timespec* timeout,
          const sigset_t* sigmask) {
  return vtas_ppoll(fds, count, timeout, sigmask);
}
int __ppoll_chk(struct pollfd* fds, nfds_t count, const struct timespec* timeout,
                const sigset_t* sigmask, size_t fds_len) {
  if (fds_len / sizeof(*fds) < count) buffer_overflow();
  return vtas_ppoll(fds, count, timeout, sigmask);
}
int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds,
           struct timeval* timeout) {
  return vtas_select(nfds, readfds, writefds, exceptfds, timeout);
}
int pselect(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds,
            const struct timespec* timeout, const sigset_t* sigmask) {
  return vtas_pselect(nfds, readfds, writefds, exceptfds, timeout, sigmask);
}
int epoll_create(int size) {
  return vtas_epoll_create(size);
}
int epoll_create1(int flags) {
  return vtas_epoll_create1(flags);
}
int epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  return vtas_epoll_ctl(epfd, op, fd, event);
}
int epoll_wait(int epfd, struct epoll_event* events, int max, int timeout_ms) {
  return vtas_epoll_wait(epfd, events, max, timeout_ms);
}
int epoll_pwait(int epfd, struct epoll_event* events, int max, int timeout_ms,
                const sigset_t* sigmask) {
  return vtas_epoll_pwait(epfd, events, max, timeout_ms, sigmask);
}
int epoll_pwait2(int epfd, struct epoll_event* events, int max, const struct timespec* timeout,
                 const sigset_t* sigmask) {
  return vtas_epoll_pwait2(epfd, events, max, timeout, sigmask);
}

}  // extern "C"
#pragma GCC visibility pop
