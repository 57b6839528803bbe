#!/usr/bin/env python3
"""Control-plane benchmark: request/response round trips between two actors over inproc://
(both threads of the supervisor process) and ipc:// (two actor processes), measured by the
diag-pinger's ping_burst on a running `vtas` instance.

Usage: bench/control_bench.py [--build DIR] [--count N] [--repeats R]
Prints a Markdown table (min / median of R runs). Not a test: numbers, not verdicts.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

# Instance directories on a memory filesystem, as /run is in production: on a disk, the
# shared-memory files there are written back and a rewritten page waits for the journal.
MEMORY_TMP = "/dev/shm" if os.path.isdir("/dev/shm") else None

MANIFEST = """instance: "bench{tag}"
runtime_dir: "{run}"
supervision {{ heartbeat_interval_ms: 100 }}
actor {{ name: "echo" kind: "diag-echo" placement: {placement} }}
actor {{ name: "pinger" kind: "diag-pinger" placement: {placement} diag {{ peer: "echo" rate_hz: 0 }} }}
"""


def run_burst(vtasctl, run, count, window):
    out = subprocess.run([vtasctl, "--runtime-dir", run, "--json", "--timeout", "120000", "call",
                          "pinger", "ping_burst", f"count: {count} window: {window}"],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)["ping_burst_result"]
    elapsed = int(r["elapsed_ns"]) / 1e9
    return {"rate": int(r["answered"]) / elapsed, "p50": int(r["rtt_p50_ns"]) / 1e3,
            "p99": int(r["rtt_p99_ns"]) / 1e3, "lost": int(r.get("lost", 0))}


def measure(build, placement, count, repeats):
    vtas = os.path.join(build, "bin", "vtas")
    vtasctl = os.path.join(build, "bin", "vtasctl")
    with tempfile.TemporaryDirectory(prefix="vtas-bench-", dir=MEMORY_TMP) as tmp:
        run = os.path.join(tmp, "run")
        manifest = os.path.join(tmp, "m.txtpb")
        with open(manifest, "w") as f:
            f.write(MANIFEST.format(tag=os.getpid(), run=run, placement=placement))
        r, w = os.pipe()
        proc = subprocess.Popen([vtas, "--manifest", manifest, "--quiet", f"--ready-fd={w}"],
                                pass_fds=(w,))
        os.close(w)
        ready = os.read(r, 8)
        os.close(r)
        if len(ready) != 8:
            proc.kill()
            sys.exit(f"vtas did not become ready ({placement})")
        try:
            results = {}
            for window in (1, 32):
                runs = [run_burst(vtasctl, run, count, window) for _ in range(repeats)]
                results[window] = runs
            return results
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def summarize(runs, key):
    values = [r[key] for r in runs]
    return min(values), statistics.median(values)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    print(f"# Control-plane round trips ({a.count} requests per run, min / median of {a.repeats})\n")
    print("| transport | outstanding | requests/s | p50 (us) | p99 (us) |")
    print("|---|---|---|---|---|")
    for label, placement in (("inproc (threads)", "PLACEMENT_THREAD"),
                             ("ipc (processes)", "PLACEMENT_PROCESS")):
        results = measure(a.build, placement, a.count, a.repeats)
        for window, runs in results.items():
            rate_min, rate_med = summarize(runs, "rate")
            p50_min, p50_med = summarize(runs, "p50")
            p99_min, p99_med = summarize(runs, "p99")
            print(f"| {label} | {window} | {rate_min:,.0f} / {rate_med:,.0f} | "
                  f"{p50_min:.1f} / {p50_med:.1f} | {p99_min:.1f} / {p99_med:.1f} |")


if __name__ == "__main__":
    main()
