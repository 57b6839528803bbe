"""PNG charts of the benchmark report (matplotlib, no display). Each function takes merged
results (tables.merge_runs) and returns [(alt text, path)] of what it wrote. Used by
make_report.py."""
import os
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SETUP_COLORS = {"linux-linux": "#4c72b0", "vtas-vtas (memif)": "#dd8452", "linux->vtas (af_packet)": "#55a868"}


def _stats(positions):
    """(median, lower error, upper error) of the first position's values."""
    values = positions[0] if positions and positions[0] else [0.0]
    med = statistics.median(values)
    return med, med - min(values), max(values) - med


def _save(fig, img_dir, name):
    path = os.path.join(img_dir, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def tcp_charts(merged, img_dir):
    out = []
    setups = list(dict.fromkeys(s for _, s in merged))
    rpc = [w for w in dict.fromkeys(w for w, _ in merged) if w.startswith("RPC")]
    bulk = [w for w in dict.fromkeys(w for w, _ in merged) if not w.startswith("RPC")]

    # Throughput vs connections: requests/s of the RPC workloads, one line per setup.
    if rpc:
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for s in setups:
            xs, ys, lo, hi = [], [], [], []
            for w in rpc:
                v = merged.get((w, s), {}).get("requests/s")
                if not v:
                    continue
                conns = int("".join(ch for ch in w.split(",")[-1] if ch.isdigit()) or 1)
                med, el, eh = _stats(v)
                xs.append(conns), ys.append(med), lo.append(el), hi.append(eh)
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=4, label=s, color=SETUP_COLORS.get(s))
        ax.set_xscale("log", base=2)
        ax.set_xlabel("connections")
        ax.set_ylabel("requests/s (64 B echo)")
        ax.set_title("RPC throughput vs connections (median, min-max)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        out.append(("RPC throughput vs connections", _save(fig, img_dir, "tcp_rpc_vs_connections.png")))

        # Latency percentiles of each RPC workload: p50, p99, p99.9 per setup (the tools report
        # percentiles, not every sample, so this is the CDF at three points).
        fig, axes = plt.subplots(1, len(rpc), figsize=(5 * len(rpc), 4), squeeze=False)
        for ax, w in zip(axes[0], rpc):
            for s in setups:
                v = merged.get((w, s), {})
                pts = [(q, _stats(v[c])[0]) for q, c in ((0.5, "p50 us"), (0.99, "p99 us"), (0.999, "p99.9 us"))
                       if v.get(c)]
                if pts:
                    ax.plot([p[1] for p in pts], [1 - p[0] for p in pts], marker="o", label=s,
                            color=SETUP_COLORS.get(s))
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_yticks([0.5, 0.01, 0.001], ["p50", "p99", "p99.9"])
            ax.set_xlabel("latency (us)")
            ax.set_ylabel("percentile (tail, log)")
            ax.set_title(w, fontsize=10)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle("RPC latency at p50 / p99 / p99.9 (median of runs)")
        out.append(("RPC latency percentiles", _save(fig, img_dir, "tcp_rpc_latency.png")))

    if bulk:
        fig, ax = plt.subplots(figsize=(6.5, 3.5))
        labels, meds, errs = [], [], [[], []]
        for w in bulk:
            for s in setups:
                v = merged.get((w, s), {}).get("Gbit/s")
                if not v:
                    continue
                med, el, eh = _stats(v)
                labels.append(f"{s}\n{w}")
                meds.append(med), errs[0].append(el), errs[1].append(eh)
        ax.barh(range(len(meds)), meds, xerr=errs, capsize=4,
                color=[SETUP_COLORS.get(l.split("\n")[0], "#999") for l in labels])
        ax.set_yticks(range(len(meds)), labels, fontsize=8)
        ax.set_xlabel("Gbit/s (median, min-max)")
        ax.set_title("Bulk transfer")
        ax.grid(axis="x", alpha=0.3)
        out.append(("Bulk transfer Gbit/s", _save(fig, img_dir, "tcp_bulk.png")))
    return out


def ratio_chart(ratios, img_dir, name, title):
    if not ratios:
        return []
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(ratios) + 1.2))
    names = list(ratios)
    values = [ratios[n] for n in names]
    # Green where vtas does better: higher rates, lower latency and CPU.
    lower_better = [("CPU" in n or "(ms)" in n or "us" in n.split("(")[-1]) for n in names]
    ax.barh(range(len(values)), values,
            color=["#55a868" if (v < 1 if low else v >= 1) else "#c44e52" for v, low in zip(values, lower_better)])
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(values)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("vtas / Linux (green: vtas better; latency and CPU rows: < 1 is better)")
    ax.set_title(title)
    return [(title, _save(fig, img_dir, name))]


def control_chart(merged, img_dir):
    if not merged:
        return []
    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels, meds, errs = [], [], [[], []]
    for (transport, window), v in merged.items():
        if not v.get("requests/s"):
            continue
        med, el, eh = _stats(v["requests/s"])
        labels.append(f"{transport}, {window} outstanding")
        meds.append(med), errs[0].append(el), errs[1].append(eh)
    ax.barh(range(len(meds)), meds, xerr=errs, capsize=4, color="#8172b2")
    ax.set_yticks(range(len(meds)), labels, fontsize=8)
    ax.set_xlabel("request/response round trips per second")
    ax.set_title("Control messages between two actors")
    ax.grid(axis="x", alpha=0.3)
    return [("Control message round trips", _save(fig, img_dir, "control_roundtrips.png"))]


def restart_chart(kills, img_dir):
    if not kills:
        return []
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for idx, label in ((2, "supervisor: exit detected -> ready"), (1, "observed: SIGKILL -> status running")):
        values = sorted(k[idx] for k in kills)
        ax.step(values, [(i + 1) / len(values) for i in range(len(values))], where="post", label=label)
    ax.set_xlabel("restart time (ms)")
    ax.set_ylabel("fraction of kills")
    ax.set_title(f"Actor restart time, {len(kills)} kills (CDF)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return [("Actor restart time CDF", _save(fig, img_dir, "actor_restart_cdf.png"))]
