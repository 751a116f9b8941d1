"""Side by side: this tree's single-text scorer against the one of an older revision.

    .venv/bin/python bench/scorer_ab.py --old REV [--model PATH] [--passes 7] [--runs 3]

The older revision's `cyberscan/detector/*.py` is taken with `git show` into a temporary
package; its imports of `features` and `mixture` stay on this tree's modules, because
the artifact's pickled analyzers are this tree's functions (so a change to those two
modules is not compared). Both `Detector`s score the bench's texts
(`bench_detector.load_texts`) in one process, alternating per text which goes first,
after checking that they give the same terms and the same probabilities (to 1e-12).
Prints the medians, the median per-text ratio new/old and the p99s for each run; pin
it to one core (`taskset -c 1`).
Wall time, so run it on a quiet machine and trust the ratio more than the figures.
"""

from __future__ import annotations

import argparse
import importlib
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_detector import load_texts  # noqa: E402

from config import current_classifier  # noqa: E402
from cyberscan.detector.artifact import load_artifact  # noqa: E402
from cyberscan.detector.classifier import Detector  # noqa: E402

SHARED = ("features", "mixture")  # the artifact's own modules: always this tree's
# Summing in another order moves a probability by a few units in the last place; both
# scorers are tested against scikit-learn to 1e-9.
SAME = 1e-12


def old_detector_class(rev: str, root: Path) -> type:
    """Import the revision's detector package as `old_detector`; answer its Detector."""
    package = root / "old_detector"
    package.mkdir()
    listing = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, "cyberscan/detector/"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for path in listing:
        if not path.endswith(".py"):
            continue
        source = subprocess.run(
            ["git", "show", f"{rev}:{path}"],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        source = re.sub(
            r"\bcyberscan\.detector\.(\w+)",
            lambda m: (
                m.group(0) if m.group(1) in SHARED else f"old_detector.{m.group(1)}"
            ),
            source,
        )
        (package / Path(path).name).write_text(source, encoding="utf-8")
    sys.path.insert(0, str(root))
    return importlib.import_module("old_detector.classifier").Detector


def main() -> int:
    """Compare the two scorers and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="git revision to compare against")
    parser.add_argument("--model", default=None)
    parser.add_argument("--passes", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = Path(args.model) if args.model else current_classifier(REPO / "models")
    pipeline, card = load_artifact(path)
    with tempfile.TemporaryDirectory() as tmp:
        old = old_detector_class(args.old, Path(tmp))(pipeline, card)
        new = Detector(pipeline, card)
        texts = load_texts()
        largest = 0.0
        for text in texts:
            a, b = old.score(text), new.score(text)
            difference = abs(a.probability - b.probability)
            if difference > SAME or a.terms != b.terms:
                print(f"the scorers disagree on {text!r}: {a} != {b}")
                return 1
            largest = max(largest, difference)
        print(
            f"model {card.get('version')}; {len(texts)} texts; terms equal, "
            f"probabilities within {largest:.1e}"
        )
        clock = time.perf_counter_ns
        for run in range(args.runs):
            times: dict[str, list[int]] = {"old": [], "new": []}
            for p in range(args.passes):
                for i, text in enumerate(texts):
                    pair = [("old", old), ("new", new)]
                    for name, detector in pair if (i + p) % 2 else pair[::-1]:
                        start = clock()
                        detector.score(text)
                        times[name].append(clock() - start)
            ratio = statistics.median(
                n / o for o, n in zip(times["old"], times["new"], strict=True)
            )
            old_us, new_us = (statistics.median(times[k]) / 1e3 for k in ("old", "new"))
            old_p99, new_p99 = (
                statistics.quantiles(times[k], n=100)[98] / 1e3 for k in ("old", "new")
            )
            print(
                f"run {run + 1}: median old {old_us:.1f} us, new {new_us:.1f} us; "
                f"per-text ratio new/old {ratio:.3f}; "
                f"p99 old {old_p99:.0f} us, new {new_p99:.0f} us"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
