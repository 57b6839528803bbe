#!/usr/bin/env python3
"""The Linux side of the many-connections suite: opens N TCP connections to vtas (spread over
several destination ports and source addresses, so there are enough 4-tuples), sends a small
message on each and checks the echo, holds them all, then closes them all. One process, epoll,
non-blocking sockets. Prints machine-readable lines:

  many_conns_peer.py HOST PORTS SOURCES N MSG_BYTES RELEASE_FILE
      PORTS and SOURCES are comma-separated. At most 64 handshakes per worker are in flight
      (a few hundred in all: a burst of thousands of SYNs overflows the fast path's exception
      ring, which drops frames by design and leaves the rest to SYN retransmissions).
      After 512 failures in a row a worker stops opening more (vtas is at a limit) and counts
      the rest as failed, so the suite ends in seconds instead of waiting out every SYN.
      "progress established=<n> seconds=<s>"  every 10,000
      "established=<n> failed=<n> echo_bad=<n> seconds=<s> per_s=<rate>"  once all are up
      then waits until RELEASE_FILE exists, closes everything and prints
      "closed=<n> seconds=<s>"
  The open-files limit here is 20,000 and cannot be raised (no CAP_SYS_RESOURCE), so the
  connections are split over worker processes of at most 18,000 each; the parent sums their
  results.
"""
import errno
import os
import resource
import select
import socket
import sys
import time

IP_BIND_ADDRESS_NO_PORT = 24
IN_FLIGHT = 64      # handshakes in flight per worker
GIVE_UP_AFTER = 512  # consecutive failures: vtas takes no more; the rest count as failed


PER_WORKER = 18000


def worker(host, ports, sources, first, n, msg_bytes, release, report):
    """Connections first .. first+n-1; results as lines on the `report` file descriptor."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    out = os.fdopen(report, "w", buffering=1)
    ep = select.epoll()
    socks = {}       # fd -> (socket, index)
    state = {}       # fd -> "connecting" | "echo" | "held"
    received = {}    # fd -> bytes received so far
    started = established = failed = echo_bad = streak = 0
    connecting = 0
    t0 = time.time()

    def message(i):
        return (f"{i:012d}".encode() * (msg_bytes // 12 + 1))[:msg_bytes]

    def open_one(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((sources[i % len(sources)], 0))
        s.setblocking(False)
        try:
            s.connect((host, ports[i % len(ports)]))
        except BlockingIOError:
            pass
        fd = s.fileno()
        socks[fd] = (s, i)
        state[fd] = "connecting"
        received[fd] = b""
        ep.register(fd, select.EPOLLOUT)

    last_progress = 0
    while established + failed < n:
        if streak >= GIVE_UP_AFTER and started < n:
            print(f"giving up after {streak} failures in a row: {n - started} not attempted", file=sys.stderr)
            failed += n - started
            started = n
        while started < n and connecting < IN_FLIGHT:
            open_one(first + started)
            started += 1
            connecting += 1
        for fd, ev in ep.poll(1.0):
            s, i = socks[fd]
            if state[fd] == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    print(f"connect error {errno.errorcode.get(err, err)} conn={i}", file=sys.stderr)
                    failed += 1
                    streak += 1
                    connecting -= 1
                    ep.unregister(fd)
                    s.close()
                    del socks[fd]
                    continue
                try:
                    s.send(message(i))
                except OSError as e:
                    print(f"send error {e} conn={i}", file=sys.stderr)
                    failed += 1
                    streak += 1
                    connecting -= 1
                    ep.unregister(fd)
                    s.close()
                    del socks[fd]
                    continue
                state[fd] = "echo"
                ep.modify(fd, select.EPOLLIN)
            elif state[fd] == "echo":
                try:
                    data = s.recv(msg_bytes)
                except OSError as e:
                    print(f"recv error {e} conn={i}", file=sys.stderr)
                    data = b""
                if not data:
                    echo_bad += 1
                    failed += 1
                    streak += 1
                    connecting -= 1
                    ep.unregister(fd)
                    s.close()
                    del socks[fd]
                    continue
                received[fd] += data
                if len(received[fd]) >= msg_bytes:
                    if received[fd] != message(i):
                        echo_bad += 1
                    streak = 0
                    state[fd] = "held"
                    received[fd] = b""
                    established += 1
                    connecting -= 1
                    ep.unregister(fd)
                    if established - last_progress >= 10000:
                        last_progress = established
                        print(f"progress established={established} seconds={time.time() - t0:.1f}", file=out)
        if time.time() - t0 > 3600:
            break
    print(f"up established={established} failed={failed} echo_bad={echo_bad}", file=out)
    while not os.path.exists(release):
        time.sleep(0.1)
    closed = 0
    for fd, (s, i) in list(socks.items()):
        s.close()
        closed += 1
    print(f"down closed={closed}", file=out)


def main():
    host, ports, sources = sys.argv[1], [int(p) for p in sys.argv[2].split(",")], sys.argv[3].split(",")
    n, msg_bytes, release = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    t0 = time.time()
    readers, pids = [], []
    for first in range(0, n, PER_WORKER):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                worker(host, ports, sources, first, min(PER_WORKER, n - first), msg_bytes, release, w)
            except Exception:  # noqa: BLE001 -- any failure must reach the test, not vanish
                import traceback
                traceback.print_exc()
                os.write(w, b"up established=0 failed=%d echo_bad=0\ndown closed=0\n" % min(PER_WORKER, n - first))
            finally:
                os._exit(0)
        os.close(w)
        readers.append(os.fdopen(r))
        pids.append(pid)

    def sum_of(kind, keys):
        """Reads each worker's line starting with `kind` (skipping progress) and sums `keys`."""
        totals = dict.fromkeys(keys, 0)
        for f in readers:
            for line in f:
                if line.startswith("progress"):
                    print(line.strip(), flush=True)
                    continue
                if line.startswith(kind):
                    kv = dict(p.split("=") for p in line.split()[1:])
                    for k in keys:
                        totals[k] += int(kv.get(k, 0))
                    break
        return totals

    up = sum_of("up", ("established", "failed", "echo_bad"))
    elapsed = time.time() - t0
    print(f"established={up['established']} failed={up['failed']} echo_bad={up['echo_bad']} "
          f"seconds={elapsed:.1f} per_s={up['established'] / elapsed:.0f} workers={len(pids)}", flush=True)
    t1 = time.time()
    down = sum_of("down", ("closed",))
    for pid in pids:
        os.waitpid(pid, 0)
    print(f"closed={down['closed']} seconds={time.time() - t1:.1f}", flush=True)


if __name__ == "__main__":
    main()
