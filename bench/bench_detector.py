"""Benchmark the detector's fast scorer against the scikit-learn pipeline.

    .venv/bin/python bench/bench_detector.py [--model PATH] [--repeat 5]

Texts: the development set's chat messages (train/eval/dev_set.csv, texts only) plus, when
../shared/data is present, a fixed random sample of tweets/comments from the shared
corpora (1,000 texts in all).  Prints the median and p95 single-text latency of
``Detector.score`` (each text timed on its own with perf_counter_ns, after one warm-up
pass, ``--repeat`` passes; median and p99 per pass, then the median over passes), throughput of ``Detector.score_batch`` on 1,000 texts (wall
and thread CPU time: on shared cores the wall figures include waiting for a core), the
same for sklearn's ``predict_proba`` for comparison, the largest absolute probability
difference between sklearn and each of ``score_batch`` and ``score``, and the load
average.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
N_CHAT = 0

from config import current_classifier  # noqa: E402
from cyberscan.detector import load_detector  # noqa: E402


def load_texts(n: int = 1000, seed: int = 0) -> list[str]:
    """Chat test texts first, then shared-corpus texts, up to ``n`` texts."""
    global N_CHAT
    texts = []
    with open(REPO / "train" / "eval" / "dev_set.csv", encoding="utf-8") as fh:
        texts += [row["text"] for row in csv.DictReader(fh)]
    N_CHAT = len(texts)
    shared = REPO.parent / "shared" / "data"
    pool: list[str] = []
    for path in sorted(shared.glob("*/train.csv")):
        with open(path, encoding="utf-8") as fh:
            pool += [row["text"] for row in csv.DictReader(fh)]
    rng = random.Random(seed)
    if pool:
        texts += rng.sample(pool, max(0, n - len(texts)))
    while len(texts) < n:  # fresh clone without the shared data
        texts.append(" ".join(rng.sample(texts[: len(texts)], 2)))
    return texts[:n]


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = Path(args.model) if args.model else current_classifier(REPO / "models")
    t0 = time.perf_counter()
    detector = load_detector(path)
    load_s = time.perf_counter() - t0
    texts = load_texts()
    lengths = [len(t) for t in texts]

    cold = []
    # First sight of every text: its n-grams and its words outside the vocabulary are
    # new to the caches (the scorer warmed them with the vocabulary's words on load).
    for text in texts:
        s = time.perf_counter_ns()
        detector.score(text)
        cold.append(time.perf_counter_ns() - s)
    single = []
    single_cpu = []
    pass_median, pass_p99 = [], []
    for _ in range(args.repeat):
        start = len(single)
        for text in texts:
            s = time.perf_counter_ns()
            c = time.thread_time_ns()
            detector.score(text)
            single_cpu.append(time.thread_time_ns() - c)
            single.append(time.perf_counter_ns() - s)
        this_pass = np.array(single[start:]) / 1000
        pass_median.append(float(np.median(this_pass)))
        pass_p99.append(float(np.percentile(this_pass, 99)))
    single_us = np.array(single) / 1000
    cpu_us = np.array(single_cpu) / 1000
    chat = texts[:N_CHAT]
    chat_us = []
    for _ in range(args.repeat):
        for text in chat:
            s = time.perf_counter_ns()
            detector.score(text)
            chat_us.append((time.perf_counter_ns() - s) / 1000)
    cold_us = np.array(cold) / 1000

    batch_rates = []
    batch_cpu_rates = []
    chat_batch = (chat * (len(texts) // len(chat) + 1))[: len(texts)]
    chat_rates = []
    for _ in range(args.repeat):
        s = time.perf_counter()
        c = time.thread_time()
        detector.score_batch(texts)
        batch_cpu_rates.append(len(texts) / (time.thread_time() - c))
        batch_rates.append(len(texts) / (time.perf_counter() - s))
        s = time.perf_counter()
        detector.score_batch(chat_batch)
        chat_rates.append(len(chat_batch) / (time.perf_counter() - s))

    s = time.perf_counter()
    reference = detector.pipeline.predict_proba(texts)[:, 1]
    sk_batch_rate = len(texts) / (time.perf_counter() - s)
    sk_single = []
    for text in texts[:200]:
        s = time.perf_counter_ns()
        detector.pipeline.predict_proba([text])
        sk_single.append(time.perf_counter_ns() - s)
    fast = np.array([v.probability for v in detector.score_batch(texts)])
    max_diff = float(np.max(np.abs(fast - reference)))
    fast_single = np.array([detector.score(t).probability for t in texts])
    max_diff_single = float(np.max(np.abs(fast_single - reference)))
    try:
        load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load_avg = "n/a"

    rows = [
        ("model", f"{detector.version} ({path}; loaded + verified in {load_s:.2f} s)"),
        (
            "texts",
            f"{len(texts)} (median {statistics.median(lengths):.0f} chars, "
            f"max {max(lengths)}; first {len(chat)} are chat messages)",
        ),
        (
            "single median",
            f"{np.median(single_us):.1f} us (wall, warm, {args.repeat} passes)",
        ),
        ("single p95", f"{np.percentile(single_us, 95):.1f} us"),
        (
            "single p99",
            f"{np.percentile(single_us, 99):.1f} us (all passes); median of per-pass "
            f"medians {statistics.median(pass_median):.1f} us, of per-pass p99 "
            f"{statistics.median(pass_p99):.1f} us",
        ),
        (
            "single median CPU",
            f"{np.median(cpu_us):.1f} us (thread CPU time, same calls)",
        ),
        ("chat single median", f"{np.median(chat_us):.1f} us (chat messages only)"),
        (
            "single median cold",
            f"{np.median(cold_us):.1f} us (first sight of each text, one pass), "
            f"p99 {np.percentile(cold_us, 99):.1f} us",
        ),
        (
            "batch",
            f"{statistics.median(batch_rates):,.0f} texts/s "
            f"(score_batch of {len(texts)}, median of {args.repeat})",
        ),
        (
            "batch CPU",
            f"{statistics.median(batch_cpu_rates):,.0f} texts/s "
            "(same calls, thread CPU time)",
        ),
        (
            "batch, chat only",
            f"{statistics.median(chat_rates):,.0f} texts/s "
            f"(score_batch of {len(chat_batch)} chat messages)",
        ),
        (
            "sklearn single",
            f"{np.median(sk_single) / 1000:.1f} us (predict_proba([text]))",
        ),
        (
            "sklearn batch",
            f"{sk_batch_rate:,.0f} texts/s (predict_proba of {len(texts)})",
        ),
        ("max |batch - sklearn|", f"{max_diff:.3e}"),
        ("max |single - sklearn|", f"{max_diff_single:.3e}"),
        ("load average", f"{load_avg} (1/5/15 min, after the run)"),
    ]
    for label, value in rows:
        print(f"{label:<22}{value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
