#!/usr/bin/env python3
"""TCP benchmarks, vtas and Linux side by side in one run, reported as ratios (run as root).

  stack to stack (as the TAS paper compares):
      vtas client <-> vtas server over net_memif (two vtas instances, one fast-path core each)
      Linux client <-> Linux server over a veth pair (two namespaces, offloads off)
  interoperation:
      Linux client (namespace) -> vtas server (net_af_packet on a veth)
      Linux client (namespace) -> Linux server (namespace), same veth setup
Workloads: 64-byte request/response with 1 and 32 connections (requests/s, p50/p99/p99.9,
CPU per request from /proc/stat), bulk transfer (Gbit/s), and connections per second (a new
connection for each 64-byte request, closed by the client; latency from connect to response).
Sides are pinned: servers on CPU 0, clients on CPU 1 (both CPUs of this machine). Every cell
is min / median of --repeats.

  bench/tcp_bench.py [--build DIR] [--repeats 3] [--quick] [--only SETUP] [--workload LABEL]
                     [--fp-poll-us N] [--stats]
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# Instance directories on a memory filesystem, as /run is in production: on a disk, the
# shared-memory files there are written back and a rewritten page waits for the journal.
MEMORY_TMP = "/dev/shm" if os.path.isdir("/dev/shm") else None

SERVER_CPU, CLIENT_CPU = "0", "1"


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True)


def cpu_busy_seconds():
    """Total non-idle CPU time of the machine (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def parse(out):
    values = dict(re.findall(r"(\w+)=([\d.]+)", out))
    return {k: float(v) for k, v in values.items()}


class Namespaces:
    """Two namespaces joined by a veth pair (Linux <-> Linux), or one namespace with the other
    veth end left in this namespace for vtas's af_packet (Linux <-> vtas)."""

    def __init__(self, tag, vtas_end):
        self.tag, self.vtas_end = tag, vtas_end
        self.server_ns, self.client_ns = f"vtas-bs{tag}", f"vtas-bc{tag}"
        self.server_if, self.client_if = f"vtbs{tag}", f"vtbc{tag}"
        self.down()
        sh(f"ip link add {self.server_if} type veth peer name {self.client_if}")
        sh(f"ip netns add {self.client_ns}")
        sh(f"ip link set {self.client_if} netns {self.client_ns}")
        if not vtas_end:
            sh(f"ip netns add {self.server_ns}")
            sh(f"ip link set {self.server_if} netns {self.server_ns}")
        self.server_exec = "" if vtas_end else f"ip netns exec {self.server_ns} "
        self.client_exec = f"ip netns exec {self.client_ns} "
        if vtas_end:
            sh(f"sysctl -qw net.ipv6.conf.{self.server_if}.disable_ipv6=1")
        else:
            sh(f"{self.server_exec}ip addr add 10.79.{tag}.1/24 dev {self.server_if}")
        for ex, ifc in ((self.server_exec, self.server_if), (self.client_exec, self.client_if)):
            sh(f"{ex}ip link set {ifc} up")
            sh(f"{ex}ip link set lo up", check=False)
            sh(f"{ex}ethtool -K {ifc} tx off rx off tso off gso off gro off", check=False)
        sh(f"{self.client_exec}ip addr add 10.79.{tag}.2/24 dev {self.client_if}")
        # The connection-rate workload leaves thousands of TIME_WAIT sockets on the client:
        # with Linux's default port range connect() slows to tens of ms per call past ~11k of
        # them. A wide range (and TIME_WAIT reuse) keeps it measuring the stack, not the
        # port search. Namespace-local settings.
        sh(f'{self.client_exec}sysctl -qw net.ipv4.ip_local_port_range="1024 65535"')
        sh(f"{self.client_exec}sysctl -qw net.ipv4.tcp_tw_reuse=1")
        self.server_ip, self.client_ip = f"10.79.{tag}.1", f"10.79.{tag}.2"

    def down(self):
        for ns in (self.server_ns, self.client_ns):
            sh(f"ip netns del {ns}", check=False)
        sh(f"ip link del {self.server_if}", check=False)


class Vtas:
    """One vtas instance (fastpath, arp, timer, conn) pinned to a CPU."""

    def __init__(self, build, name, ip, device, eal_args, cpu):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix=f"vtas-bench-{name}-", dir=MEMORY_TMP)
        self.run_dir = os.path.join(self.dir, "run")
        manifest = os.path.join(self.dir, "m.txtpb")
        eal = "".join(f' eal_arg: "{a}"' for a in eal_args)
        with open(manifest, "w") as f:
            f.write(f'''instance: "{name}"
runtime_dir: "{self.run_dir}"
network {{ ip_addr: "{ip}/24" device: "{device}"{eal} }}
tas {{ fp_no_hugepages: true fp_poll_interval_tas: {FP_POLL_US} tcp_rxbuf_len: 262144 tcp_txbuf_len: 262144 }}
actor {{ name: "fastpath" kind: "fastpath" }}
actor {{ name: "arp" kind: "arp" }}
actor {{ name: "timer" kind: "timer" }}
actor {{ name: "conn" kind: "conn" }}
''')
        r, w = os.pipe()
        # Its log (info level) goes to a file, shown if a measurement fails.
        self.log = os.path.join(self.dir, "vtas.log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(["taskset", "-c", cpu, os.path.join(build, "bin", "vtas"),
                                          "--manifest", manifest, f"--ready-fd={w}"],
                                         pass_fds=(w,), stdout=log, stderr=log)
        os.close(w)
        ready = os.read(r, 8)
        os.close(r)
        if len(ready) != 8:
            self.stop()
            sys.exit(f"vtas {name} did not start")
        self.env = dict(os.environ, VTAS_RUNTIME_DIR=self.run_dir)

    def tail(self, lines=40):
        with open(self.log, errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def stop(self):
        if PRINT_STATS:  # --stats: what each instance counted, for looking into a slow run
            subprocess.run([os.path.join(self.build, "bin", "vtasctl"), "--runtime-dir", self.run_dir,
                            "stats"], check=False, stdout=sys.stderr)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


LIVE_VTAS = {}  # the vtas instances running now, by key
FP_POLL_US = 1000  # --fp-poll-interval-tas of every vtas instance (--fp-poll-us)
PRINT_STATS = False  # --stats


def run_pair(server_cmd, client_cmd, server_env=None, client_env=None):
    """Starts the server, waits for 'listening', runs the client; returns (client output, CPU s)."""
    # exec: the shell becomes the server, so waiting for it below waits for the server itself.
    # A server still shutting down keeps its listener (and its posted accepts) in the port's
    # reuseport group: the next run's connections would be handed to it and reset.
    server = subprocess.Popen("exec " + server_cmd, shell=True, env=server_env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    line = server.stdout.readline()
    if "listening" not in line:
        server.kill()
        sys.exit(f"server did not start: {server_cmd}: {line!r} {server.stderr.read()}")
    # Keep reading what the server prints (a line per closed connection): a full pipe would
    # block it in write() -- the connection-rate workload stalled after ~745 connections.
    threading.Thread(target=server.stdout.read, daemon=True).start()
    busy0 = cpu_busy_seconds()
    client = subprocess.run(client_cmd, shell=True, env=client_env, capture_output=True, text=True,
                            timeout=300)
    busy = cpu_busy_seconds() - busy0
    os.killpg(server.pid, signal.SIGTERM)  # the whole group: the shell and the server under it
    server.wait()
    if client.returncode != 0:
        logs = "".join(f"---- {v.log} (last lines) ----\n{v.tail()}" for v in LIVE_VTAS.values())
        sys.exit(f"client failed: {client_cmd}\n{client.stdout}{client.stderr}{logs}")
    return client.stdout, busy


WORKLOADS = [  # (label, client arguments, kind)
    ("RPC 64 B, 1 connection", "--requests 20000 --size 64 --conns 1", "rpc"),
    ("RPC 64 B, 32 connections", "--requests 100000 --size 64 --conns 32", "rpc"),
    ("bulk 256 MiB", "--bytes 268435456", "bulk"),
    # A new connection per request, closed by the client (its side keeps TIME_WAIT), 16 at a
    # time: handshake + request + close, i.e. connections per second.
    ("connections/s, 16 at a time, 64 B request each", "--handshakes 5000 --size 64 --conns 16", "rpc"),
]


def measure(setups, stop, build, repeats, quick, workload_filter=None):
    """setups: name -> (start its vtas instances, run one workload); stop() ends the instances."""
    tool_v = os.path.join(build, "bin", "vtas_ll_tool")
    tool_k = os.path.join(build, "bin", "kernel_tcp_tool")
    results = {}
    for name, (start, setup) in setups.items():
        start()
        for label, args, kind in WORKLOADS:
            if workload_filter and workload_filter not in label:
                continue
            if quick:
                args = (args.replace("20000", "5000").replace("100000", "20000")
                        .replace("268435456", "67108864").replace("--handshakes 5000", "--handshakes 1000"))
            runs = []
            for _ in range(repeats):
                out, busy = setup(tool_v, tool_k, args, kind)
                v = parse(out)
                if kind == "rpc":
                    runs.append({"rate": v["per_s"], "p50": v["p50_us"], "p99": v["p99_us"],
                                 "p999": v.get("p999_us", 0), "cpu_us": busy / v["requests"] * 1e6})
                else:
                    runs.append({"gbps": v["gbit_per_s"]})
            results[(name, label)] = runs
        stop()
    return results


def summary(runs, key, higher_better=True):
    vals = [r[key] for r in runs]
    return (max(vals) if higher_better else min(vals)), statistics.median(vals)


def main():
    global FP_POLL_US, PRINT_STATS
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="smaller workloads")
    p.add_argument("--only", help="measure only the setups whose name contains this text "
                   "(e.g. memif, af_packet); the ratio table then needs linux-linux too")
    p.add_argument("--workload", help="measure only the workloads whose label contains this text "
                   "(e.g. RPC, bulk, connections)")
    p.add_argument("--fp-poll-us", type=int, default=FP_POLL_US,
                   help="the fast path's poll interval before it sleeps (--fp-poll-interval-tas)")
    p.add_argument("--stats", action="store_true",
                   help="print each vtas instance's `vtasctl stats` to stderr before stopping it")
    a = p.parse_args()
    FP_POLL_US = a.fp_poll_us
    PRINT_STATS = a.stats
    if os.geteuid() != 0:
        sys.exit("run as root (namespaces, DPDK)")

    cleanup = []
    try:
        # Linux <-> Linux over a veth pair.
        linux = Namespaces("1", vtas_end=False)
        cleanup.append(linux.down)

        def linux_setup(tool_v, tool_k, args, kind):
            mode = "--sink" if kind == "bulk" else ""
            return run_pair(f"{linux.server_exec}taskset -c {SERVER_CPU} {tool_k} serve 7000 {mode}",
                            f"{linux.client_exec}taskset -c {CLIENT_CPU} {tool_k} connect {linux.server_ip} 7000 {args}")

        # Each setup's vtas instances run only while that setup is measured: memif has no RX
        # interrupt, so an idle memif fast path keeps polling and would take CPU from the other
        # setups (the interop case crawled at ~300 requests/s beside them).
        live = LIVE_VTAS

        def start_vtas(*instances):
            for key, args in instances:
                live[key] = Vtas(a.build, *args)
                cleanup.append(live[key].stop)

        def stop_vtas():
            for v in live.values():
                v.stop()
            live.clear()

        # vtas <-> vtas over net_memif.
        sock = f"/tmp/vtas-bench-memif-{os.getpid()}.sock"

        def start_memif():
            start_vtas(("a", ("bencha", "10.80.0.1", f"net_memif0,role=server,socket={sock}",
                              ["--file-prefix=vtas-bencha", "--no-huge", "-m", "512"], SERVER_CPU)),
                       ("b", ("benchb", "10.80.0.2", f"net_memif0,role=client,socket={sock}",
                              ["--file-prefix=vtas-benchb", "--no-huge", "-m", "512"], CLIENT_CPU)))

        def memif_setup(tool_v, tool_k, args, kind):
            mode = "--sink" if kind == "bulk" else "--echo"
            return run_pair(f"taskset -c {SERVER_CPU} {tool_v} serve 7000 {mode}",
                            f"taskset -c {CLIENT_CPU} {tool_v} connect 10.80.0.1 7000 {args}",
                            live["a"].env, live["b"].env)

        # Linux client -> vtas server on af_packet.
        interop = Namespaces("2", vtas_end=True)
        cleanup.append(interop.down)

        def start_interop():
            start_vtas(("i", ("benchi", interop.server_ip,
                              f"net_af_packet0,iface={interop.server_if}", [], SERVER_CPU)))

        def interop_setup(tool_v, tool_k, args, kind):
            mode = "--sink" if kind == "bulk" else "--echo"
            return run_pair(f"taskset -c {SERVER_CPU} {tool_v} serve 7000 {mode}",
                            f"{interop.client_exec}taskset -c {CLIENT_CPU} {tool_k} connect {interop.server_ip} 7000 {args}",
                            live["i"].env)

        setups = {"linux-linux": (lambda: None, linux_setup),
                  "vtas-vtas (memif)": (start_memif, memif_setup),
                  "linux->vtas (af_packet)": (start_interop, interop_setup)}
        if a.only:
            setups = {k: v for k, v in setups.items() if a.only in k}
        results = measure(setups, stop_vtas, a.build, a.repeats, a.quick, a.workload)
    finally:
        for c in reversed(cleanup):
            c()

    uname = os.uname()
    print(f"# TCP benchmarks ({time.strftime('%Y-%m-%d')}, {uname.nodename}, {os.cpu_count()} CPUs, "
          f"kernel {uname.release}; servers pinned to CPU {SERVER_CPU}, clients to CPU {CLIENT_CPU}; "
          f"best / median of {a.repeats})\n")
    print("| workload | setup | requests/s | p50 us | p99 us | p99.9 us | CPU us/request | Gbit/s |")
    print("|---|---|---|---|---|---|---|---|")
    for (name, label), runs in results.items():
        if "gbps" in runs[0]:
            g = summary(runs, "gbps")
            print(f"| {label} | {name} | | | | | | {g[0]:.2f} / {g[1]:.2f} |")
        else:
            r, p50, p99 = summary(runs, "rate"), summary(runs, "p50", False), summary(runs, "p99", False)
            p999, cpu = summary(runs, "p999", False), summary(runs, "cpu_us", False)
            print(f"| {label} | {name} | {r[0]:,.0f} / {r[1]:,.0f} | {p50[0]:.1f} / {p50[1]:.1f} | "
                  f"{p99[0]:.1f} / {p99[1]:.1f} | {p999[0]:.1f} / {p999[1]:.1f} | {cpu[0]:.1f} / {cpu[1]:.1f} | |")
    print("\nRatios (median vtas / median Linux; > 1 is better for vtas on rates, < 1 on latency and CPU):\n")
    print("| workload | comparison | throughput | p50 | p99 | CPU/request |")
    print("|---|---|---|---|---|---|")
    for vname, lname, title in (("vtas-vtas (memif)", "linux-linux", "stack to stack"),
                                ("linux->vtas (af_packet)", "linux-linux", "interoperation")):
        for label, _, kind in WORKLOADS:
            if (vname, label) not in results or (lname, label) not in results:
                continue
            v, l = results[(vname, label)], results[(lname, label)]
            if kind == "bulk":
                print(f"| {label} | {title} | {summary(v, 'gbps')[1] / summary(l, 'gbps')[1]:.2f} | | | |")
            else:
                ratio = lambda k, hb=False: summary(v, k, hb)[1] / summary(l, k, hb)[1]
                print(f"| {label} | {title} | {ratio('rate', True):.2f} | {ratio('p50'):.2f} | "
                      f"{ratio('p99'):.2f} | {ratio('cpu_us'):.2f} |")


if __name__ == "__main__":
    main()
