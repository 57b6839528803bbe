#!/usr/bin/env python3
"""Turns the raw outputs of bench/run_all.sh (one Markdown table per benchmark and run, in
bench/report/last-run/) into docs/benchmarks.md and PNG charts in docs/img/.

Every number in the report is the median over the runs with the spread (min-max) next to it;
ratios are vtas / Linux of the medians. Called by run_all.sh; can be re-run by hand on kept
outputs:

  bench/report/make_report.py --runs-dir bench/report/last-run --out docs/benchmarks.md --img-dir docs/img
"""
import argparse
import glob
import os
import re
import statistics
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import charts  # noqa: E402  (next to this file)
import tables  # noqa: E402


def read(path):
    with open(path) as f:
        return f.read()


def runs_of(runs_dir, name):
    """Outputs of every successful run of benchmark `name`, in run order."""
    ok = {}
    noise = os.path.join(runs_dir, "noise.txt")
    if os.path.exists(noise):
        for line in read(noise).splitlines():
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            ok[(kv.get("name"), kv.get("run"))] = kv.get("rc") == "0"
    out = []
    for path in sorted(glob.glob(os.path.join(runs_dir, f"{name}.*.md")),
                       key=lambda p: int(p.rsplit(".", 2)[1])):
        run = path.rsplit(".", 2)[1]
        if ok.get((name, run), True):
            out.append(read(path))
    return out


def machine_section(runs_dir):
    m = {}
    path = os.path.join(runs_dir, "machine.txt")
    if os.path.exists(path):
        m = dict(line.split("=", 1) for line in read(path).splitlines() if "=" in line)
    lines = ["## Machine and noise", "",
             f"- {m.get('date', '?')}, host {m.get('host', '?')}, {m.get('cpu', '?')}, "
             f"{m.get('cpus', '?')} CPUs, {m.get('memory_gib', '?')} GiB, Linux {m.get('kernel', '?')}, "
             f"vtas {m.get('commit', '?')}",
             f"- every benchmark ran {m.get('runs', '?')} times, interleaved (run 1 of all, then run 2, ...); "
             "cells show **median [min-max]** over the runs" +
             (" -- **quick mode: small workloads, not numbers to publish**" if m.get("quick") not in (None, "no") else ""),
             "- this machine is shared (other engineers build and test on it): the load average before and "
             "after each run is below; wide spreads mean a busy machine, not a noisy stack", ""]
    noise = os.path.join(runs_dir, "noise.txt")
    loads = []
    if os.path.exists(noise):
        for line in read(noise).splitlines():
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            try:
                loads.append(float(kv.get("load_before", "")))
            except ValueError:
                pass
    try:
        cpus = int(m.get("cpus", "0"))
    except ValueError:
        cpus = 0
    # The benchmarks keep every CPU busy themselves (the load sampled before a run still holds
    # the previous run's): a load up to one above the CPU count is their own.
    if loads and cpus and statistics.median(loads) > cpus + 1:
        lines += [f"**Warning: the machine was overloaded during these runs** (median load average "
                  f"{statistics.median(loads):.1f} on {cpus} CPUs, more than the benchmarks themselves make: other work ran on the machine). "
                  "Both sides of every comparison suffered, but unevenly: vtas's fast path polls and "
                  "yields, so it loses more to CPU contention than the kernel does. Treat the ratios below "
                  "as a smoke test of the pipeline, and re-run `bench/run_all.sh` on a quiet machine "
                  "before quoting any of them.", ""]
    if os.path.exists(noise):
        lines += ["| benchmark | run | seconds | load before | load after | exit |", "|---|---:|---:|---:|---:|---:|"]
        for line in read(noise).splitlines():
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            lines.append(f"| {kv.get('name')} | {kv.get('run')} | {kv.get('seconds')} | {kv.get('load_before')} | "
                         f"{kv.get('load_after')} | {kv.get('rc')} |")
        lines.append("")
    return lines


def tcp_section(outputs, img_dir):
    if not outputs:
        return ["## TCP (bench/tcp_bench.py)", "", "_not run or every run failed_", ""], {}
    # Per run: {(workload, setup): {column: value}}; cells are "best / median" of one repeat.
    merged = tables.merge_runs([tables.keyed(tables.first_table(o), 2, last_number=True) for o in outputs])
    cols = ["requests/s", "p50 us", "p99 us", "p99.9 us", "CPU us/request", "Gbit/s"]
    lines = ["## TCP: RPC echo, bulk and connection rate (bench/tcp_bench.py)", "",
             "Stack to stack: vtas client and server over net_memif vs Linux over a veth pair. "
             "Interoperation: Linux client to a vtas server on net_af_packet (the embedded default). "
             "Servers pinned to CPU 0, clients to CPU 1. The connection-rate workload opens a new "
             "connection per 64-byte request (16 at a time) and closes it from the client; its "
             "latency columns are connect-to-response times.", "",
             "| workload | setup | " + " | ".join(cols) + " |", "|---|---|" + "---:|" * len(cols)]
    for (workload, setup), values in merged.items():
        cells = [tables.fmt_spread(values.get(c)) for c in cols]
        lines.append(f"| {workload} | {setup} | " + " | ".join(cells) + " |")
    lines += ["", "Ratios vtas / Linux (medians; > 1 is better for vtas on rates, < 1 on latency and CPU):", "",
              "| workload | comparison | throughput | p50 | p99 | p99.9 | CPU/request |", "|---|---|---:|---:|---:|---:|---:|"]
    workloads = list(dict.fromkeys(w for w, _ in merged))
    for vtas_setup, title in (("vtas-vtas (memif)", "stack to stack"), ("linux->vtas (af_packet)", "interoperation")):
        for w in workloads:
            v, l = merged.get((w, vtas_setup)), merged.get((w, "linux-linux"))
            if not v or not l:
                continue
            thr = "Gbit/s" if "Gbit/s" in v and v["Gbit/s"] else "requests/s"
            cells = [tables.ratio(v, l, c) for c in (thr, "p50 us", "p99 us", "p99.9 us", "CPU us/request")]
            lines.append(f"| {w} | {title} | " + " | ".join(cells) + " |")
    lines.append("")
    images = charts.tcp_charts(merged, img_dir)
    lines += [f"![{alt}](img/{os.path.basename(p)})" for alt, p in images] + [""]
    return lines, merged


def sockets_section(outputs, img_dir):
    title = "## Real applications: redis, nginx + wrk, iperf3 (bench/sockets_bench.sh)"
    if not outputs:
        return [title, "", "_not run or every run failed_", ""]
    merged = tables.merge_runs([tables.keyed(tables.first_table(o), 1, last_number=False) for o in outputs])
    # How the script joined two numbers in a cell: "p50 / p99" or "app + fast path" CPU.
    header, rows = tables.first_table(outputs[0])
    seps = {(row[0], col): (" + " if "+" in cell else " / ") for row in rows for col, cell in zip(header, row)}
    lines = [title, "", "The same server binary on Linux and on vtas (LD_PRELOAD=libvtas_interpose.so, "
             "net_af_packet on a veth pair); clients in the peer namespace. Two numbers in a cell are "
             "p50 / p99, or for CPU the server app + vtas's fast path.", "",
             "| metric | Linux | vtas | vtas / Linux |", "|---|---:|---:|---:|"]
    ratios = {}
    for (metric,), values in merged.items():
        linux, vtas = values.get("Linux"), values.get("vtas")
        r = tables.positional_ratio(vtas, linux, seps.get((metric, "vtas"), " / "))
        lines.append(f"| {metric} | {tables.fmt_spread(linux, seps.get((metric, 'Linux'), ' / '))} | "
                     f"{tables.fmt_spread(vtas, seps.get((metric, 'vtas'), ' / '))} | {r} |")
        try:
            ratios[metric] = float(r)
        except ValueError:
            pass
    lines.append("")
    images = charts.ratio_chart(ratios, img_dir, "apps_ratio.png",
                                "Real applications: vtas / Linux (median)")
    lines += [f"![{alt}](img/{os.path.basename(p)})" for alt, p in images] + [""]
    return lines


def control_section(outputs, img_dir):
    title = "## Control messages: inproc vs ipc round trips (bench/control_bench.py)"
    if not outputs:
        return [title, "", "_not run or every run failed_", ""]
    merged = tables.merge_runs([tables.keyed(tables.first_table(o), 2, last_number=True) for o in outputs])
    cols = ["requests/s", "p50 (us)", "p99 (us)"]
    lines = [title, "", "| transport | outstanding | " + " | ".join(cols) + " |", "|---|---:|" + "---:|" * len(cols)]
    for (transport, window), values in merged.items():
        lines.append(f"| {transport} | {window} | " + " | ".join(tables.fmt_spread(values.get(c)) for c in cols) + " |")
    lines.append("")
    images = charts.control_chart(merged, img_dir)
    lines += [f"![{alt}](img/{os.path.basename(p)})" for alt, p in images] + [""]
    return lines


def ring_section(outputs):
    title = "## Shared-memory ring between two processes (bench/ring_bench)"
    if not outputs:
        return [title, "", "_not run or every run failed_", ""]
    merged = tables.merge_runs([tables.keyed(tables.first_table(o), 3, last_number=False) for o in outputs])
    cols = ["entries/s", "ns/entry", "CPU ns/entry", "consumer sleeps", "doorbell rings"]
    shown = ["entries/s (millions)"] + cols[1:]  # ring_bench prints "0.4 M"
    lines = [title, "", "| pinning | waiting | batch | " + " | ".join(shown) + " |", "|---|---|---:|" + "---:|" * len(cols)]
    for (pinning, waiting, batch), values in merged.items():
        lines.append(f"| {pinning} | {waiting} | {batch} | " +
                     " | ".join(tables.fmt_spread(values.get(c)) for c in cols) + " |")
    lines.append("")
    return lines


def segments_section(seg_outputs, callgrind_outputs):
    lines = ["## Fast-path core per segment, in-memory port (bench/fastpath_segments, bench/callgrind_segments.sh)", ""]
    ns = {"rx": [], "tx": []}
    for o in seg_outputs:
        for direction, value in re.findall(r"^(rx|tx) segments=\d+ ns_per_segment=([\d.]+)", o, re.M):
            ns[direction].append(float(value))
    instr = {}
    for o in callgrind_outputs:
        for direction, value in re.findall(r"^\| (rx|tx) \| (\d+) \|", o, re.M):
            instr[direction] = value
    lines += ["| direction | ns per segment | instructions per segment (callgrind, exact) |", "|---|---:|---:|"]
    for d in ("rx", "tx"):
        lines.append(f"| {d} | {tables.fmt_spread([ns[d]] if ns[d] else None)} | {instr.get(d, '-')} |")
    lines += ["", "No Linux column: the kernel's stack has no in-memory port to compare with; "
              "the TCP table above is the side-by-side comparison.", ""]
    return lines


def restart_section(outputs, img_dir):
    title = "## Actor restart time (tests/long actor-kill suite)"
    kills = []
    suites = set()
    for o in outputs:
        suites.update(re.findall(r"\[ RUN +\] (ActorKillFixture\.\w+)", o))
        for actor, observed, supervisor in re.findall(
                r"kill n=\d+ actor=(\w+) pid=\d+ observed_ms=([\d.]+) supervisor_ms=([\d.]+)", o):
            kills.append((actor, float(observed), float(supervisor)))
    if not kills:
        return [title, "", "_not run or no kill recorded_", ""]
    lines = [title, "",
             "SIGKILL of a random slow-path actor while transfers run both ways. *supervisor*: the "
             "supervisor's own measure, exit detected to ready again (`last_restart_ms`, whole ms); "
             "*observed*: SIGKILL to `vtasctl status` showing the new incarnation running (includes "
             "polling vtasctl, an upper bound). Each kill is treated as a separate fault (backoff "
             "reset after 20 ms up): the default backoff would add up to 1 s to kills of one actor "
             "within 5 s, by design. Suite: " + (", ".join(sorted(suites)) or "?") + ".", "",
             "| actor | kills | supervisor p50 / p99 / max ms | observed p50 / p99 / max ms |", "|---|---:|---:|---:|"]
    actors = sorted({k[0] for k in kills}) + ["all"]
    for a in actors:
        sel = [k for k in kills if a == "all" or k[0] == a]
        sup = sorted(k[2] for k in sel)
        obs = sorted(k[1] for k in sel)
        q = tables.quantiles
        lines.append(f"| {a} | {len(sel)} | {q(sup)} | {q(obs)} |")
    lines.append("")
    images = charts.restart_chart(kills, img_dir)
    lines += [f"![{alt}](img/{os.path.basename(p)})" for alt, p in images] + [""]
    return lines


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--img-dir", required=True)
    a = p.parse_args()
    os.makedirs(a.img_dir, exist_ok=True)
    lines = ["# Benchmarks: vtas side by side with Linux", "",
             "Generated by `sudo bench/run_all.sh` (raw outputs: bench/report/last-run/; regenerate "
             "this page from them with bench/report/make_report.py). Numbers, not verdicts: see the noise "
             "section before reading a ratio. What the setups mean and this machine's limits: "
             "docs/dataplane.md and reference/machine-baselines.md.", ""]
    lines += machine_section(a.runs_dir)
    tcp_lines, _ = tcp_section(runs_of(a.runs_dir, "tcp"), a.img_dir)
    lines += tcp_lines
    lines += sockets_section(runs_of(a.runs_dir, "sockets"), a.img_dir)
    lines += control_section(runs_of(a.runs_dir, "control"), a.img_dir)
    lines += ring_section(runs_of(a.runs_dir, "ring"))
    lines += segments_section(runs_of(a.runs_dir, "segments"), runs_of(a.runs_dir, "callgrind"))
    lines += restart_section(runs_of(a.runs_dir, "restart"), a.img_dir)
    with open(a.out, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")


if __name__ == "__main__":
    main()
