"""Plots for docs/performance.md from bench/perf_bench.py output.

    .venv/bin/python bench/plot_perf.py --runs runs.json [--runs more.json] \\
        --samples samples/ --out docs/img

Writes perf-throughput.png (acknowledged msg/s against connected clients, closed loop,
median and range over repeats, the project and the bare relay) and perf-latency-cdf.png
(send-to-delivery latency CDF of the open-loop scenarios over every message sent in
the window, every repeat pooled).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def throughput(runs: list[dict], out: Path, title: str) -> None:
    series: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for run in runs:
        if run["mode"] != "closed":
            continue
        key = (run["label"], run["target"])
        series[key][run["clients"]].append(run["acked_per_second"])
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for (label, target), points in sorted(series.items()):
        xs = sorted(points)
        med = [statistics.median(points[x]) for x in xs]
        low = [m - min(points[x]) for m, x in zip(med, xs, strict=True)]
        high = [max(points[x]) - m for m, x in zip(med, xs, strict=True)]
        name = f"{target} ({label})" if label else target
        ax.errorbar(xs, med, yerr=[low, high], marker="o", capsize=3, label=name)
    ax.set_xlabel("connected clients (closed loop, one message in flight each)")
    ax.set_ylabel("acknowledged messages / s")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "perf-throughput.png", dpi=110)
    plt.close(fig)


def latency_cdf(samples_dirs: list[Path], out: Path, title: str) -> None:
    pooled: dict[str, list[float]] = defaultdict(list)
    sent: dict[str, int] = defaultdict(int)
    for folder in samples_dirs:
        for path in sorted(folder.glob("*.json")):
            # <mode>-<target>-<scenario>-r<repeat>.json
            name = path.stem.rsplit("-r", 1)[0]
            data = json.loads(path.read_text())
            if isinstance(data, list):  # older runs kept only the delivered ones
                data = {"sent": len(data), "delivery_seconds": data}
            pooled[name].extend(data["delivery_seconds"])
            sent[name] += data["sent"]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, values in sorted(pooled.items()):
        if not values:
            continue
        # Over every message sent in the window: undelivered ones keep the curve
        # below 1.
        ordered = sorted(v * 1000 for v in values)
        n = sent[name]
        ax.plot(
            ordered,
            [(i + 1) / n for i in range(len(ordered))],
            label=f"{name} ({len(ordered)}/{n} delivered)",
        )
    ax.set_xscale("log")
    ax.set_xlabel("send → receive_message at the receiver (ms, log scale)")
    ax.set_ylabel("fraction of messages")
    ax.axvline(50, color="grey", linestyle=":", linewidth=1)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "perf-latency-cdf.png", dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        action="append",
        default=[],
        help="perf_bench --out file, optionally LABEL=path",
    )
    parser.add_argument("--samples", action="append", type=Path, default=[])
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    runs = []
    for item in args.runs:
        label, _, path = item.rpartition("=")
        data = json.loads(Path(path).read_text())
        for run in data["runs"]:
            runs.append({**run, "label": label})
    if runs:
        throughput(
            runs, args.out, args.title or "Throughput, MariaDB, server on one core"
        )
    if args.samples:
        latency_cdf(
            args.samples, args.out, args.title or "Latency at 500 msg/s offered"
        )


if __name__ == "__main__":
    main()
