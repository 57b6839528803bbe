/*
 * vtas/tas_ll.h: the low-level application interface of vtas (libvtas), source compatible
 * with TAS's tas_ll.h. Programs written for TAS (flextcp_* calls, the flextcp_event union,
 * the FLEXTCP_EV_* event types) compile unchanged against it; link with -lvtas
 * (`pkg-config --cflags --libs vtas`, or CMake `find_package(vtas)` + `vtas::vtas`).
 *
 * Who may call what: flextcp_init() once per process (later calls are no-ops), then one
 * flextcp_context per thread. A context and the connections/listeners opened on it are used
 * by one thread at a time; different contexts may be used by different threads concurrently.
 *
 * Differences from TAS (see also the vtas_* extensions at the end):
 *   - All addresses and ports are host byte order, as in TAS.
 *   - Errors return -1 with errno set, and a readable reason in vtas_last_error(); nothing
 *     aborts the process. A full control or bump queue gives -1 with errno EAGAIN and changes
 *     nothing: retry after flextcp_context_poll() (flextcp_connection_tx_possible() says
 *     whether a bump can be queued right now).
 *   - Extra events: FLEXTCP_EV_CONN_RESET (the peer reset the connection; it is followed by
 *     FLEXTCP_EV_CONN_RXCLOSED if the receive side was still open, so TAS programs that ignore
 *     unknown events still see end-of-stream) and FLEXTCP_EV_LISTEN_CLOSED.
 *   - FLEXTCP_EV_CONN_SENDBUF is reported whenever acknowledged bytes free transmit buffer
 *     space (TAS: only when the buffer had been completely full).
 *   - The structs below are allocated by the application, but their fields are owned by the
 *     library: read the documented ones, write none.
 */
#ifndef VTAS_TAS_LL_H_
#define VTAS_TAS_LL_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#if defined(__GNUC__)
#define VTAS_API __attribute__((visibility("default")))
#else
#define VTAS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define FLEXTCP_MAX_CONTEXTS 64
#define FLEXTCP_MAX_FTCPCORES 16

/** Per-thread state of the stack (library-owned; allocate it, do not touch it). */
struct flextcp_context {
  void *vtas_impl;      /* library state; NULL until flextcp_context_create succeeds */
  int evfd;             /* the wait file descriptor (also flextcp_context_waitfd()) */
  uint16_t ctx_id;      /* the service's id of this context */
  uint16_t num_queues;  /* fast-path cores serving it */
  uint32_t flags;
  uint64_t vtas_reserved[4];
};

/** A listening "socket" (library-owned fields). */
struct flextcp_listener {
  struct flextcp_connection *conns; /* unused; kept for TAS source compatibility */
  uint16_t local_port;              /* host order */
  uint8_t status;
  uint8_t vtas_pad;
  uint32_t listener_id;             /* the service's id, valid after FLEXTCP_EV_LISTEN_OPEN */
  uint64_t vtas_cookie;
  void *vtas_owner;
};

/** A TCP connection (library-owned fields; the ones TAS programs read are kept). */
struct flextcp_connection {
  /* receive buffer (circular) */
  uint8_t *rxb_base;
  uint32_t rxb_len;
  uint32_t rxb_head;       /* position where the next new byte arrives */
  uint32_t rxb_used;       /* bytes delivered to the app and not yet released (rx_done) */

  /* transmit buffer (circular) */
  uint8_t *txb_base;
  uint32_t txb_len;
  uint32_t txb_head;       /* position of the next byte to send */
  uint32_t txb_sent;       /* bytes sent (tx_send) and not yet acknowledged */
  uint32_t txb_allocated;  /* bytes allocated (tx_alloc) and not yet sent */

  /* host byte order */
  uint32_t local_ip;
  uint32_t remote_ip;
  uint16_t local_port;
  uint16_t remote_port;

  uint32_t flow_id;
  uint32_t bump_seq;       /* sequence number of the last bump queued to the fast path */
  uint16_t fn_core;        /* fast-path core whose queue carries this connection's bumps */

  uint8_t status;
  uint8_t flags;
  uint8_t rx_closed;       /* the peer closed its side (FLEXTCP_EV_CONN_RXCLOSED was reported) */
  uint8_t vtas_pad[3];
  uint32_t vtas_rx_stream; /* in-order bytes received since open (mod 2^32), as the fast path
                              counts them: orders its cumulative receive entries */

  /* library-private */
  uint64_t vtas_cookie;
  void *vtas_owner;        /* context that owns it */
  void *vtas_prev_owner;   /* context it moved from (may still deliver its older events) */
  void *vtas_move_target;  /* context a flextcp_connection_move() is pending to */
};

/** Types of events that can occur in flextcp contexts (numbering as in TAS). */
enum flextcp_event_type {
  /** flextcp_listen_open() result. */
  FLEXTCP_EV_LISTEN_OPEN,
  /** New connection on listening socket arrived (a SYN waits and no accept is posted). */
  FLEXTCP_EV_LISTEN_NEWCONN,
  /** Accept operation completed */
  FLEXTCP_EV_LISTEN_ACCEPT,

  /** flextcp_connection_open() result */
  FLEXTCP_EV_CONN_OPEN,
  /** Connection was closed: the library forgets it, its memory may be reused */
  FLEXTCP_EV_CONN_CLOSED,
  /** Data arrived on connection */
  FLEXTCP_EV_CONN_RECEIVED,
  /** More send buffer available */
  FLEXTCP_EV_CONN_SENDBUF,
  /** Receive stream closed */
  FLEXTCP_EV_CONN_RXCLOSED,
  /** transmit stream closed (our FIN was acknowledged) */
  FLEXTCP_EV_CONN_TXCLOSED,
  /** Connection moved to new context */
  FLEXTCP_EV_CONN_MOVED,

  /** vtas: the peer reset the connection; no more data either way. Close it. */
  FLEXTCP_EV_CONN_RESET,
  /** vtas: vtas_listen_close() result; the library forgets the listener */
  FLEXTCP_EV_LISTEN_CLOSED,
};

/** Events that can occur on flextcp contexts. */
struct flextcp_event {
  uint8_t event_type;
  union {
    /** For #FLEXTCP_EV_LISTEN_OPEN */
    struct {
      int16_t status;
      struct flextcp_listener *listener;
    } listen_open;
    /** For #FLEXTCP_EV_LISTEN_NEWCONN */
    struct {
      uint16_t remote_port;
      uint32_t remote_ip;
      struct flextcp_listener *listener;
    } listen_newconn;
    /** For #FLEXTCP_EV_LISTEN_ACCEPT */
    struct {
      int16_t status;
      struct flextcp_connection *conn;
    } listen_accept;

    /** For #FLEXTCP_EV_CONN_OPEN */
    struct {
      int16_t status;
      struct flextcp_connection *conn;
    } conn_open;
    /** For #FLEXTCP_EV_CONN_RECEIVED */
    struct {
      void *buf;
      size_t len;
      struct flextcp_connection *conn;
    } conn_received;
    /** For #FLEXTCP_EV_CONN_SENDBUF */
    struct {
      struct flextcp_connection *conn;
    } conn_sendbuf;
    /** For #FLEXTCP_EV_CONN_RXCLOSED */
    struct {
      struct flextcp_connection *conn;
    } conn_rxclosed;
    /** For #FLEXTCP_EV_CONN_TXCLOSED */
    struct {
      struct flextcp_connection *conn;
    } conn_txclosed;
    /** For #FLEXTCP_EV_CONN_MOVED */
    struct {
      int16_t status;
      struct flextcp_connection *conn;
    } conn_moved;
    /** For #FLEXTCP_EV_CONN_CLOSED */
    struct {
      int16_t status;
      struct flextcp_connection *conn;
    } conn_closed;
    /** For #FLEXTCP_EV_CONN_RESET (vtas) */
    struct {
      struct flextcp_connection *conn;
    } conn_reset;
    /** For #FLEXTCP_EV_LISTEN_CLOSED (vtas) */
    struct {
      int16_t status;
      struct flextcp_listener *listener;
    } listen_closed;
  } ev;
};

#define FLEXTCP_LISTEN_REUSEPORT 0x1

/**
 * Attaches the process to the vtas service: connects to <runtime_dir>/app.sock, where
 * runtime_dir is $VTAS_RUNTIME_DIR, else /run/vtas/$VTAS_INSTANCE, else /run/vtas/vtas.
 * @return 0 on success (also when already attached), -1 with errno: ECONNREFUSED (service not
 * running), EACCES (permission denied), EPROTO (version mismatch), ETIMEDOUT, ...
 */
VTAS_API int flextcp_init(void);

/** Creates a context (one per thread). @return 0 or -1 with errno. */
VTAS_API int flextcp_context_create(struct flextcp_context *ctx);

/**
 * Polls up to `num` events. @return the number of events (0: none), or -1 with errno EPROTO
 * when the context's queues were corrupted by the other side (the context is unusable), or
 * -1 with errno ECONNRESET once the service is gone (it closed this process's attach socket:
 * stopped, or crashed and not restarted for this app) and every event it left was handed out.
 * Nothing more will come: destroy the contexts, vtas_fini(), and flextcp_init() again later.
 */
VTAS_API int flextcp_context_poll(struct flextcp_context *ctx, int num,
    struct flextcp_event *events);

/** The file descriptor to wait on (poll/epoll for POLLIN). Constant for the context. */
VTAS_API int flextcp_context_waitfd(struct flextcp_context *ctx);

/**
 * Announces that the caller is about to block on the wait fd. @return 0: nothing is pending
 * and any later event will make the wait fd readable, so blocking is safe; -1 with errno
 * EAGAIN: events are pending, or the context is still inside the service's poll interval
 * (--fp-poll-interval-app, counted from the first canwait after the last event): poll
 * instead; -1 with errno ECONNRESET: the service is gone (see flextcp_context_poll). After
 * waking up (or not blocking), call flextcp_context_waitclear().
 */
VTAS_API int flextcp_context_canwait(struct flextcp_context *ctx);

/** Clears the wait fd and the sleep announcement after a wake-up. */
VTAS_API void flextcp_context_waitclear(struct flextcp_context *ctx);

/**
 * Blocks until an event may be ready or `timeout_ms` passes (-1: no timeout), without lost
 * wake-ups (canwait + poll + waitclear). It first polls the queues for up to the service's
 * --fp-poll-interval-app after the last event (0: sleeps at once). @return 0 if it waited,
 * -1 with errno EAGAIN when events are pending (poll them), -1 with errno ECONNRESET when
 * the service is gone (a sleeping wait wakes up for it), other errno on failure.
 */
VTAS_API int flextcp_context_wait(struct flextcp_context *ctx, int timeout_ms);

/*****************************************************************************/
/* Regular TCP connection management */

/** Opens a listening socket (asynchronous: FLEXTCP_EV_LISTEN_OPEN). */
VTAS_API int flextcp_listen_open(struct flextcp_context *ctx,
    struct flextcp_listener *lst, uint16_t port, uint32_t backlog,
    uint32_t flags);

/** Posts an accept on an open listener (asynchronous: FLEXTCP_EV_LISTEN_ACCEPT). May be
 * called several times to post several connection handles. */
VTAS_API int flextcp_listen_accept(struct flextcp_context *ctx,
    struct flextcp_listener *lst, struct flextcp_connection *conn);

/** Opens a connection (asynchronous: FLEXTCP_EV_CONN_OPEN). */
VTAS_API int flextcp_connection_open(struct flextcp_context *ctx,
    struct flextcp_connection *conn, uint32_t dst_ip, uint16_t dst_port);

/** Closes a connection (asynchronous: FLEXTCP_EV_CONN_CLOSED). */
VTAS_API int flextcp_connection_close(struct flextcp_context *ctx,
    struct flextcp_connection *conn);

/** Releases `len` received bytes (the oldest ones delivered). */
VTAS_API int flextcp_connection_rx_done(struct flextcp_context *ctx,
    struct flextcp_connection *conn, size_t len);

/** Allocates up to `len` bytes of transmit buffer; returns the number allocated (short when
 * the buffer is full or wraps around), -1 when the sending side is closed. */
VTAS_API ssize_t flextcp_connection_tx_alloc(struct flextcp_connection *conn, size_t len,
    void **buf);

/** As tx_alloc, but returns a wrapping allocation as two pieces: `*len_1` bytes at `*buf_1`
 * and the rest at `*buf_2` (NULL when there is no second piece). */
VTAS_API ssize_t flextcp_connection_tx_alloc2(struct flextcp_connection *conn, size_t len,
    void **buf_1, size_t *len_1, void **buf_2);

/** Sends `len` previously allocated bytes. */
VTAS_API int flextcp_connection_tx_send(struct flextcp_context *ctx,
    struct flextcp_connection *conn, size_t len);

/** Closes the sending side (FIN after the data sent so far; FLEXTCP_EV_CONN_TXCLOSED when
 * it is acknowledged). Fails if allocated bytes were not sent. */
VTAS_API int flextcp_connection_tx_close(struct flextcp_context *ctx,
    struct flextcp_connection *conn);

/** @return 0 if a bump for this connection (tx_send, rx_done, tx_close) can be queued right
 * now, -1 with errno EAGAIN if its queue is full. */
VTAS_API int flextcp_connection_tx_possible(struct flextcp_context *ctx,
    struct flextcp_connection *conn);

/** Moves a connection to `ctx` (call it with the new context; asynchronous:
 * FLEXTCP_EV_CONN_MOVED on the new context). Until then it stays with its old context. */
VTAS_API int flextcp_connection_move(struct flextcp_context *ctx,
    struct flextcp_connection *conn);

/*****************************************************************************/
/* vtas extensions */

/** Why the last call on this thread failed ("" if none did). Also printed to stderr when the
 * environment variable VTAS_DEBUG is set (once per failure; data-path errors once per context). */
VTAS_API const char *vtas_last_error(void);

/** Closes a listener (asynchronous: FLEXTCP_EV_LISTEN_CLOSED). */
VTAS_API int vtas_listen_close(struct flextcp_context *ctx, struct flextcp_listener *lst);

/** Aborts a connection: the service sends a RST (asynchronous: FLEXTCP_EV_CONN_CLOSED). */
VTAS_API int vtas_connection_abort(struct flextcp_context *ctx,
    struct flextcp_connection *conn);

/** Frees a context's library state. Its connections and listeners are forgotten (their
 * memory may be reused); the service keeps the context until the process detaches. */
VTAS_API int vtas_context_destroy(struct flextcp_context *ctx);

/** Detaches from the service (it resets every connection of the process). All contexts must
 * have been destroyed (else -1, EBUSY). flextcp_init() may be called again afterwards. */
VTAS_API int vtas_fini(void);

/** Counters of a context, for diagnostics and tests. */
struct vtas_context_stats {
  uint64_t kin_events;        /* control events read */
  uint64_t arx_entries;       /* data events read */
  uint64_t rejected;          /* entries refused as invalid (see vtas_last_error()) */
  uint64_t dropped_closed;    /* data events for connections already closing (normal) */
  uint32_t corrupted;         /* 1 if a queue of the context is corrupted */
  uint32_t reserved;
  uint64_t stale_rx_entries;  /* receive events already covered by a later one (a connection
                                 moved between fast-path cores; normal) */
};
VTAS_API int vtas_context_get_stats(struct flextcp_context *ctx, struct vtas_context_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* VTAS_TAS_LL_H_ */
