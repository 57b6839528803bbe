// The objects behind the file descriptors that libvtas_sockets manages: vtas sockets (not yet
// decided, listening, or connected) and epoll instances, plus the Waiter a sleeping thread
// registers on them. One object per open file description: dup()ed descriptors share it
// (`fd_refs` counts them), as the kernel shares a struct file.
//
// Every field is guarded by the engine lock (engine.h) unless noted. Objects with service
// state (a flextcp_connection or flextcp_listener that libvtas still knows) outlive their last
// descriptor as orphans until the service confirms the close.
#pragma once

#include <netinet/in.h>
#include <sys/epoll.h>

#include <cstdint>
#include <deque>
#include <vector>

#include "vtas/tas_ll.h"

namespace vtas::sockets {

struct EpollSet;
struct EpollItem;
struct Socket;

// libvtas hands back the flextcp_connection / flextcp_listener pointers we gave it; these
// standard-layout wrappers lead from them to their Socket (first member: same address).
struct ConnSlot {
  flextcp_connection c{};
  Socket* socket = nullptr;
};
struct ListenerSlot {
  flextcp_listener l{};
  Socket* socket = nullptr;
};
inline Socket* socket_of(flextcp_connection* c) {
  return reinterpret_cast<ConnSlot*>(c)->socket;
}
inline Socket* socket_of(flextcp_listener* l) {
  return reinterpret_cast<ListenerSlot*>(l)->socket;
}

// A thread blocked in a sockets call. Registered on the objects it waits for while it sleeps;
// whoever changes one of them signals its eventfd.
struct Waiter {
  int efd = -1;  // eventfd, nonblocking, close-on-exec
  bool signaled = false;
};

enum class ObjectType : uint8_t { kSocket, kEpoll, kInternal };

struct FdObject {
  explicit FdObject(ObjectType t) : type(t) {}
  virtual ~FdObject() = default;
  FdObject(const FdObject&) = delete;
  FdObject& operator=(const FdObject&) = delete;
  const ObjectType type;
  int fd_refs = 0;  // descriptors of this process that refer to it
};

// Descriptors libvtas owns (attach socket, doorbells, context eventfd): close() of them by
// the application is ignored, so programs that close "all" descriptors do not cut vtas off.
struct InternalFd : FdObject {
  InternalFd() : FdObject(ObjectType::kInternal) {}
};

enum class SocketKind : uint8_t {
  kUndecided,  // a kernel TCP socket until bind/listen/connect says where it belongs
  kListener,
  kConnection,
};

enum class ConnState : uint8_t {
  kIdle,        // accept slot posted, not yet a connection
  kConnecting,  // flextcp_connection_open sent
  kEstablished,
  kFailed,  // the open failed; `error` says why
  kClosed,  // the service forgot the connection (closed, reset and gone)
};

enum class ListenState : uint8_t {
  kNone,     // listen() not called (or after a failure)
  kOpening,  // flextcp_listen_open sent
  kOpen,
  kSuspended,  // not open in the service (after fork, see fork.cc); reopened on next use
  kClosing,    // vtas_listen_close sent
};

struct Socket : FdObject {
  Socket() : FdObject(ObjectType::kSocket) {
    conn.socket = this;
    lst.socket = this;
  }

  SocketKind kind = SocketKind::kUndecided;
  bool nonblocking = false;    // O_NONBLOCK of the open file description
  bool orphan = false;         // no descriptor left; waits for the service to forget it
  bool inherited = false;      // copied into this process by fork(): its flow is the parent's
  bool reuse_port = false;     // SO_REUSEPORT was set
  int linger_seconds = -1;     // SO_LINGER: -1 off
  int64_t rcv_timeout_ns = 0;  // SO_RCVTIMEO (0: none)
  int64_t snd_timeout_ns = 0;  // SO_SNDTIMEO
  bool cork = false;           // TCP_CORK: data waits in the buffer until uncorked or full

  // Addresses (network order); bound_port != 0 once bind() or listen() picked a port.
  uint32_t bound_ip = 0;
  uint16_t bound_port = 0;
  bool bound = false;

  // ---- connection ----
  ConnSlot conn;
  ConnState state = ConnState::kIdle;
  uint32_t rx_avail = 0;       // received bytes not yet read by the application
  uint32_t rx_tail = 0;        // position of the oldest unread byte in the rx buffer
  uint32_t rx_unreleased = 0;  // bytes read but not yet released to the service (queue full)
  uint32_t tx_unsent = 0;      // bytes copied into the tx buffer, not yet handed to the service
  bool peer_fin = false;       // the peer closed its side: reads return 0 after the data
  bool reset = false;          // the peer reset the connection
  bool rd_shut = false;        // shutdown(SHUT_RD)
  bool wr_shut = false;        // shutdown(SHUT_WR) or close: FIN requested
  bool fin_sent = false;       // flextcp_connection_tx_close done
  bool fin_acked = false;
  bool close_sent = false;       // flextcp_connection_close / vtas_connection_abort done
  bool forgotten = false;        // libvtas forgot `conn` (CONN_CLOSED or failed open/accept)
  bool abort_requested = false;  // reset it as soon as the open is answered
  bool connect_unreported = false;
  bool nospace = false;  // a writer or POLLOUT waiter found it unwritable (Linux SOCK_NOSPACE)  //
                         // a non-blocking connect whose outcome connect() owes
  int error = 0;         // pending socket error (SO_ERROR), reported once
  Socket* listener = nullptr;  // for accept slots: the listener that posted it

  // ---- listener ----
  ListenerSlot lst;
  ListenState listen_state = ListenState::kNone;
  int listen_status = 0;  // errno of the last failed open
  int backlog = 0;
  std::vector<Socket*> posted;       // accept slots handed to the service
  bool kernel_listening = false;     // the kernel socket listens too (loopback clients)
  bool suspend_when_closed = false;  // closing for fork(): becomes kSuspended, not kNone
  std::deque<Socket*> accept_queue;  // established connections waiting for accept()

  // ---- waiting ----
  std::vector<Waiter*> waiters;
  std::vector<EpollItem*> watchers;  // epoll registrations of this socket
  bool on_flush_list = false;
  int busy = 0;  // calls in progress on it (a blocked recv keeps it alive across a close)
};

// One registration of a vtas socket in an epoll instance (Linux keys them by file and fd).
struct EpollItem {
  EpollSet* set = nullptr;
  Socket* socket = nullptr;
  int fd = -1;
  uint32_t events = 0;  // requested (EPOLLIN, ..., EPOLLET, EPOLLONESHOT)
  epoll_data_t data{};
  bool ready = false;     // on set->ready
  bool disabled = false;  // EPOLLONESHOT fired
};

// An epoll instance. Its descriptor is a real kernel epoll instance, which holds the kernel
// descriptors registered with it; vtas sockets are registered here instead.
struct EpollSet : FdObject {
  EpollSet() : FdObject(ObjectType::kEpoll) {}
  std::vector<EpollItem*> items;
  std::deque<EpollItem*> ready;
  std::vector<Waiter*> waiters;
  int kernel_items = 0;      // descriptors registered in the kernel instance (counted by us)
  int kernel_fd = -1;        // one descriptor of the kernel instance (for epoll_ctl/epoll_wait)
  int busy = 0;              // epoll_wait calls in progress
  bool orphan = false;       // every descriptor closed; freed when not busy
  int closed_listeners = 0;  // registered listeners not open in the service (after fork)
};

}  // namespace vtas::sockets
