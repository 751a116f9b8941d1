"""Train a new immutable model version from one or more ``text,label`` CSV files.

    python -m train.train                                # shared corpora + train/data/*.csv
    python -m train.train --data a.csv --data b.csv=0.5  # your own files (optional weight)

Each file is split into a stratified training part and a held-out part (fixed seed).
Every file gets the same total sample weight times its ``=WEIGHT`` (default 1; the
default run weights the shared corpora by ``SHARED_WEIGHTS``), split evenly between its
two classes, so a large or skewed corpus cannot dominate.  The
script cross-validates on the training parts, picks the operating point on the
out-of-fold scores, shifts the intercept so that point sits at ``--target-threshold``
(0.6, the app's ``BULLYING_THRESHOLD``), refits on all training parts, measures the
held-out parts, and writes ``models/cyberscan-clf-vN.joblib`` + ``.json`` + a report.
"""

from __future__ import annotations

import argparse
import math
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from train.evaluate import (
    DataError,
    LabelledData,
    binary_metrics,
    read_labelled_csv,
    rounded,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SHARED_CORPORA = (
    "cyberbullying_tweets",
    "davidson_hate_offensive",
    "olid_offensive",
    "kaggle_insults",
)
# Relative weights of the shared corpora in the default run (every file otherwise gets
# the same total weight); chosen on an inner validation split of the training parts,
# see docs/model.md "Experiments".
SHARED_WEIGHTS: dict[str, float] = {
    "cyberbullying_tweets": 1.5,
    "davidson_hate_offensive": 2.0,
    "olid_offensive": 1.5,
    "kaggle_insults": 1.5,
}
OWN_DATA_DIR = REPO_ROOT / "train" / "data"
CHAT_EVAL = REPO_ROOT / "train" / "eval" / "chat_eval.csv"
DEFAULT_MODELS_DIR = REPO_ROOT / "models"


@dataclass
class Source:
    """One training file with its weight and its train/held-out split."""

    name: str
    data: LabelledData
    weight: float
    train_idx: np.ndarray
    test_idx: np.ndarray


class Progress:
    """Prints numbered stages with elapsed time, flushing so a terminal sees them live."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.step = 0
        self.start = time.perf_counter()
        self.stage_start = self.start

    def stage(self, message: str) -> None:
        """Announce the next stage."""
        self.step += 1
        self.stage_start = time.perf_counter()
        print(f"[{self.step}/{self.total}] {message} ...", flush=True)

    def info(self, message: str) -> None:
        """Print a detail line of the current stage."""
        print(f"      {message}", flush=True)

    def done(self) -> None:
        """Print the time the current stage took."""
        now = time.perf_counter()
        print(
            f"      done in {now - self.stage_start:.1f}s (total {now - self.start:.1f}s)",
            flush=True,
        )


def default_data_files() -> list[str]:
    """Return the shared corpora (with their default weights) plus ``train/data/*.csv``.

    Each entry is a ``PATH[=WEIGHT]`` spec like the ``--data`` option takes.
    """
    files = []
    for name in SHARED_CORPORA:
        path = str(SHARED_DATA / name / "train.csv")
        weight = SHARED_WEIGHTS.get(name, 1.0)
        files.append(path if weight == 1.0 else f"{path}={weight:g}")
    files += [str(p) for p in sorted(OWN_DATA_DIR.glob("*.csv"))]
    return files


def parse_data_arg(value: str) -> tuple[str, float]:
    """Split ``PATH[=WEIGHT]``; a trailing ``=number`` is the file's relative weight."""
    if "=" in value:
        path, _, weight = value.rpartition("=")
        try:
            parsed = float(weight)
        except ValueError:
            return value, 1.0
        if not math.isfinite(parsed) or parsed <= 0:
            raise DataError(f"{path}: weight must be a positive number, got {weight!r}")
        return path, parsed
    return value, 1.0


def source_name(path: Path) -> str:
    """A short, readable name for a data file (its folder for ``*/train.csv``)."""
    return path.parent.name if path.stem == "train" else path.stem


def split_indices(
    labels: Sequence[int], holdout: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/held-out index split; tiny files are used for training only."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(labels)
    idx = np.arange(len(y))
    counts = np.bincount(y, minlength=2)
    if holdout <= 0 or counts.min() < 5:
        return idx, np.array([], dtype=int)
    tr, te = train_test_split(idx, test_size=holdout, stratify=y, random_state=seed)
    return np.sort(tr), np.sort(te)


def sample_weights(labels: np.ndarray, file_weight: float, unit: float) -> np.ndarray:
    """Give a file ``unit * file_weight`` total weight, half to each class."""
    w = np.zeros(len(labels), dtype=float)
    for cls in (0, 1):
        mask = labels == cls
        if mask.any():
            w[mask] = unit * file_weight / (2 * mask.sum())
    return w


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout.strip()


def git_commit() -> str | None:
    """Return the HEAD commit of the training code (with ``-dirty``), or None."""
    try:
        head = _git("rev-parse", "HEAD")
        dirty = _git("status", "--porcelain", "--", "train", "cyberscan/detector")
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "") if head else None


def choose_threshold(
    scores: np.ndarray, labels: np.ndarray, groups: np.ndarray, max_fpr: float
) -> tuple[float, dict[str, Any]]:
    """Pick the raw-probability threshold that maximises the mean per-file F1.

    Only thresholds whose weighted false-positive rate (each file's negatives weighted
    equally) stays within ``max_fpr`` are considered, because a false flag blocks a
    person.  Returns the threshold and a summary of the choice.
    """
    grid = np.round(np.arange(0.05, 0.951, 0.01), 4)
    best: tuple[float, float, float] | None = None
    fallback: tuple[float, float, float] | None = None
    for t in grid:
        f1s, fprs = [], []
        for g in np.unique(groups):
            m = groups == g
            res = binary_metrics(labels[m], scores[m], float(t))
            f1s.append(res["f1"])
            if (labels[m] == 0).any():
                fprs.append(res["false_positive_rate"])
        mean_f1 = float(np.mean(f1s))
        fpr = float(np.mean(fprs)) if fprs else 0.0
        if fallback is None or fpr < fallback[2]:
            fallback = (float(t), mean_f1, fpr)
        if fpr <= max_fpr and (best is None or mean_f1 > best[1]):
            best = (float(t), mean_f1, fpr)
    chosen = best or fallback
    assert chosen is not None
    return chosen[0], {
        "rule": f"max mean per-file F1 with mean per-file FPR <= {max_fpr}",
        "raw_threshold": chosen[0],
        "oof_mean_f1": chosen[1],
        "oof_mean_fpr": chosen[2],
    }


def logit(p: float) -> float:
    """Inverse of the logistic function."""
    return math.log(p / (1.0 - p))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the training CLI; return the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m train.train",
        description="Train a new cyberscan-clf-vN model from text,label CSV files.",
    )
    parser.add_argument(
        "--data",
        action="append",
        metavar="PATH[=WEIGHT]",
        help="training CSV (repeatable); default: the four shared corpora + train/data/*.csv",
    )
    parser.add_argument("--models-dir", default=str(DEFAULT_MODELS_DIR))
    parser.add_argument(
        "--version", type=int, help="version number (default: next free)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--holdout", type=float, default=0.2, help="held-out share per file"
    )
    parser.add_argument("--cv", type=int, default=5, help="CV folds (0 or 1 to skip)")
    parser.add_argument("--target-threshold", type=float, default=0.6)
    parser.add_argument("--max-fpr", type=float, default=0.10)
    parser.add_argument("--C", type=float, default=None, help="inverse regularisation")
    parser.add_argument(
        "--chat-eval", default=str(CHAT_EVAL), help="extra test CSV ('' to skip)"
    )
    parser.add_argument(
        "--no-report", action="store_true", help="skip the plots/report"
    )
    args = parser.parse_args(argv)
    try:
        return run(args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    """Train, evaluate and write a new artifact; see :func:`main` for the options."""
    import sklearn
    from sklearn.model_selection import StratifiedKFold

    from cyberscan.detector.artifact import (
        ArtifactError,
        existing_versions,
        save_artifact,
    )
    from cyberscan.detector.classifier import Detector
    from cyberscan.detector.pipeline import DEFAULT_PARAMS, build_pipeline

    if not 0.0 < args.target_threshold < 1.0:
        raise DataError(
            f"--target-threshold must be in (0, 1), got {args.target_threshold}"
        )
    if not 0.0 <= args.holdout < 1.0:
        raise DataError(f"--holdout must be in [0, 1), got {args.holdout}")
    models_dir = Path(args.models_dir)
    if args.version is not None and args.version in existing_versions(models_dir):
        raise DataError(f"version v{args.version} already exists in {models_dir}")
    params = dict(DEFAULT_PARAMS, random_state=args.seed)
    if args.C is not None:
        params["C"] = args.C
    do_cv = args.cv >= 2
    progress = Progress(7)

    progress.stage("reading and validating data")
    sources: list[Source] = []
    for spec in args.data or default_data_files():
        path, weight = parse_data_arg(spec)
        data = read_labelled_csv(path)
        tr, te = split_indices(data.labels, args.holdout, args.seed)
        sources.append(Source(source_name(Path(path)), data, weight, tr, te))
        progress.info(
            f"{path}: {len(data.labels)} rows, {sum(data.labels)} positive, "
            f"weight {weight:g}, {len(tr)} train / {len(te)} held out"
        )
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        for i, s in enumerate(sources):
            s.name = f"{i}:{s.name}"
    progress.done()

    progress.stage("assembling the weighted training set")
    texts: list[str] = []
    labels: list[int] = []
    weights: list[float] = []
    groups: list[int] = []
    for gi, s in enumerate(sources):
        y = np.asarray(s.data.labels)[s.train_idx]
        texts += [s.data.texts[i] for i in s.train_idx]
        labels += y.tolist()
        weights += sample_weights(y, s.weight, 10_000.0).tolist()
        groups += [gi] * len(y)
    y_all = np.asarray(labels)
    w_all = np.asarray(weights)
    g_all = np.asarray(groups)
    if len(set(labels)) < 2:
        raise DataError(
            "the training parts hold only one class; add files with both labels"
        )
    progress.info(f"{len(texts)} training texts from {len(sources)} file(s)")
    progress.done()

    cv_summary: dict[str, Any] = {"folds": 0}
    strata = g_all * 2 + y_all
    n_folds = min(args.cv, int(np.bincount(strata)[np.bincount(strata) > 0].min()))
    if do_cv and n_folds >= 2:
        progress.stage(f"{n_folds}-fold cross-validation on the training parts")
        oof = np.zeros(len(texts))
        fold_rows = []
        skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=args.seed)
        for k, (a, b) in enumerate(skf.split(np.zeros(len(strata)), strata), start=1):
            model = build_pipeline(**params)
            model.fit(
                [texts[i] for i in a],
                y_all[a],
                nb__sample_weight=w_all[a],
                clf__sample_weight=w_all[a],
            )
            oof[b] = model.predict_proba([texts[i] for i in b])[:, 1]
            fold_rows.append(binary_metrics(y_all[b], oof[b], 0.5))
            progress.info(f"fold {k}/{n_folds}: ROC AUC {fold_rows[-1]['roc_auc']:.4f}")
        raw_t, choice = choose_threshold(oof, y_all, g_all, args.max_fpr)
        cv_summary = {"folds": n_folds}
        for key in ("roc_auc", "average_precision"):
            vals = [r[key] for r in fold_rows if r[key] is not None]
            cv_summary[key] = {"mean": float(np.mean(vals)), "std": float(np.std(vals))}
        per_file = {}
        for gi, s in enumerate(sources):
            m = g_all == gi
            per_file[s.name] = binary_metrics(y_all[m], oof[m], raw_t)
        cv_summary["out_of_fold_at_threshold"] = per_file
        progress.info(
            f"ROC AUC {cv_summary['roc_auc']['mean']:.4f} ± {cv_summary['roc_auc']['std']:.4f};"
            f" chosen raw threshold {raw_t:.2f}"
        )
        progress.done()
    else:
        progress.stage("cross-validation skipped (--cv < 2 or too few rows)")
        raw_t = 0.5
        choice = {
            "rule": "no cross-validation: raw threshold 0.5",
            "raw_threshold": 0.5,
        }
        progress.done()

    progress.stage("fitting the final model on all training parts")
    model = build_pipeline(**params)
    model.fit(texts, y_all, nb__sample_weight=w_all, clf__sample_weight=w_all)
    shift = logit(args.target_threshold) - logit(raw_t)
    model.named_steps["clf"].intercept_ = model.named_steps["clf"].intercept_ + shift
    n_word = len(model.named_steps["features"].transformer_list[0][1].vocabulary_)
    n_char = len(model.named_steps["features"].transformer_list[1][1].vocabulary_)
    progress.info(
        f"{n_word} word + {n_char} char features; intercept shifted by {shift:+.4f}"
    )
    progress.done()

    progress.stage("measuring the held-out parts")
    detector = Detector(
        model, {"version": "unsaved", "threshold": args.target_threshold}
    )
    held_out: dict[str, Any] = {}
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for s in sources:
        if len(s.test_idx) == 0:
            continue
        y = np.asarray(s.data.labels)[s.test_idx]
        p = np.array([detector.probability(s.data.texts[i]) for i in s.test_idx])
        held_out[s.name] = binary_metrics(y, p, args.target_threshold)
        curves[s.name] = (y, p)
        r = held_out[s.name]
        progress.info(
            f"{s.name}: n={r['n']} ROC AUC {r['roc_auc']:.4f} AP {r['average_precision']:.4f} "
            f"P {r['precision']:.3f} R {r['recall']:.3f} F1 {r['f1']:.3f} "
            f"FPR {r['false_positive_rate']:.3f}"
        )
    chat: dict[str, Any] | None = None
    if args.chat_eval and Path(args.chat_eval).is_file():
        ev = read_labelled_csv(args.chat_eval, require_both_classes=False)
        p = np.array([detector.probability(t) for t in ev.texts])
        chat = {
            "file": str(Path(args.chat_eval).resolve().relative_to(REPO_ROOT))
            if Path(args.chat_eval).resolve().is_relative_to(REPO_ROOT)
            else str(args.chat_eval),
            "sha256": ev.sha256,
            "all": binary_metrics(ev.labels, p, args.target_threshold),
            "by_category": {},
        }
        for cat in sorted(set(ev.categories)):
            idx = [i for i, c in enumerate(ev.categories) if c == cat]
            chat["by_category"][cat] = binary_metrics(
                [ev.labels[i] for i in idx], p[idx], args.target_threshold
            )
        curves["chat_eval"] = (np.asarray(ev.labels), p)
        clean = [i for i, lab in enumerate(ev.labels) if lab == 0]
        abuse = [i for i, lab in enumerate(ev.labels) if lab == 1]
        chat["clean_flag_rate"] = (
            float(np.mean(p[clean] >= args.target_threshold)) if clean else None
        )
        chat["abuse_recall"] = (
            float(np.mean(p[abuse] >= args.target_threshold)) if abuse else None
        )
        progress.info(
            f"chat_eval: clean flagged {chat['clean_flag_rate']:.3f}, "
            f"abuse caught {chat['abuse_recall']:.3f} (n={len(ev.labels)})"
        )
    progress.done()

    progress.stage("writing the artifact and model card")
    card = {
        "name": "cyberscan-clf",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python_version": platform.python_version(),
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "git_commit": git_commit(),
        "label_names": {"0": "clean", "1": "bullying"},
        "threshold": args.target_threshold,
        "threshold_choice": {**choice, "intercept_shift": shift},
        "data": [
            {
                "name": s.name,
                "path": _display_path(s.data.path),
                "sha256": s.data.sha256,
                "rows": len(s.data.labels),
                "positives": int(sum(s.data.labels)),
                "weight": s.weight,
                "train_rows": int(len(s.train_idx)),
                "held_out_rows": int(len(s.test_idx)),
            }
            for s in sources
        ],
        "split": {
            "holdout": args.holdout,
            "seed": args.seed,
            "stratified_per_file": True,
        },
        "hyperparameters": params,
        "features": {"word_ngrams": n_word, "char_ngrams": n_char},
        "cv": cv_summary,
        "held_out": held_out,
        "chat_eval": chat,
        "trust": "joblib pickle: load only artifacts produced by this repository's train/",
    }
    try:
        model_path, card_path = save_artifact(
            model, models_dir, rounded(card, 6), args.version
        )
    except ArtifactError as exc:
        raise DataError(str(exc)) from None
    progress.info(f"wrote {model_path} ({model_path.stat().st_size / 1e6:.2f} MB)")
    progress.info(f"wrote {card_path}")
    progress.done()

    progress.stage("drawing the report")
    if args.no_report:
        progress.info("skipped (--no-report)")
    else:
        from train.report import write_report

        report_dir = write_report(model_path, card_path, curves, args.target_threshold)
        progress.info(f"wrote {report_dir}/index.html")
    progress.done()
    return 0


def _display_path(path: Path) -> str:
    resolved = path.resolve()
    for base, prefix in ((REPO_ROOT, ""), (REPO_ROOT.parent, "../")):
        if resolved.is_relative_to(base):
            return prefix + str(resolved.relative_to(base))
    return str(path)


if __name__ == "__main__":
    sys.exit(main())
