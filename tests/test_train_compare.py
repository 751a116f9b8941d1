"""``python -m train.compare``: two versions on the same rows, paired bootstrap intervals."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tests.helpers import GOOD_ROWS as ROWS
from tests.helpers import write_corpora
from train import compare, evaluate, train
from train.data import CORPORA, command
from train.train import split_indices

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rows_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rows both versions train on (read only: a test that needs another file
    writes its own)."""
    path = tmp_path_factory.mktemp("rows") / "rows.csv"
    lines = ["text,label,category"] + [f'"{t}",{y},x' for t, y in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained_pair(rows_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1 (default C) and v2 (a much weaker fit) on the same rows, trained once."""
    models = tmp_path_factory.mktemp("pair") / "models"
    common = ["--cv", "0", "--dev-set", "", "--no-report", "--models-dir", str(models)]
    assert train.main([*common, "--data", str(rows_csv)]) == 0
    assert train.main([*common, "--data", str(rows_csv), "--C", "0.001"]) == 0
    return models


@pytest.fixture
def two_versions(trained_pair: Path, tmp_path: Path) -> Path:
    """A test's own copy of the pair's models folder, free to add versions or edit
    cards in."""
    return Path(shutil.copytree(trained_pair, tmp_path / "models"))


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_identical_scores_differ_by_exactly_nothing() -> None:
    y = np.array([0, 1] * 50)
    s = np.linspace(0.0, 1.0, 100)
    got = compare.compare_rows(y, {"a": s, "b": s.copy()}, 0.6, 200, seed=1)
    for key in ("accuracy_difference", "roc_auc_difference"):
        assert got[key] == {"value": 0.0, "interval_95": [0.0, 0.0]}
    assert got["a"] == got["b"]


def test_the_bootstraps_auc_is_scikit_learns() -> None:
    """The bootstrap's rank AUC gives scikit-learn's figure and interval, ties and
    tiny sets included (it is only faster)."""
    rng = np.random.default_rng(7)
    for n in (3, 4, 11, 60, 700):
        for _ in range(40):
            y = rng.integers(0, 2, n)
            if not 0 < y.sum() < n:
                continue
            s = np.round(rng.random(n), 1)  # many ties
            assert compare.rank_auc(y, s) == pytest.approx(
                roc_auc_score(y, s), abs=1e-12
            )
    y = rng.integers(0, 2, 300)
    a, b = rng.random(300), np.clip(rng.random(300) * 0.5 + y * 0.4, 0, 1)
    mine, theirs = (
        compare.paired_interval(y, a, b, metric, 300, np.random.default_rng(1))
        for metric in (compare.rank_auc, roc_auc_score)
    )
    assert mine == pytest.approx(theirs, abs=1e-12)


def test_a_clearly_better_model_has_an_interval_above_zero() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    good = np.where(y == 1, 0.9, 0.1)
    # right on only half the rows: a coin flip per row
    coin = np.where(rng.integers(0, 2, 400) == 1, 0.9, 0.1)
    got = compare.compare_rows(y, {"coin": coin, "good": good}, 0.6, 500, seed=2)
    assert got["good"]["errors"] == 0 and got["good"]["accuracy"] == 1.0
    assert got["coin"]["errors"] == int(np.sum((coin >= 0.6) != (y == 1)))
    low, high = got["accuracy_difference"]["interval_95"]
    assert 0.0 < low <= got["accuracy_difference"]["value"] <= high
    assert got["roc_auc_difference"]["interval_95"][0] > 0.0
    # the other way round, the interval lies entirely below zero
    back = compare.compare_rows(y, {"good": good, "coin": coin}, 0.6, 500, seed=2)
    assert back["accuracy_difference"]["interval_95"][1] < 0.0


def test_one_label_rows_get_accuracy_only_and_tiny_sets_redraw() -> None:
    clean = np.zeros(50, dtype=int)
    got = compare.compare_rows(
        clean, {"a": np.full(50, 0.7), "b": np.full(50, 0.1)}, 0.6, 100, seed=0
    )
    assert "roc_auc_difference" not in got and got["a"]["roc_auc"] is None
    assert got["accuracy_difference"] == {"value": 1.0, "interval_95": [1.0, 1.0]}
    # three rows, both labels: resamples drawing one label are drawn again, so the
    # AUC of every kept resample is defined
    y = np.array([0, 1, 1])
    got = compare.compare_rows(
        y, {"a": np.array([0.2, 0.8, 0.1]), "b": np.array([0.1, 0.9, 0.8])}, 0.6, 100, 0
    )
    assert got["roc_auc_difference"]["value"] == pytest.approx(0.5)


def test_cli_compares_two_trained_versions_on_a_csv(
    two_versions: Path, rows_csv: Path, capsys
) -> None:
    capsys.readouterr()
    argv = ["v1", "v2", "--data", str(rows_csv), "--models-dir", str(two_versions)]
    assert compare.main([*argv, "--resamples", "200"]) == 0
    (result,) = lines(capsys.readouterr().out)
    assert result["n"] == len(ROWS) and result["positives"] == 6
    assert result["threshold"] == 0.6
    # each version's errors are what train.evaluate counts for it on the same file
    for version in ("v1", "v2"):
        model = two_versions / f"cyberscan-clf-{version}.joblib"
        assert evaluate.main(["--data", str(rows_csv), "--model", str(model)]) == 0
        confusion = json.loads(capsys.readouterr().out)["confusion"]
        mine = result[f"cyberscan-clf-{version}"]
        assert mine["errors"] == confusion["fp"] + confusion["fn"]
    diff = result["accuracy_difference"]
    errors = [result[f"cyberscan-clf-{v}"]["errors"] for v in ("v1", "v2")]
    assert diff["value"] == pytest.approx((errors[0] - errors[1]) / len(ROWS), abs=1e-4)
    assert diff["interval_95"][0] <= diff["value"] <= diff["interval_95"][1]


def test_cli_scores_each_corpus_held_out_rows(
    two_versions: Path, rows_csv: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    corpora = write_corpora(tmp_path / "corpora", rows_csv)
    monkeypatch.setenv("CYBERSCAN_DATA_DIR", str(corpora))
    capsys.readouterr()
    argv = [
        "v1",
        "v2",
        "--corpora",
        "--models-dir",
        str(two_versions),
        "--resamples",
        "100",
    ]
    assert compare.main(argv) == 0
    results = lines(capsys.readouterr().out)
    # --corpora alone scores the corpora only, each on the split in v2's card
    assert [r["data"] for r in results] == [f"{c} (held out)" for c in CORPORA]
    card = json.loads((two_versions / "cyberscan-clf-v2.json").read_text())
    _, test = split_indices(
        [y for _, y in ROWS], card["split"]["holdout"], card["split"]["seed"]
    )
    assert {r["n"] for r in results} == {len(test)}


def test_corpora_refuse_a_version_fitted_on_every_row(
    two_versions: Path, rows_csv: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A model fitted on every row (``--holdout 0``, as v27 was) has seen the rows
    another version holds out, so its corpus figures would flatter it:
    ``--corpora`` says so, in either order, and scores nothing."""
    common = ["--cv", "0", "--dev-set", "", "--no-report"]
    argv = [*common, "--models-dir", str(two_versions), "--data", str(rows_csv)]
    assert train.main([*argv, "--holdout", "0"]) == 0
    card = json.loads((two_versions / "cyberscan-clf-v3.json").read_text())
    assert card["split"]["holdout"] == 0 and card["held_out"] == {}
    monkeypatch.setenv(
        "CYBERSCAN_DATA_DIR", str(write_corpora(tmp_path / "c", rows_csv))
    )
    capsys.readouterr()
    for pair in (["v1", "v3"], ["v3", "v1"]):
        assert (
            compare.main([*pair, "--corpora", "--models-dir", str(two_versions)]) == 2
        )
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("error: --corpora needs held-out rows")
        assert "cyberscan-clf-v3 was fitted on every row (--holdout 0)" in err
    # split otherwise: each holds out rows the other was fitted on
    assert train.main([*argv, "--holdout", "0.3"]) == 0
    assert (
        compare.main(["v1", "v4", "--corpora", "--models-dir", str(two_versions)]) == 2
    )
    err = capsys.readouterr().err
    assert "needs two versions split the same way: cyberscan-clf-v1" in err
    # the development rows are still fair to both
    pair = ["v1", "v3", "--data", str(rows_csv), "--resamples", "100"]
    assert compare.main([*pair, "--models-dir", str(two_versions)]) == 0
    assert [r["n"] for r in lines(capsys.readouterr().out)] == [len(ROWS)]


def test_corpora_refuse_a_card_that_does_not_record_its_split(
    two_versions: Path, rows_csv: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A hand-edited card without its seed (or holdout) cannot say which rows its
    model saw: one clear line, in either order, not a KeyError; nothing scored."""
    monkeypatch.setenv(
        "CYBERSCAN_DATA_DIR", str(write_corpora(tmp_path / "c", rows_csv))
    )
    path = two_versions / "cyberscan-clf-v2.json"
    full = json.loads(path.read_text())
    assert train.card_split(full) == (0.2, 42)
    for key in ("seed", "holdout"):
        card = json.loads(path.read_text())
        del card["split"][key]
        path.write_text(json.dumps(card))
        assert train.card_split(card) is None
        assert not train.held_out_from(card, 0.2, 42)
        capsys.readouterr()
        for pair in (["v1", "v2"], ["v2", "v1"]):
            argv = [*pair, "--corpora", "--models-dir", str(two_versions)]
            assert compare.main(argv) == 2
            out, err = capsys.readouterr()
            assert out == ""
            assert err == (
                "error: --corpora needs each version's split: the card of "
                "cyberscan-clf-v2 does not record its holdout and seed, so the rows "
                "its model saw are unknown; drop --corpora\n"
            )
        path.write_text(json.dumps(full))


def test_cli_errors_are_one_clear_line(
    two_versions: Path, rows_csv: Path, tmp_path, capsys
) -> None:
    # one run in a real process: exit code 2, one line on stderr, no traceback
    missing = subprocess.run(
        [sys.executable, "-m", "train.compare", "v1", "v9", "--data", str(rows_csv)]
        + ["--models-dir", str(two_versions)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.startswith("error: ") and "Traceback" not in missing.stderr
    assert len(missing.stderr.splitlines()) == 1
    assert "cyberscan-clf-v9.joblib" in missing.stderr

    def run(*args: str) -> str:
        """The same CLI in this process (the rest of its refusals): exit code 2,
        nothing on stdout, one error line on stderr, which is returned."""
        capsys.readouterr()
        code = compare.main([*args, "--models-dir", str(two_versions)])
        out, err = capsys.readouterr()
        assert code == 2 and out == "", (code, out, err)
        assert err.startswith("error: ") and len(err.splitlines()) == 1, err
        return err

    same = run("v1", "cyberscan-clf-v1", "--data", str(rows_csv))
    assert "compare two different versions, not cyberscan-clf-v1 with itself" in same
    few = run("v1", "v2", "--data", str(rows_csv), "--resamples", "10")
    assert "--resamples must be at least 100" in few
    odd = run("v1", "v2", "--data", str(rows_csv), "--threshold", "1.5")
    assert "--threshold must be between 0 and 1, got 1.5" in odd
    seed = run("v1", "v2", "--data", str(rows_csv), "--seed", "-1")
    assert "--seed must be 0 or more, got -1" in seed
    nowhere = run("v1", "v2", "--corpora", str(tmp_path / "nowhere"))
    assert nowhere.startswith(
        f"error: {tmp_path / 'nowhere'}: folder not found (from --corpora); "
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("text\nhello\n", encoding="utf-8")
    assert str(bad) in run("v1", "v2", "--data", str(bad))


def test_scoring_a_training_file_warns(
    two_versions: Path, rows_csv: Path, tmp_path: Path, capsys
) -> None:
    """Both versions were trained on rows.csv: figures on it flatter them, and the
    CLIs say so; another file gets no warning."""
    capsys.readouterr()
    args = ["v1", "v2", "--resamples", "100", "--models-dir", str(two_versions)]
    assert compare.main([*args, "--data", str(rows_csv)]) == 0
    err = capsys.readouterr().err
    for name in ("cyberscan-clf-v1", "cyberscan-clf-v2"):
        assert f"warning: {rows_csv} is one of {name}'s training files" in err, err
    model = str(two_versions / "cyberscan-clf-v1.joblib")
    assert evaluate.main(["--data", str(rows_csv), "--model", model]) == 0
    assert "is one of cyberscan-clf-v1's training files" in capsys.readouterr().err
    other = tmp_path / "other.csv"
    other.write_text(rows_csv.read_text() + '"one more row",0,x\n', encoding="utf-8")
    assert evaluate.main(["--data", str(other), "--model", model]) == 0
    assert "warning" not in capsys.readouterr().err


@pytest.fixture
def corpus_versions(rows_csv: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A corpora folder and two versions trained on two of its corpora (their cards
    record those two files' sha256, and nothing for the other three)."""
    corpora = write_corpora(tmp_path / "corpora", rows_csv)
    models = tmp_path / "models"
    common = ["--cv", "0", "--dev-set", "", "--no-report", "--models-dir", str(models)]
    common += ["--data", str(rows_csv)]  # chat beside the corpora, as a default run has
    for name in ("cyberbullying_tweets", "olid_offensive"):
        common += ["--data", str(corpora / name / "train.csv")]
    assert train.main(common) == 0
    assert train.main([*common, "--C", "0.001"]) == 0
    return models, corpora


def test_corpora_are_checked_against_the_sha256_the_cards_recorded(
    corpus_versions: tuple[Path, Path], capsys
) -> None:
    """Another copy of a corpus holds out other rows than the cards' split did: each
    such file is named with the digest the cards recorded and its own, and nothing is
    scored unless --allow-other-corpora says to; a corpus the cards record nothing for
    is said to be unchecked."""
    models, corpora = corpus_versions
    argv = ["v1", "v2", "--corpora", str(corpora), "--models-dir", str(models)]
    argv += ["--resamples", "100"]
    capsys.readouterr()
    assert compare.main(argv) == 0
    out, err = capsys.readouterr()
    assert len(lines(out)) == len(CORPORA)
    assert "warning" not in err and "error" not in err
    for name in ("davidson_hate_offensive", "kaggle_insults", "toxigen_implicit"):
        assert (
            f"note: the cards of cyberscan-clf-v1 and cyberscan-clf-v2 record no "
            f"{name} file, so {corpora / name / 'train.csv'} is not checked and has "
            "no figures in those cards to compare with"
        ) in err, err
    assert "record no cyberbullying_tweets" not in err

    olid = corpora / "olid_offensive" / "train.csv"
    recorded = hashlib.sha256(olid.read_bytes()).hexdigest()
    olid.write_text(olid.read_text() + '"one more row",0,x\n', encoding="utf-8")
    actual = hashlib.sha256(olid.read_bytes()).hexdigest()
    assert compare.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    mismatch = (
        f"warning: {olid}: sha256 {actual[:12]}, but the cards of cyberscan-clf-v1 "
        f"and cyberscan-clf-v2 recorded {recorded[:12]}: another copy of "
        "olid_offensive, so its figures are not comparable to the cards'"
    )
    assert mismatch in err.splitlines(), err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: 1 corpus file is not the copy the cards recorded (above), so its "
        "held-out rows are not the rows the models held out; score the recorded "
        f"copies (`{command('train.fetch_data --dest DIR')}` fetches the pinned ones), or "
        "pass --allow-other-corpora to score these anyway"
    ]
    assert "cyberbullying_tweets/train.csv: sha256" not in err

    assert compare.main([*argv, "--allow-other-corpora"]) == 0
    out, err = capsys.readouterr()
    assert len(lines(out)) == len(CORPORA)
    assert mismatch in err.splitlines() and "error" not in err


def test_progress_goes_to_stderr_and_the_report_is_unchanged(
    two_versions: Path, rows_csv: Path, capsys
) -> None:
    """A comparison runs for minutes on a slow machine: stderr says which set, how many
    rows, which version is being scored and the time so far; stdout stays one JSON
    object a set."""
    capsys.readouterr()
    argv = ["v1", "v2", "--data", str(rows_csv), "--data", str(rows_csv)]
    assert (
        compare.main([*argv, "--resamples", "100", "--models-dir", str(two_versions)])
        == 0
    )
    out, err = capsys.readouterr()
    assert [r["n"] for r in lines(out)] == [len(ROWS), len(ROWS)]
    progress = [line for line in err.splitlines() if "warning" not in line]
    patterns = [
        pattern
        for k in (1, 2)
        for pattern in (
            rf"\[{k}/2\] {re.escape(str(rows_csv))}: {len(ROWS)} rows \.\.\.",
            r"      cyberscan-clf-v1 scored in \d+\.\ds",
            r"      cyberscan-clf-v2 scored in \d+\.\ds",
            r"      paired bootstrap, 100 resamples",
            r"      done in \d+\.\ds \(total \d+\.\ds\)",
        )
    ]
    assert len(progress) == len(patterns), err
    for line, pattern in zip(progress, patterns, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)


def test_development_sets_are_checked_against_the_sha256_the_cards_recorded(
    two_versions: Path, capsys
) -> None:
    """A card's figures on a development set are for the file it recorded: a set whose
    sha256 differs (edited since) is named on stderr, one line with both digests, and
    still scored, since both versions score the same rows; a set that matches, or that
    a card records nothing for, is not named."""
    dev = REPO / "train" / "eval" / "dev_set.csv"
    other = REPO / "train" / "eval" / "dev_set_v13.csv"
    actual, other_sha = (
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (dev, other)
    )
    older = "0123456789ab" + "c" * 52  # the card of an earlier copy of dev_set.csv
    for version, digest in (("v1", older), ("v2", actual)):
        path = two_versions / f"cyberscan-clf-{version}.json"
        card = json.loads(path.read_text())
        card["dev_set"] = {"path": "train/eval/dev_set.csv", "sha256": digest}
        card["more_dev_sets"] = [
            {"path": "train/eval/dev_set_v13.csv", "sha256": other_sha}
        ]
        path.write_text(json.dumps(card))
    mismatch = (
        f"warning: train/eval/dev_set.csv: sha256 {actual[:12]}, but the card of "
        "cyberscan-clf-v1 recorded 0123456789ab: another version of this development "
        "set, so the card's figures on it are not comparable (both versions are "
        "scored on these rows)"
    )
    argv = ["v1", "v2", "--resamples", "100", "--models-dir", str(two_versions)]
    capsys.readouterr()
    assert compare.main(argv) == 0  # every train/eval/*.csv
    out, err = capsys.readouterr()
    scored = [r["data"] for r in lines(out)]
    assert "train/eval/dev_set.csv" in scored and len(scored) > 2
    assert [line for line in err.splitlines() if "sha256" in line] == [mismatch], err
    # a set named with --data is the same file: the same line
    assert compare.main([*argv, "--data", str(dev), "--data", str(other)]) == 0
    out, err = capsys.readouterr()
    assert [r["data"] for r in lines(out)] == [
        "train/eval/dev_set.csv",
        "train/eval/dev_set_v13.csv",
    ]
    assert [line for line in err.splitlines() if "sha256" in line] == [mismatch], err


def test_a_difference_that_rounds_to_zero_prints_as_zero() -> None:
    """A paired difference of -0.00001 is printed 0.0, not "-0.0" (which reads as a
    loss that is not there)."""
    from train.metrics import rounded

    shown = json.dumps(rounded({"value": -0.00001, "interval_95": [-0.00004, 0.0007]}))
    assert shown == '{"value": 0.0, "interval_95": [0.0, 0.0007]}'
