"""Compare two trained versions on the same rows, with paired bootstrap intervals.

    python -m train.compare vA vB [--data FILE.csv ...] [--corpora [DIR]]
                                  [--allow-other-corpora] [--threshold T]
                                  [--resamples N] [--seed S]

Every labelled CSV given with ``--data`` (without ``--data`` or ``--corpora``: every
``train/eval/*.csv``) and, with ``--corpora``, each public corpus's held-out rows (the
split recorded in ``vB``'s card) is scored by both versions.  For each, one JSON object gives both versions' errors and
accuracy at the threshold and ROC AUC (when the rows hold both labels), and the
difference ``vB - vA`` with a 95% interval from a paired bootstrap: the same resampled
rows score both versions, so what the rows have in common cancels and what remains is
how much the difference could move on another draw of rows like these.  An interval that
lies entirely below zero says ``vB`` is worse beyond that noise.

A corpus file whose sha256 is not the one the cards recorded holds out other rows, so
``--corpora`` refuses it unless ``--allow-other-corpora`` (:func:`corpus_copies`).  A
development set whose sha256 differs from the one a card recorded is named on stderr
and still scored (:func:`dev_set_copies`): both versions score the same rows, but the
card's figures on it are of another file.
Progress goes to stderr; stdout is the JSON lines alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from config import MODELS_DIR, ConfigError, model_version_name
from cyberscan.detector.artifact import ArtifactError
from cyberscan.detector.classifier import Detector
from train.data import (
    DataError,
    LabelledData,
    corpus_files,
    dev_sets,
    display_path,
    fetch_command,
    find_data_dir,
    read_labelled_csv,
    run_cli,
    trained_on_warning,
)
from train.metrics import binary_metrics, rounded
from train.train import Progress, card_split, split_indices


def rank_auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count a half): scikit-learn's
    `roc_auc_score` to rounding, without its input checks, which were most of a
    bootstrap's time (tested equal)."""
    positives = y == 1
    n1 = int(positives.sum())
    n0 = len(y) - n1
    ranks = rankdata(s)
    return float((ranks[positives].sum() - n1 * (n1 + 1) / 2) / (n0 * n1))


def paired_interval(
    y: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    metric: Any,
    resamples: int,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """``metric(y, b) - metric(y, a)`` and its 95% paired-bootstrap interval.

    A resample that draws one label only (possible on tiny sets) is drawn again.
    """
    both = 0 < y.sum() < len(y)
    diffs = []
    while len(diffs) < resamples:
        i = rng.integers(0, len(y), len(y))
        if both and not 0 < y[i].sum() < len(i):
            continue
        diffs.append(metric(y[i], b[i]) - metric(y[i], a[i]))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(metric(y, b) - metric(y, a)), float(lo), float(hi)


def compare_rows(
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    threshold: float,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    """The comparison of two versions' scores ``scores`` (in order A, B) on rows ``y``."""
    (name_a, a), (name_b, b) = scores.items()

    def accuracy(y: np.ndarray, s: np.ndarray) -> float:
        return float(np.mean((s >= threshold) == (y == 1)))

    out: dict[str, Any] = {"n": int(len(y)), "positives": int(y.sum())}
    for name, s in scores.items():
        m = binary_metrics(y, s, threshold)
        confusion = m["confusion"]
        out[name] = {
            "errors": confusion["fp"] + confusion["fn"],
            "accuracy": m["accuracy"],
            "roc_auc": m["roc_auc"],
        }
    metrics = {"accuracy": accuracy}
    if out[name_a]["roc_auc"] is not None:
        metrics["roc_auc"] = rank_auc
    for key, metric in metrics.items():
        rng = np.random.default_rng(seed)
        diff, lo, hi = paired_interval(y, a, b, metric, resamples, rng)
        out[f"{key}_difference"] = {"value": diff, "interval_95": [lo, hi]}
    return out


def held_out_rows(data: LabelledData, split: tuple[float, int]) -> LabelledData:
    """The held-out part of a corpus file, by a model card's ``(holdout, seed)``."""
    _, test = split_indices(data.labels, *split)
    return LabelledData(
        data.path,
        data.sha256,
        [data.texts[i] for i in test],
        [data.labels[i] for i in test],
        [data.categories[i] for i in test] if data.categories else [],
    )


def _cards_of(versions: list[str]) -> tuple[str, str]:
    """``("the card of vA", "card's")`` or ``("the cards of vA and vB", "cards'")``."""
    if len(versions) == 1:
        return f"the card of {versions[0]}", "card's"
    return f"the cards of {' and '.join(versions)}", "cards'"


def recorded_digests(
    cards: dict[str, dict[str, Any]], entries: Any, digest: str
) -> tuple[dict[str, list[str]], list[str]]:
    """The sha256 values other than ``digest`` that the cards record for one file, each
    with the versions that recorded it, and the versions whose card records nothing for
    it; ``entries(card)`` gives the card's records of that file (dicts with ``sha256``)."""
    recorded: dict[str, list[str]] = {}
    unrecorded = []
    for version, card in cards.items():
        digests = {str(d.get("sha256")) for d in entries(card)}
        if not digests:
            unrecorded.append(version)
        elif digest not in digests:
            for other in sorted(digests):
                recorded.setdefault(other, []).append(version)
    return recorded, unrecorded


def corpus_copies(
    corpora: Sequence[LabelledData], cards: dict[str, dict[str, Any]]
) -> tuple[dict[Path, list[str]], list[str]]:
    """Each corpus file against the sha256 the versions' cards recorded for that corpus
    (by name, wherever it was): for each file that differs, a warning line per
    recorded digest it does not match; a note for each corpus some card records no
    file for."""
    mismatches: dict[Path, list[str]] = {}
    notes = []
    for data in corpora:
        corpus, shown = data.path.parent.name, display_path(data.path)

        def entries(card: dict[str, Any], corpus: str = corpus) -> list[dict]:
            return [
                d
                for d in card.get("data") or []
                if isinstance(d, dict)
                and str(d.get("name", "")).split(":", 1)[-1] == corpus
            ]

        recorded, unrecorded = recorded_digests(cards, entries, data.sha256)
        for digest, versions in recorded.items():
            whose, their = _cards_of(versions)
            mismatches.setdefault(data.path, []).append(
                f"warning: {shown}: sha256 {data.sha256[:12]}, but {whose} recorded "
                f"{digest[:12]}: another copy of {corpus}, so its figures are not "
                f"comparable to the {their}"
            )
        if unrecorded:
            whose, _ = _cards_of(unrecorded)
            one = len(unrecorded) == 1
            notes.append(
                f"note: {whose} {'records' if one else 'record'} no {corpus} file, "
                f"so {shown} is not checked and has no figures in "
                f"{'that card' if one else 'those cards'} to compare with"
            )
    return mismatches, notes


def dev_set_copies(
    sets: Sequence[LabelledData], cards: dict[str, dict[str, Any]]
) -> list[str]:
    """Each development set against the sha256 the versions' cards recorded for it
    (``dev_set`` and ``more_dev_sets``, by path): one warning line per file whose
    digest differs from one a card recorded.  Both versions still score the file's
    rows, so the comparison stays fair; only the cards' figures on it are of another
    file."""
    warnings = []
    for data in sets:
        shown = display_path(data.path)

        def entries(card: dict[str, Any], shown: str = shown) -> list[dict]:
            records = [card.get("dev_set"), *(card.get("more_dev_sets") or [])]
            return [
                d for d in records if isinstance(d, dict) and d.get("path") == shown
            ]

        recorded, _ = recorded_digests(cards, entries, data.sha256)
        if recorded:
            whose = " and ".join(
                f"{_cards_of(versions)[0]} recorded {digest[:12]}"
                for digest, versions in recorded.items()
            )
            _, their = _cards_of([v for vs in recorded.values() for v in vs])
            warnings.append(
                f"warning: {shown}: sha256 {data.sha256[:12]}, but {whose}: another "
                f"version of this development set, so the {their} figures on it are "
                "not comparable (both versions are scored on these rows)"
            )
    return warnings


def main(argv: Sequence[str] | None = None) -> int:
    """Run the compare CLI; return the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m train.compare",
        description="Two versions on the same rows, with paired bootstrap intervals.",
    )
    parser.add_argument("a", help="the reference version, vN (e.g. the served one)")
    parser.add_argument("b", help="the candidate version, vN")
    parser.add_argument(
        "--data",
        action="append",
        help="CSV with text,label (repeatable; default without --corpora: train/eval/*.csv)",
    )
    parser.add_argument(
        "--corpora",
        nargs="?",
        const="",
        help="each corpus's held-out rows, by vB's split (DIR, else "
        "$CYBERSCAN_DATA_DIR or ../shared/data); without --data, instead of the "
        "development sets",
    )
    parser.add_argument(
        "--allow-other-corpora",
        action="store_true",
        help="with --corpora, score corpus files whose sha256 is not the one the "
        "cards recorded (refused by default: their held-out rows are other rows)",
    )
    parser.add_argument("--threshold", type=float, help="default: vB's card")
    parser.add_argument(
        "--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="bootstrap seed (default 0)"
    )
    parser.add_argument(
        "--models-dir",
        default=str(MODELS_DIR),
        help="default: the repository's models/",
    )
    args = parser.parse_args(argv)
    models_dir = Path(args.models_dir)
    try:
        if args.resamples < 100:
            raise DataError(f"--resamples must be at least 100, got {args.resamples}")
        if args.seed < 0:
            raise DataError(f"--seed must be 0 or more, got {args.seed}")
        if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
            raise DataError(
                f"--threshold must be between 0 and 1, got {args.threshold}"
            )
        names = [model_version_name(v) for v in (args.a, args.b)]
        if names[0] == names[1]:
            raise DataError(
                f"compare two different versions, not {names[0]} with itself"
            )
        detectors = {n: Detector.from_path(models_dir / f"{n}.joblib") for n in names}
        sets = [
            (display_path(Path(p)), read_labelled_csv(p, require_both_classes=False))
            for p in args.data or ([] if args.corpora is not None else dev_sets())
        ]
        for name, detector in detectors.items():
            for _, data in sets:
                warning = trained_on_warning(data, name, detector.card)
                if warning:
                    print(warning, file=sys.stderr)
        cards = {n: d.card for n, d in detectors.items()}
        for line in dev_set_copies([data for _, data in sets], cards):
            print(line, file=sys.stderr)
        if args.corpora is not None:
            splits = {n: card_split(detectors[n].card) for n in names}
            unknown = [n for n in names if splits[n] is None]
            if unknown:
                raise DataError(
                    f"--corpora needs each version's split: the card of {unknown[0]} "
                    "does not record its holdout and seed, so the rows its model saw "
                    "are unknown; drop --corpora"
                )
            whole = [n for n in names if not splits[n][0]]
            if whole:
                raise DataError(
                    f"--corpora needs held-out rows: {whole[0]} was fitted on every "
                    "row (--holdout 0), so it has seen them all; compare versions "
                    "trained with the same --holdout above 0 (e.g. 0.2), or drop --corpora"
                )
            split = splits[names[1]]
            if splits[names[0]] != split:
                shown = [
                    f"{n} (holdout {h:g}, seed {s})" for n, (h, s) in splits.items()
                ]
                raise DataError(
                    f"--corpora needs two versions split the same way: {shown[0]} "
                    f"and {shown[1]} hold out different rows"
                )
            data_dir, _ = find_data_dir(args.corpora or None, "--corpora")
            if data_dir is None:
                raise DataError("no corpora folder; pass --corpora DIR")
            corpora = [read_labelled_csv(p) for p in corpus_files(data_dir)]
            mismatches, notes = corpus_copies(corpora, cards)
            for line in notes + [w for ws in mismatches.values() for w in ws]:
                print(line, file=sys.stderr)
            if mismatches and not args.allow_other_corpora:
                what = (
                    "file is not the copy the cards recorded (above), so its"
                    if len(mismatches) == 1
                    else "files are not the copies the cards recorded (above), so their"
                )
                raise DataError(
                    f"{len(mismatches)} corpus {what} held-out rows are not the rows "
                    "the models held out; score the recorded copies ("
                    + fetch_command("DIR")
                    + " fetches the pinned ones), or pass "
                    "--allow-other-corpora to score these anyway"
                )
            sets += [
                (f"{data.path.parent.name} (held out)", held_out_rows(data, split))
                for data in corpora
            ]
    except (ArtifactError, ConfigError, DataError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    threshold = (
        detectors[names[1]].threshold if args.threshold is None else args.threshold
    )
    # progress on stderr: stdout is the report, one JSON object a set
    progress = Progress(len(sets), to_stderr=True)
    for label, data in sets:
        progress.stage(f"{label}: {len(data.labels)} rows")
        y = np.asarray(data.labels, dtype=int)
        scores = {}
        for n, d in detectors.items():
            start = time.perf_counter()
            scores[n] = np.array([v.probability for v in d.score_batch(data.texts)])
            progress.info(f"{n} scored in {time.perf_counter() - start:.1f}s")
        # the bootstrap, not the scoring, is most of a set's time
        progress.info(f"paired bootstrap, {args.resamples} resamples")
        result = {"data": label, "sha256": data.sha256, "threshold": threshold}
        result |= compare_rows(y, scores, threshold, args.resamples, args.seed)
        print(json.dumps(rounded(result)), flush=True)
        progress.done()
    return 0


if __name__ == "__main__":
    run_cli(main)
