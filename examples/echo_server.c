/*
 * echo_server: a small TCP echo server on the vtas low-level API (the TAS flextcp_* API:
 * this file compiles unchanged against TAS's tas_ll.h but for the vtas_* calls marked below).
 *
 *   echo_server PORT
 *
 * Listens on PORT, accepts any number of connections (up to MAX_CONNS at once), sends back
 * every byte it receives, and closes a connection once the peer closed its side and all
 * echoed bytes were acknowledged. When idle it sleeps on the context's wait fd instead of
 * spinning (canwait / waitfd / waitclear, here with pselect so that SIGINT and SIGTERM, which
 * stop it cleanly, can only arrive while it sleeps: no signal is lost between a check and
 * the sleep).
 *
 * Received bytes are echoed straight from the connection's receive buffer into its transmit
 * buffer and released (rx_done) only once copied, so a slow peer simply stops the reading:
 * no copy in between, no unbounded memory.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, pselect */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include <tas_ll.h>

#define MAX_CONNS 64
#define EVENT_BATCH 32

struct echo_conn {
  struct flextcp_connection conn; /* first member: events point here */
  int in_use;                     /* accepted, or an accept is posted for it */
  size_t unechoed_off;            /* rx buffer offset of the first byte not yet echoed */
  size_t unechoed_len;            /* bytes received and not yet echoed */
  size_t unreleased;              /* bytes echoed but not yet released with rx_done */
  int rx_closed;                  /* the peer closed its side */
  int tx_closed;                  /* we closed ours */
  int tx_acked;                   /* ...and the peer acknowledged that */
  int closing;                    /* flextcp_connection_close() was called */
};

static struct flextcp_context ctx;
static struct flextcp_listener listener;
static struct echo_conn conns[MAX_CONNS];
static int accept_posted;
static int retry_soon; /* a queue was full: try again after a short wait */
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* Sleeps until the context may have events, `timeout_ms` passes (-1: no limit) or a signal
 * comes. Signals are blocked except inside pselect, which unblocks them atomically. */
static void wait_for_events(int timeout_ms, const sigset_t *unblocked) {
  int fd = flextcp_context_waitfd(&ctx);
  struct timespec timeout, *limit = NULL;
  fd_set readable;

  if (flextcp_context_canwait(&ctx) != 0) return; /* events are pending: poll them */
  FD_ZERO(&readable);
  FD_SET(fd, &readable);
  if (timeout_ms >= 0) {
    timeout.tv_sec = timeout_ms / 1000;
    timeout.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    limit = &timeout;
  }
  pselect(fd + 1, &readable, NULL, NULL, limit, unblocked);
  flextcp_context_waitclear(&ctx);
}

static int fail(const char *what) {
  fprintf(stderr, "echo_server: %s failed: %s\n", what, vtas_last_error()); /* vtas extension */
  return 1;
}

static void post_accept(void) {
  int i;
  if (accept_posted) return;
  for (i = 0; i < MAX_CONNS; i++) {
    if (conns[i].in_use) continue;
    /* The library initialises the flextcp_connection; the rest is ours. */
    conns[i].unechoed_off = conns[i].unechoed_len = conns[i].unreleased = 0;
    conns[i].rx_closed = conns[i].tx_closed = conns[i].tx_acked = conns[i].closing = 0;
    if (flextcp_listen_accept(&ctx, &listener, &conns[i].conn) != 0) {
      if (errno == EAGAIN) retry_soon = 1;
      else fail("flextcp_listen_accept");
      return;
    }
    conns[i].in_use = 1;
    accept_posted = 1;
    return;
  }
}

/* Copies `len` bytes at offset `off` of a circular buffer to `dst`. */
static void copy_from_ring(const uint8_t *ring, size_t ring_len, size_t off, uint8_t *dst,
                           size_t len) {
  size_t first = ring_len - off < len ? ring_len - off : len;
  memcpy(dst, ring + off, first);
  memcpy(dst + first, ring, len - first);
}

/* A call failed: a full queue (EAGAIN) is retried shortly, anything else is reported. */
static void retry_or_report(const char *what) {
  if (errno == EAGAIN) retry_soon = 1;
  else fail(what);
}

/* Echoes what fits, releases what was echoed, closes our side when the peer closed its. */
static void make_progress(struct echo_conn *c) {
  struct flextcp_connection *conn = &c->conn;

  if (c->closing) return;
  while (c->unechoed_len > 0 && flextcp_connection_tx_possible(&ctx, conn) == 0) {
    void *buf1, *buf2;
    size_t len1;
    ssize_t n = flextcp_connection_tx_alloc2(conn, c->unechoed_len, &buf1, &len1, &buf2);
    if (n <= 0) break; /* transmit buffer full: FLEXTCP_EV_CONN_SENDBUF will bring us back */
    copy_from_ring(conn->rxb_base, conn->rxb_len, c->unechoed_off, buf1, len1);
    if ((size_t)n > len1) {
      copy_from_ring(conn->rxb_base, conn->rxb_len, (c->unechoed_off + len1) % conn->rxb_len,
                     buf2, (size_t)n - len1);
    }
    if (flextcp_connection_tx_send(&ctx, conn, (size_t)n) != 0) { /* cannot: tx_possible */
      fail("flextcp_connection_tx_send");
      return;
    }
    c->unechoed_off = (c->unechoed_off + (size_t)n) % conn->rxb_len;
    c->unechoed_len -= (size_t)n;
    c->unreleased += (size_t)n;
  }
  if (c->unechoed_len > 0 && flextcp_connection_tx_possible(&ctx, conn) != 0) {
    retry_or_report("flextcp_connection_tx_possible");
  }
  if (c->unreleased > 0) {
    if (flextcp_connection_rx_done(&ctx, conn, c->unreleased) == 0) c->unreleased = 0;
    else retry_or_report("flextcp_connection_rx_done");
  }
  if (c->rx_closed && c->unechoed_len == 0 && c->unreleased == 0 && !c->tx_closed) {
    if (flextcp_connection_tx_close(&ctx, conn) == 0) c->tx_closed = 1;
    else retry_or_report("flextcp_connection_tx_close");
  }
}

static void close_conn(struct echo_conn *c) {
  if (c->closing) return;
  if (flextcp_connection_close(&ctx, &c->conn) == 0) c->closing = 1;
  else retry_or_report("flextcp_connection_close");
}

static void handle(const struct flextcp_event *ev) {
  struct echo_conn *c;
  switch (ev->event_type) {
    case FLEXTCP_EV_LISTEN_ACCEPT:
      c = (struct echo_conn *)ev->ev.listen_accept.conn;
      accept_posted = 0;
      if (ev->ev.listen_accept.status != 0) {
        c->in_use = 0;
      } else {
        printf("echo_server: connection from %u.%u.%u.%u:%u\n", c->conn.remote_ip >> 24,
               (c->conn.remote_ip >> 16) & 0xff, (c->conn.remote_ip >> 8) & 0xff,
               c->conn.remote_ip & 0xff, c->conn.remote_port);
        fflush(stdout);
      }
      post_accept();
      break;
    case FLEXTCP_EV_CONN_RECEIVED:
      c = (struct echo_conn *)ev->ev.conn_received.conn;
      if (c->unechoed_len == 0) {
        c->unechoed_off = (size_t)((uint8_t *)ev->ev.conn_received.buf - c->conn.rxb_base);
      }
      c->unechoed_len += ev->ev.conn_received.len;
      make_progress(c);
      break;
    case FLEXTCP_EV_CONN_SENDBUF:
      make_progress((struct echo_conn *)ev->ev.conn_sendbuf.conn);
      break;
    case FLEXTCP_EV_CONN_RXCLOSED:
      c = (struct echo_conn *)ev->ev.conn_rxclosed.conn;
      c->rx_closed = 1;
      make_progress(c);
      break;
    case FLEXTCP_EV_CONN_TXCLOSED:
      c = (struct echo_conn *)ev->ev.conn_txclosed.conn;
      c->tx_acked = 1;
      if (c->rx_closed) close_conn(c);
      break;
    case FLEXTCP_EV_CONN_RESET: /* vtas extension */
      close_conn((struct echo_conn *)ev->ev.conn_reset.conn);
      break;
    case FLEXTCP_EV_CONN_CLOSED:
      c = (struct echo_conn *)ev->ev.conn_closed.conn;
      c->in_use = 0;
      post_accept();
      break;
    default:
      break;
  }
}

int main(int argc, char *argv[]) {
  struct flextcp_event evs[EVENT_BATCH];
  struct sigaction sa;
  sigset_t stop_signals, unblocked;
  unsigned long port;
  char *end;
  int n, i, opened = 0;

  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  port = strtoul(argv[1], &end, 10);
  if (*argv[1] == '\0' || *end != '\0' || port == 0 || port > 65535) {
    fprintf(stderr, "echo_server: '%s' is not a port (1..65535)\n", argv[1]);
    return 2;
  }

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_signals, &unblocked);

  if (flextcp_init() != 0) return fail("flextcp_init");
  if (flextcp_context_create(&ctx) != 0) return fail("flextcp_context_create");
  if (flextcp_listen_open(&ctx, &listener, (uint16_t)port, 64, 0) != 0) {
    return fail("flextcp_listen_open");
  }

  while (!stop) {
    n = flextcp_context_poll(&ctx, EVENT_BATCH, evs);
    if (n < 0) return fail("flextcp_context_poll");
    for (i = 0; i < n; i++) {
      if (evs[i].event_type == FLEXTCP_EV_LISTEN_OPEN) {
        if (evs[i].ev.listen_open.status != 0) {
          fprintf(stderr, "echo_server: cannot listen on port %lu: %s\n", port,
                  strerror(-evs[i].ev.listen_open.status));
          return 1;
        }
        opened = 1;
        printf("echo_server: listening on port %lu\n", port);
        fflush(stdout);
        post_accept();
        continue;
      }
      handle(&evs[i]);
    }
    if (n > 0) continue;
    if (retry_soon) { /* a full queue drains by itself: look again shortly */
      retry_soon = 0;
      if (opened) post_accept();
      for (i = 0; i < MAX_CONNS; i++) {
        struct echo_conn *c = &conns[i];
        if (!c->in_use || c->conn.rxb_base == NULL) continue; /* free, or accept pending */
        make_progress(c);
        if (c->tx_acked && c->rx_closed) close_conn(c);
      }
      wait_for_events(1, &unblocked);
    } else {
      wait_for_events(-1, &unblocked);
    }
  }

  /* vtas extensions: leave cleanly (the service resets whatever is still open). */
  vtas_context_destroy(&ctx);
  vtas_fini();
  return 0;
}
