#!/usr/bin/env python3
"""The Linux side of the TCP integration tests: plain kernel sockets, run inside the peer's
network namespace. Every mode prints machine-readable lines the tests check.

  linux_peer.py echo-server PORT [--count N]       echo; "listening PORT", then per connection
                                                   "closed bytes=<n> sha256=<hex>"
  linux_peer.py sink-server PORT [--count N] [--stall-ms MS]
                                                   consume (after not reading for MS); same output
  linux_peer.py echo-client HOST PORT BYTES [--conns N]
                                                   send random bytes, check the echo; per conn
                                                   "echo ok|bad bytes=<n> sha256=<hex>"
  linux_peer.py source-client HOST PORT BYTES      send, shut down writing, read until EOF;
                                                   "sent bytes=<n> sha256=<hex>"
  linux_peer.py connect HOST PORT                  "connected" or "error <errno name>"
  linux_peer.py churn-client HOST PORT [--threads N] [--bytes B]
                                                   until SIGTERM: connect, send B bytes (64),
                                                   read the echo, close; "started" once the
                                                   first connection echoed; at the end
                                                   "churn conns=<n> errors=<e>" (and each error)
"""
import errno
import hashlib
import os
import signal
import socket
import sys
import threading
import time

CHUNK = 1 << 16


def serve(port, count, echo, stall_ms=0):
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("0.0.0.0", port))
    lst.listen(256)
    print(f"listening {port}", flush=True)
    lock = threading.Lock()

    def handle(conn):
        h = hashlib.sha256()
        total = 0
        if stall_ms:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            time.sleep(stall_ms / 1000)  # a slow reader: the sender sees a zero window
        with conn:
            while True:
                data = conn.recv(CHUNK)
                if not data:
                    break
                h.update(data)
                total += len(data)
                if echo:
                    conn.sendall(data)
        with lock:
            print(f"closed bytes={total} sha256={h.hexdigest()}", flush=True)

    threads = []
    served = 0
    while count == 0 or served < count:
        conn, _ = lst.accept()
        t = threading.Thread(target=handle, args=(conn,))
        t.start()
        threads.append(t)
        served += 1
    for t in threads:
        t.join()


def echo_client(host, port, nbytes, conns):
    results = [None] * conns
    start = time.time()

    def one(i):
        try:
            one_connection(i)
        except OSError as e:  # say what happened (a dead thread would leave only "None")
            results[i] = f"echo error {e!r} after {time.time() - start:.3f} s"

    def one_connection(i):
        data = os.urandom(nbytes)
        s = socket.create_connection((host, port), timeout=120)
        received = bytearray()

        def reader():
            while len(received) < nbytes:
                chunk = s.recv(CHUNK)
                if not chunk:
                    break
                received.extend(chunk)

        t = threading.Thread(target=reader)
        t.start()
        s.sendall(data)
        t.join()
        s.close()
        ok = bytes(received) == data
        results[i] = f"echo {'ok' if ok else 'bad'} bytes={len(received)} sha256={hashlib.sha256(data).hexdigest()}"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - start
    for r in results:
        print(r)
    print(f"summary seconds={elapsed:.3f} gbit_per_s={nbytes * conns * 8 / elapsed / 1e9:.3f}", flush=True)
    if any(r is None or not r.startswith("echo ok") for r in results):
        sys.exit(1)


def source_client(host, port, nbytes):
    s = socket.create_connection((host, port), timeout=120)
    h = hashlib.sha256()
    left = nbytes
    while left:
        chunk = os.urandom(min(CHUNK * 4, left))
        s.sendall(chunk)
        h.update(chunk)
        left -= len(chunk)
    s.shutdown(socket.SHUT_WR)
    while s.recv(CHUNK):
        pass
    s.close()
    print(f"sent bytes={nbytes} sha256={h.hexdigest()}", flush=True)


def connect(host, port):
    try:
        s = socket.create_connection((host, port), timeout=10)
        print("connected", flush=True)
        s.close()
    except OSError as e:
        print(f"error {errno.errorcode.get(e.errno, e.errno)}", flush=True)


def churn_client(host, port, threads, nbytes):
    """Short connections back to back, to keep handshakes and closes in flight all the time
    (the actor-kill suite kills conn under this load). Any failure is an error: a reset, a
    refused or timed-out connect, a wrong echo."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    lock = threading.Lock()
    counts = {"conns": 0}
    errors = []
    first = threading.Event()
    data = os.urandom(nbytes)

    def loop():
        while not stop.is_set():
            try:
                with socket.create_connection((host, port), timeout=30) as s:
                    s.sendall(data)
                    got = bytearray()
                    while len(got) < nbytes:
                        chunk = s.recv(CHUNK)
                        if not chunk:
                            break
                        got.extend(chunk)
                if bytes(got) != data:
                    raise ValueError(f"echo of {len(got)} bytes differs")
                with lock:
                    counts["conns"] += 1
                if not first.is_set():
                    first.set()
                    print("started", flush=True)
            except (OSError, ValueError) as e:
                with lock:
                    errors.append(f"error {e!r} at {time.time():.3f}")

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    for e in errors:
        print(e)
    print(f"churn conns={counts['conns']} errors={len(errors)}", flush=True)
    sys.exit(1 if errors else 0)


def main():
    a = sys.argv[1:]
    opt = lambda name, default: int(a[a.index(name) + 1]) if name in a else default
    if a[0] == "echo-server":
        serve(int(a[1]), opt("--count", 0), True)
    elif a[0] == "sink-server":
        serve(int(a[1]), opt("--count", 0), False, opt("--stall-ms", 0))
    elif a[0] == "echo-client":
        echo_client(a[1], int(a[2]), int(a[3]), opt("--conns", 1))
    elif a[0] == "source-client":
        source_client(a[1], int(a[2]), int(a[3]))
    elif a[0] == "connect":
        connect(a[1], int(a[2]))
    elif a[0] == "churn-client":
        churn_client(a[1], int(a[2]), opt("--threads", 2), opt("--bytes", 64))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
