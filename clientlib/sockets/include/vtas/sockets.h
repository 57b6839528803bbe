/*
 * vtas/sockets.h: POSIX sockets on vtas (libvtas_sockets). Each vtas_X() behaves as the libc
 * call X() of the same signature, for every file descriptor: TCP/IPv4 sockets whose traffic
 * belongs to vtas's network run on the vtas service (through libvtas, vtas/tas_ll.h), every
 * other descriptor (files, pipes, UNIX/UDP/IPv6 sockets, loopback TCP...) goes to the kernel
 * unchanged. libvtas_interpose.so maps the libc names onto these for unmodified programs
 * (LD_PRELOAD); programs may also call them directly (link -lvtas_sockets).
 *
 * Who may call: any thread, any time; blocking calls sleep (no busy polling) and are
 * interrupted by signals with EINTR as on Linux. Errors: -1 with errno as Linux sets it.
 * Behaviour, configuration (VTAS_SOCKETS_* environment variables) and the differences from
 * Linux: clientlib/sockets/README.md.
 */
#ifndef VTAS_SOCKETS_H_
#define VTAS_SOCKETS_H_

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#if defined(__GNUC__)
#define VTAS_SOCKETS_API __attribute__((visibility("default")))
#else
#define VTAS_SOCKETS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

VTAS_SOCKETS_API int vtas_socket(int domain, int type, int protocol);
VTAS_SOCKETS_API int vtas_bind(int fd, const struct sockaddr *addr, socklen_t len);
VTAS_SOCKETS_API int vtas_listen(int fd, int backlog);
VTAS_SOCKETS_API int vtas_accept(int fd, struct sockaddr *addr, socklen_t *len);
VTAS_SOCKETS_API int vtas_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
VTAS_SOCKETS_API int vtas_connect(int fd, const struct sockaddr *addr, socklen_t len);
VTAS_SOCKETS_API int vtas_shutdown(int fd, int how);
VTAS_SOCKETS_API int vtas_close(int fd);
VTAS_SOCKETS_API int vtas_close_range(unsigned int first, unsigned int last, int flags);
VTAS_SOCKETS_API int vtas_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
VTAS_SOCKETS_API int vtas_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
VTAS_SOCKETS_API int vtas_getsockopt(int fd, int level, int name, void *value, socklen_t *len);
VTAS_SOCKETS_API int vtas_setsockopt(int fd, int level, int name, const void *value,
    socklen_t len);
/* fcntl and ioctl take their optional third argument as a plain pointer-sized value. */
VTAS_SOCKETS_API int vtas_fcntl(int fd, int cmd, unsigned long arg);
VTAS_SOCKETS_API int vtas_ioctl(int fd, unsigned long request, void *arg);
VTAS_SOCKETS_API int vtas_dup(int fd);
VTAS_SOCKETS_API int vtas_dup2(int fd, int new_fd);
VTAS_SOCKETS_API int vtas_dup3(int fd, int new_fd, int flags);

VTAS_SOCKETS_API ssize_t vtas_read(int fd, void *buf, size_t len);
VTAS_SOCKETS_API ssize_t vtas_write(int fd, const void *buf, size_t len);
VTAS_SOCKETS_API ssize_t vtas_readv(int fd, const struct iovec *iov, int count);
VTAS_SOCKETS_API ssize_t vtas_writev(int fd, const struct iovec *iov, int count);
VTAS_SOCKETS_API ssize_t vtas_recv(int fd, void *buf, size_t len, int flags);
VTAS_SOCKETS_API ssize_t vtas_send(int fd, const void *buf, size_t len, int flags);
VTAS_SOCKETS_API ssize_t vtas_recvfrom(int fd, void *buf, size_t len, int flags,
    struct sockaddr *addr, socklen_t *addr_len);
VTAS_SOCKETS_API ssize_t vtas_sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *addr, socklen_t addr_len);
VTAS_SOCKETS_API ssize_t vtas_recvmsg(int fd, struct msghdr *msg, int flags);
VTAS_SOCKETS_API ssize_t vtas_sendmsg(int fd, const struct msghdr *msg, int flags);
VTAS_SOCKETS_API ssize_t vtas_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);

VTAS_SOCKETS_API int vtas_poll(struct pollfd *fds, nfds_t count, int timeout_ms);
VTAS_SOCKETS_API int vtas_ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout,
    const sigset_t *sigmask);
VTAS_SOCKETS_API int vtas_select(int nfds, fd_set *readfds, fd_set *writefds,
    fd_set *exceptfds, struct timeval *timeout);
VTAS_SOCKETS_API int vtas_pselect(int nfds, fd_set *readfds, fd_set *writefds,
    fd_set *exceptfds, const struct timespec *timeout, const sigset_t *sigmask);
VTAS_SOCKETS_API int vtas_epoll_create(int size);
VTAS_SOCKETS_API int vtas_epoll_create1(int flags);
VTAS_SOCKETS_API int vtas_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
VTAS_SOCKETS_API int vtas_epoll_wait(int epfd, struct epoll_event *events, int max,
    int timeout_ms);
VTAS_SOCKETS_API int vtas_epoll_pwait(int epfd, struct epoll_event *events, int max,
    int timeout_ms, const sigset_t *sigmask);
VTAS_SOCKETS_API int vtas_epoll_pwait2(int epfd, struct epoll_event *events, int max,
    const struct timespec *timeout, const sigset_t *sigmask);

/* 1 if `fd` is a socket served by vtas (not the kernel), else 0. For tests and diagnostics. */
VTAS_SOCKETS_API int vtas_sockets_is_vtas(int fd);

#ifdef __cplusplus
}
#endif

#endif /* VTAS_SOCKETS_H_ */
