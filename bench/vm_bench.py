#!/usr/bin/env python3
"""The VM path against the host path, side by side in one run (run as root).

The same RPC echo client (tests/apps/vtas_ll_tool, libvtas) talks to a Linux echo server in a
namespace through one vtas instance (fastpath, arp, timer, conn, proxy-host):
  host  the app attaches to vtas directly (<runtime_dir>/app.sock);
  VM    the app attaches to vtas-proxy-guest in client mode, which is attached to the host proxy
        over its ivshmem socket (the protocol QEMU speaks): the app's queues and buffers live
        in the "VM"'s region; the app's wake-ups go fast path -> VM interrupt -> guest proxy ->
        app, one hop more than on the host. No QEMU in the path: this measures the proxies'
        cost, not the virtualisation's.
Runs alternate host / VM so drift hits both. Sides are pinned: the fast path and the Linux
server on CPU 0, the app (and the guest proxy) on CPU 1; the proxy-host actor once on each CPU
(it is not on the wake-up path, so its placement should not matter). Every cell is the median
of --repeats; VM/host for requests/s should be >= 0.90, for latency <= 1.10 (the goal: within
10%). On a shared machine, look at p50: the tails and hence requests/s move with the load.

  bench/vm_bench.py [--build DIR] [--repeats 5] [--quick]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

# Instance directories on a memory filesystem, as /run is in production: on a disk, the
# shared-memory files there are written back and a rewritten page waits for the journal.
MEMORY_TMP = "/dev/shm" if os.path.isdir("/dev/shm") else None

VTAS_CPU, APP_CPU = "0", "1"

WORKLOADS = [  # (label, vtas_ll_tool connect arguments)
    ("RPC 64 B, 1 connection", "--requests 20000 --size 64 --conns 1"),
    ("RPC 64 B, 8 connections", "--requests 50000 --size 64 --conns 8"),
    ("RPC 1 KiB, 1 connection", "--requests 20000 --size 1024 --conns 1"),
]


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True)


def parse(out):
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", out)}


class Network:
    """A namespace with the Linux peer; the other veth end stays here for vtas's af_packet."""

    def __init__(self):
        tag = str(os.getpid() % 1000)
        self.ns, self.vtas_if, self.peer_if = f"vtas-vmb{tag}", f"vtvb{tag}", f"vtvp{tag}"
        self.vtas_ip, self.peer_ip = "10.81.0.1", "10.81.0.2"
        self.down()
        sh(f"ip netns add {self.ns}")
        sh(f"ip link add {self.vtas_if} type veth peer name {self.peer_if}")
        sh(f"ip link set {self.peer_if} netns {self.ns}")
        sh(f"sysctl -qw net.ipv6.conf.{self.vtas_if}.disable_ipv6=1")
        sh(f"ip link set {self.vtas_if} up")
        sh(f"ip netns exec {self.ns} ip link set lo up")
        sh(f"ip netns exec {self.ns} ip addr add {self.peer_ip}/24 dev {self.peer_if}")
        sh(f"ip netns exec {self.ns} ip link set {self.peer_if} up")
        sh(f"ethtool -K {self.vtas_if} tx off rx off tso off gso off gro off", check=False)
        sh(f"ip netns exec {self.ns} ethtool -K {self.peer_if} tx off rx off tso off gso off gro off", check=False)

    def down(self):
        sh(f"ip netns del {self.ns}", check=False)
        sh(f"ip link del {self.vtas_if}", check=False)


class Vtas:
    """vtas with the host proxy (manifests/vm-host.txtpb on this network), the fast path on VTAS_CPU."""

    def __init__(self, build, net):
        self.dir = tempfile.mkdtemp(prefix="vtas-vmbench-", dir=MEMORY_TMP)
        self.run_dir = os.path.join(self.dir, "run")
        manifest = os.path.join(self.dir, "m.txtpb")
        with open(manifest, "w") as f:
            f.write(f'''instance: "vmbench"
supervision {{ heartbeat_interval_ms: 500 heartbeat_timeout_ms: 60000 }}
runtime_dir: "{self.run_dir}"
network {{ ip_addr: "{net.vtas_ip}/24" device: "net_af_packet0,iface={net.vtas_if}" }}
tas {{ fp_no_hugepages: true fp_poll_interval_tas: 1000 tcp_rxbuf_len: 262144 tcp_txbuf_len: 262144 }}
actor {{ name: "fastpath" kind: "fastpath" }}
actor {{ name: "arp" kind: "arp" }}
actor {{ name: "timer" kind: "timer" }}
actor {{ name: "conn" kind: "conn" }}
actor {{ name: "proxy-host" kind: "proxy-host" }}
''')
        r, w = os.pipe()
        # Only the fast path is pinned (pin_actor, after start): the supervisor and the slow path
        # stay free to run anywhere, so a busy machine delays their heartbeats less.
        self.proc = subprocess.Popen([os.path.join(build, "bin", "vtas"),
                                      "--manifest", manifest, "--quiet", f"--ready-fd={w}"], pass_fds=(w,))
        os.close(w)
        ready = os.read(r, 8)
        os.close(r)
        if len(ready) != 8:
            self.stop()
            sys.exit("vtas did not start")

    def pin_actor(self, build, actor, cpu):
        """Moves one actor process (all its threads) to `cpu`."""
        status = subprocess.run([os.path.join(build, "bin", "vtasctl"), "--runtime-dir", self.run_dir, "--json",
                                 "status"], capture_output=True, text=True, check=True).stdout
        pid = next(int(a["pid"]) for a in json.loads(status)["actors"] if a["name"] == actor)
        sh(f"taskset -a -p -c {cpu} {pid}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class GuestProxy:
    """vtas-proxy-guest in client mode: the "VM" (pinned with the app, as a VM's vCPU would be)."""

    def __init__(self, build, vtas):
        self.run_dir = os.path.join(vtas.dir, "vm1")
        os.makedirs(self.run_dir)
        r, w = os.pipe()
        self.proc = subprocess.Popen(["taskset", "-c", APP_CPU, os.path.join(build, "bin", "vtas-proxy-guest"),
                                      "--client", os.path.join(vtas.run_dir, "ivshmem.sock"),
                                      "--runtime-dir", self.run_dir, "--ready-fd", str(w)],
                                     pass_fds=(w,), stdout=subprocess.DEVNULL)
        os.close(w)
        ready = os.read(r, 1)
        os.close(r)
        if not ready:
            self.stop()
            sys.exit("vtas-proxy-guest did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def rpc(tool, runtime_dir, net, args):
    env = dict(os.environ, VTAS_RUNTIME_DIR=runtime_dir)
    r = subprocess.run(["taskset", "-c", APP_CPU, tool, "connect", net.peer_ip, "7000"] + args.split(),
                       env=env, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        sys.exit(f"client failed ({runtime_dir}): {r.stdout}{r.stderr}")
    v = parse(r.stdout)
    return {"rate": v["per_s"], "p50": v["p50_us"], "p99": v["p99_us"]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="fewer requests")
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (namespaces, DPDK)")
    tool = os.path.join(a.build, "bin", "vtas_ll_tool")
    kernel_tool = os.path.join(a.build, "bin", "kernel_tcp_tool")
    for binary in (tool, kernel_tool, os.path.join(a.build, "bin", "vtas-proxy-guest")):
        if not os.path.exists(binary):
            sys.exit(f"{binary} missing: ninja -C {a.build} vtas vtas_ll_tool kernel_tcp_tool vtas-proxy-guest")

    net = Network()
    vtas = guest = server = None
    try:
        vtas = Vtas(a.build, net)
        vtas.pin_actor(a.build, "fastpath", VTAS_CPU)
        guest = GuestProxy(a.build, vtas)
        server = subprocess.Popen(f"ip netns exec {net.ns} taskset -c {VTAS_CPU} {kernel_tool} serve 7000 --echo",
                                  shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True)
        if "listening" not in server.stdout.readline():
            sys.exit(f"the Linux echo server did not start: {server.stderr.read()}")
        placements = [("proxy-host on CPU 0, with the busy-polling fast path", VTAS_CPU),
                      ("proxy-host on CPU 1, with the app", APP_CPU)]
        for title, cpu in placements:
            vtas.pin_actor(a.build, "proxy-host", cpu)
            rows = []
            for label, args in WORKLOADS:
                if a.quick:
                    args = args.replace("20000", "5000").replace("50000", "10000")
                host, vm = [], []
                for _ in range(a.repeats):
                    host.append(rpc(tool, vtas.run_dir, net, args))
                    vm.append(rpc(tool, guest.run_dir, net, args))
                med = lambda runs, k: statistics.median(r[k] for r in runs)
                rows.append((label, med(host, "rate"), med(vm, "rate"), med(host, "p50"), med(vm, "p50"),
                             med(host, "p99"), med(vm, "p99")))
            print(f"\n{title}: VM path (vtas-proxy-guest, client mode) against the host path, median of "
                  f"{a.repeats}; Linux echo server in a namespace over net_af_packet\n")
            print("| workload | host req/s | VM req/s | VM/host | host p50 us | VM p50 us | VM/host | "
                  "host p99 us | VM p99 us | VM/host |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for label, hr, vr, h50, v50, h99, v99 in rows:
                print(f"| {label} | {hr:.0f} | {vr:.0f} | {vr / hr:.3f} | {h50:.1f} | {v50:.1f} | {v50 / h50:.3f} | "
                      f"{h99:.1f} | {v99:.1f} | {v99 / h99:.3f} |")
            sys.stdout.flush()
    finally:
        if server:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()
        if guest:
            guest.stop()
        if vtas:
            vtas.stop()
        net.down()


if __name__ == "__main__":
    main()
