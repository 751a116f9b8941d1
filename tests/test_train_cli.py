"""The training and evaluation CLIs: versioned output, clear errors for bad CSV files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cyberscan.detector.artifact import sha256_file
from cyberscan.detector.classifier import Detector
from cyberscan.detector.features import addresses_reader, normalized
from tests.helpers import GOOD_ROWS, write_corpora
from train import evaluate, fetch_data, report, train
from train.data import CORPORA, DataError, command

REPO = Path(__file__).resolve().parents[1]


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def good_csv(tmp_path: Path) -> Path:
    lines = ["text,label,category"] + [f'"{t}",{y},x' for t, y in GOOD_ROWS]
    return write_csv(tmp_path / "good.csv", "\n".join(lines) + "\n")


def run_train(*args: str) -> int:
    return train.main(["--cv", "2", "--dev-set", "", *args])


def test_train_writes_next_version_without_touching_earlier(
    good_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    assert (
        run_train("--data", str(good_csv), "--models-dir", str(models), "--no-report")
        == 0
    )
    first = models / "cyberscan-clf-v1.joblib"
    before = sha256_file(first)
    out = capsys.readouterr().out
    assert "[1/8]" in out and "[8/8]" in out
    # Not `train.promote v1`: that serves models/'s own v1, not this one.
    assert f"serve it with `CLASSIFIER_PATH={first} scripts/run`" in out
    assert train.serving_command(
        train.DEFAULT_MODELS_DIR / "cyberscan-clf-v9.joblib"
    ) == command("train.promote v9")

    assert run_train("--data", f"{good_csv}=2", "--models-dir", str(models)) == 0
    assert sha256_file(first) == before
    card = json.loads((models / "cyberscan-clf-v2.json").read_text())
    assert card["version"] == "cyberscan-clf-v2"
    assert card["artifact_sha256"] == sha256_file(models / "cyberscan-clf-v2.joblib")
    assert card["threshold"] == 0.6
    assert card["data"][0]["sha256"] and card["data"][0]["weight"] == 2
    for key in (
        "python_version",
        "sklearn_version",
        "hyperparameters",
        "cv",
        "held_out",
    ):
        assert key in card
    report = models / "cyberscan-clf-v2-report"
    for name in (
        "index.html",
        "report.md",
        "roc.png",
        "precision_recall.png",
        "histograms.png",
    ):
        assert (report / name).is_file(), name
        assert (report / name).stat().st_size < 200_000


def test_train_refuses_existing_version(good_csv: Path, tmp_path: Path, capsys) -> None:
    models = tmp_path / "models"
    assert (
        run_train("--data", str(good_csv), "--models-dir", str(models), "--no-report")
        == 0
    )
    code = run_train(
        "--data", str(good_csv), "--models-dir", str(models), "--version", "1"
    )
    assert code != 0
    assert "already exists" in capsys.readouterr().err


def test_a_models_dir_that_is_a_file_stops_before_training(
    good_csv: Path, tmp_path: Path, capsys
) -> None:
    """A --models-dir naming a file (or a folder under one) is refused before any work,
    not with a traceback after the whole run."""
    for models in (good_csv, good_csv / "models"):
        assert run_train("--data", str(good_csv), "--models-dir", str(models)) == 2
        out, err = capsys.readouterr()
        assert "[1/8]" not in out and "Traceback" not in err
        assert err == (
            f"error: --models-dir {models}: {good_csv} is a file, not a folder\n"
        )


BAD_CSVS = {
    "empty": ("", "file is empty"),
    "blank": ("\n\n", "file is empty"),
    "no_label_column": (
        "text,score\nhello,1\n",
        "line 1: header lacks the column(s) label",
    ),
    "no_columns": (
        "just some words\n",
        "line 1: header lacks the column(s) text, label",
    ),
    "one_class": ("text,label\nhello,0\nworld,0\n", "every row has label 0"),
    "bad_label": (
        "text,label\nhello,0\nworld,yes\nbye,1\n",
        "line 3: label must be 0 or 1",
    ),
    "empty_text": ("text,label\nhello,0\n ,1\n", "line 3: text is empty"),
    "short_row": ("text,label\nhello,0\nworld\n", "line 3: expected 2 fields"),
    "long_row": ("text,label\nhello,0\nworld,1,extra\n", "line 3: expected 2 fields"),
    "only_header": ("text,label\n", "no data rows"),
    "multiline_then_bad": (
        'text,label\n"two\nlines",0\nok,1\nbad,2\n',
        "line 5: label must be 0 or 1",
    ),
}


def test_without_matplotlib_the_run_stops_before_training_not_after(
    good_csv: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """``python -m train.train`` in a server-only install (no requirements-train.txt):
    the report's matplotlib was imported at the end, so a run trained for its minutes
    and stopped with an ImportError traceback; it says what to install first."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    models = tmp_path / "models"
    capsys.readouterr()
    assert run_train("--data", str(good_csv), "--models-dir", str(models)) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (
        "error: the report needs matplotlib, one of the training packages: install "
        "them with `scripts/bootstrap train` (scripts/train does), or pass "
        "--no-report\n"
    ), err
    assert not models.exists()


def test_a_report_that_cannot_be_written_ends_in_one_line_after_the_model(
    good_csv: Path, tmp_path: Path, capsys
) -> None:
    """The report is drawn after the model is saved; when its folder cannot be made (a
    full disk, a folder not writable: here a real filesystem fault, a link where the
    folder goes to a place that does not exist, which the check before training does
    not see), the run ends with one line that says the model is complete and how to
    serve it, not with a traceback, and the model it wrote loads and scores."""
    models = tmp_path / "models"
    models.mkdir()
    (models / "cyberscan-clf-v1-report").symlink_to(tmp_path / "nowhere" / "report")
    capsys.readouterr()
    assert run_train("--data", str(good_csv), "--models-dir", str(models)) == 2
    _, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines[-1].startswith(
        "error: cyberscan-clf-v1.joblib and its card are written and can be served "
        f"(`CLASSIFIER_PATH={models / 'cyberscan-clf-v1.joblib'} scripts/run`), "
        "but not their report: "
    ), err
    assert str(models / "cyberscan-clf-v1-report") in lines[-1]
    assert "Traceback" not in err
    detector = Detector.from_path(models / "cyberscan-clf-v1.joblib")
    assert detector.version == "cyberscan-clf-v1"
    assert 0.0 <= detector.probability("you are a worthless loser") <= 1.0


def test_a_report_folder_left_from_an_earlier_run_stops_before_training(
    good_csv: Path, tmp_path: Path, capsys
) -> None:
    """A student who deleted a version's .joblib and .json but not its report folder:
    the next run would write that version again, train, write the artifact and then
    stop with a FileExistsError traceback at the report; it stops before any work."""
    models = tmp_path / "models"
    (models / "cyberscan-clf-v1-report").mkdir(parents=True)
    capsys.readouterr()
    assert run_train("--data", str(good_csv), "--models-dir", str(models)) == 2
    out, err = capsys.readouterr()
    assert err == (
        f"error: {models / 'cyberscan-clf-v1-report'} is left from an earlier run "
        "(no cyberscan-clf-v1.joblib beside it); remove it, or pass --version N or "
        "--no-report\n"
    ), err
    assert out == "" and sorted(p.name for p in models.iterdir()) == [
        "cyberscan-clf-v1-report"
    ]
    argv = ["--data", str(good_csv), "--models-dir", str(models), "--no-report"]
    assert run_train(*argv) == 0
    assert (models / "cyberscan-clf-v1.joblib").is_file()


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_train_bad_csv_names_file_and_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, message = BAD_CSVS[case]
    bad = write_csv(tmp_path / f"{case}.csv", content)
    code = run_train("--data", str(bad), "--models-dir", str(tmp_path / "m"))
    err = capsys.readouterr().err
    assert code != 0
    assert str(bad) in err and message in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_train_missing_and_undecodable_files(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nope.csv"
    assert run_train("--data", str(missing), "--models-dir", str(tmp_path / "m")) != 0
    assert f"{missing}: file not found" in capsys.readouterr().err
    # A weight that is no number is said to be one, not a file not found.
    assert (
        run_train("--data", f"{missing}=abc", "--models-dir", str(tmp_path / "m")) != 0
    )
    assert f"{missing}=abc: file not found" in capsys.readouterr().err
    named = write_csv(tmp_path / "mine.csv", "text,label\nhello,0\n")
    argv = ["--data", f"{named}=abc", "--models-dir", str(tmp_path / "m")]
    assert run_train(*argv) != 0
    assert f"{named}: weight must be a positive number, got 'abc'" in (
        capsys.readouterr().err
    )
    # One file named twice (two weights, or a slip) would count its rows twice.
    models = tmp_path / "m2"
    argv = ["--data", f"{named}=0.5", "--data", str(named), "--models-dir", str(models)]
    assert run_train(*argv) != 0
    err = capsys.readouterr().err
    assert f"{named}: named twice with --data (as {named} too)" in err
    assert "Traceback" not in err and not list(models.glob("*.joblib"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"text,label\nhello,0\ncaf\xe9,1\n")
    assert run_train("--data", str(latin), "--models-dir", str(tmp_path / "m")) != 0
    assert f"{latin}, line 3: not valid UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize("copy", ["itself", "renamed", "re-cut"])
def test_train_refuses_a_development_set(
    copy: str, good_csv: Path, tmp_path: Path, capsys
) -> None:
    dev = REPO / "train" / "eval" / "dev_set.csv"
    if copy == "itself":
        data = dev
    elif copy == "renamed":
        data = tmp_path / "my.csv"
        data.write_bytes(dev.read_bytes())
    else:
        # half the development set's rows added to a training file
        dev_rows = dev.read_text("utf-8").splitlines()[1:]
        header = dev.read_text("utf-8").splitlines()[0]
        good = [f'"{t}",{y},x' for t, y in GOOD_ROWS]
        data = write_csv(
            tmp_path / "mixed.csv",
            "\n".join([header, *good, *dev_rows[: len(dev_rows) // 2]]) + "\n",
        )
    code = run_train(
        "--data",
        str(good_csv),
        "--data",
        str(data),
        "--models-dir",
        str(tmp_path / "m"),
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"error: {data}:" in err and "development set train/eval/dev_set.csv" in err
    assert "never trained on" in err
    assert not (tmp_path / "m").exists()


BAD_ARGUMENTS = {
    "C zero": (train, ["--C", "0"], "--C: expected a finite number > 0, got '0'"),
    "C negative": (train, ["--C", "-1"], "--C: expected a finite number > 0"),
    "shift nan": (train, ["--logit-shift", "nan"], "--logit-shift: expected a finite"),
    "fpr negative": (
        train,
        ["--max-fpr", "-1"],
        "--max-fpr: expected a finite number > 0 and < 1",
    ),
    "fpr two": (
        train,
        ["--max-fpr", "2"],
        "--max-fpr: expected a finite number > 0 and < 1",
    ),
    "version negative": (
        train,
        ["--version", "-1"],
        "--version: expected a whole number >= 1",
    ),
    "version zero": (
        train,
        ["--version", "0"],
        "--version: expected a whole number >= 1",
    ),
    "cv negative": (train, ["--cv", "-1"], "--cv: expected a whole number >= 0"),
    "cv fraction": (train, ["--cv", "2.5"], "--cv: expected a whole number >= 0"),
    "seed negative": (train, ["--seed", "-1"], "--seed: expected a whole number >= 0"),
    "data with data-dir": (
        train,
        ["--data-dir", "corpora"],
        "--data-dir: not allowed with --data, which trains on exactly the files it "
        "names",
    ),
    "no base url": (
        fetch_data,
        ["--base-url", ""],
        "--base-url: expected an http:// or https:// URL",
    ),
    "file base url": (
        fetch_data,
        ["--base-url", "file:///tmp"],
        "--base-url: expected an http",
    ),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_arguments_get_one_error_line_and_code_2(
    case: str, good_csv: Path, tmp_path: Path, capsys
) -> None:
    cli, argv, message = BAD_ARGUMENTS[case]
    if cli is train:
        # a tiny run, should a bad value ever get through
        argv += ["--data", str(good_csv), "--cv", "0", "--dev-set", "", "--no-report"]
        argv += ["--models-dir", str(tmp_path / "m")]
    else:
        argv += ["--dest", str(tmp_path / "m")]
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0], err
    assert not (tmp_path / "m").exists()


def test_too_little_data_says_what_is_needed(tmp_path: Path, capsys) -> None:
    two = write_csv(tmp_path / "two.csv", "text,label\nyou idiot,1\nhello there,0\n")
    assert run_train("--data", str(two), "--models-dir", str(tmp_path / "m")) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: too little data: 2 rows (1 clean, 1 abusive); training needs at "
        "least 5 rows of each label (0 and 1)"
    )


def test_relative_paths_are_the_callers_as_scripts_train_passes_them(
    good_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """scripts/train exports the caller's folder, then runs in the repository."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("CYBERSCAN_CALLER_DIR", str(tmp_path))
    assert (
        run_train("--data", f"{good_csv.name}=2", "--models-dir", "m", "--no-report")
        == 0
    )
    card = json.loads((tmp_path / "m" / "cyberscan-clf-v1.json").read_text())
    assert card["data"][0]["sha256"] == sha256_file(good_csv)
    assert card["data"][0]["weight"] == 2
    capsys.readouterr()
    assert run_train("--data", "mine.csv", "--models-dir", "m") == 2
    assert (
        capsys.readouterr().err.strip()
        == f"error: {tmp_path / 'mine.csv'}: file not found"
    )
    monkeypatch.delenv("CYBERSCAN_CALLER_DIR")
    assert run_train("--data", "mine.csv", "--models-dir", str(tmp_path / "m")) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: mine.csv: file not found (looked for {REPO / 'mine.csv'})"
    )


def test_a_relative_data_dir_in_the_environment_is_the_callers_too(
    own_dir: Path, good_csv: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """``CYBERSCAN_DATA_DIR=corpora scripts/train`` from the folder holding
    ``corpora/``: the folder is the caller's, as ``--data-dir corpora`` is, not one
    inside the repository."""
    write_corpora(tmp_path / "corpora", good_csv)
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("CYBERSCAN_CALLER_DIR", str(tmp_path))
    monkeypatch.setenv("CYBERSCAN_DATA_DIR", "corpora")
    capsys.readouterr()
    assert quick_train(tmp_path / "m") == 0
    assert (
        f"corpora from {tmp_path / 'corpora'} (CYBERSCAN_DATA_DIR)"
        in capsys.readouterr().out
    )
    monkeypatch.setenv("CYBERSCAN_DATA_DIR", "elsewhere")
    assert quick_train(tmp_path / "m") == 2
    assert capsys.readouterr().err.startswith(
        f"error: {tmp_path / 'elsewhere'}: folder not found (from CYBERSCAN_DATA_DIR)"
    )


def test_operating_point_says_when_no_threshold_met_the_rule() -> None:
    """Without own chat the rule is per-file F1 under an FPR cap; clean rows scored
    above every threshold meet no cap, and the rule line says so."""
    labels = np.array([0, 1] * 10)
    groups = np.zeros(20, dtype=int)
    met = np.where(labels == 1, 0.9, 0.1)
    _, choice = train.choose_threshold(met, labels, groups, [], 0.05)
    assert choice["rule"] == "max mean per-file F1 with mean per-file FPR <= 0.05"
    _, choice = train.choose_threshold(np.full(20, 0.99), labels, groups, [], 0.05)
    assert choice["rule"].startswith("no threshold met the rule (max mean per-file F1")
    assert choice["oof_mean_fpr"] > 0.05


def test_evaluate_says_what_model_takes(tmp_path: Path, capsys) -> None:
    assert evaluate.main(["--model", "v25"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --model takes a file: did you mean --model "
        "models/cyberscan-clf-v25.joblib?"
    )
    card = tmp_path / "cyberscan-clf-v3.json"
    assert evaluate.main(["--model", str(card)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {card} is the model card; --model takes the model, "
        f"{card.with_suffix('.joblib')}"
    )


def test_without_cross_validation_the_rule_line_says_it_once(
    good_csv: Path, tmp_path: Path, capsys
) -> None:
    assert (
        train.main(
            [
                "--cv",
                "0",
                "--dev-set",
                "",
                "--no-report",
                "--data",
                str(good_csv),
                "--models-dir",
                str(tmp_path / "m"),
            ]
        )
        == 0
    )
    assert "no cross-validation (fixed): raw threshold 0.5\n" in capsys.readouterr().out


def test_cli_error_has_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", "text,label\nhello,0\nworld,maybe\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "train.train",
            "--data",
            str(bad),
            "--models-dir",
            str(tmp_path / "m"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert (
        proc.stderr.strip()
        == f"error: {bad}, line 3: label must be 0 or 1, got 'maybe'"
    )


def test_a_reader_that_goes_away_early_ends_the_cli_quietly(good_csv: Path) -> None:
    """`python -m train.evaluate | head`: the reader closes the pipe before the
    report is written; the CLI stops with status 1 and nothing on stderr, not with a
    BrokenPipeError traceback."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the CLI writes
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "train.evaluate", "--data", str(good_csv)],
            cwd=REPO,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (1, "")


@pytest.fixture
def tiny_model(good_csv: Path, tmp_path: Path, capsys) -> Path:
    """A model trained on GOOD_ROWS alone (its training output is dropped)."""
    models = tmp_path / "models"
    assert (
        run_train("--data", str(good_csv), "--models-dir", str(models), "--no-report")
        == 0
    )
    capsys.readouterr()
    return models / "cyberscan-clf-v1.joblib"


def test_evaluate_prints_metrics_json(good_csv: Path, tiny_model: Path, capsys) -> None:
    model = tiny_model
    assert evaluate.main(["--data", str(good_csv), "--model", str(model)]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in (
        "n",
        "roc_auc",
        "average_precision",
        "threshold",
        "precision",
        "recall",
        "f1",
        "false_positive_rate",
        "accuracy",
    ):
        assert key in result, key
    assert result["n"] == len(GOOD_ROWS)
    assert result["threshold"] == 0.6
    # The figures split by whether a text addresses its reader, counted here apart.
    flagged = [
        v.probability >= 0.6
        for v in Detector.from_path(model).score_batch([t for t, _ in GOOD_ROWS])
    ]
    for name, addressed in (("addressed", True), ("not_addressed", False)):
        rows = [
            (y, f)
            for (t, y), f in zip(GOOD_ROWS, flagged, strict=True)
            if addresses_reader(t) is addressed
        ]
        group = result["by_address"][name]
        assert group["clean"] == sum(1 for y, _ in rows if y == 0)
        assert group["abuse"] == sum(1 for y, _ in rows if y == 1)
        assert group["clean_flagged"] == sum(1 for y, f in rows if y == 0 and f)
        assert group["abuse_caught"] == sum(1 for y, f in rows if y == 1 and f)
    # GOOD_ROWS' abuse all says "you": the other group has no abuse and no share.
    assert result["by_address"]["addressed"]["abuse"] == 6
    assert result["by_address"]["not_addressed"]["abuse_caught_share"] is None
    assert (
        evaluate.main(
            [
                "--data",
                str(good_csv),
                "--model",
                str(model),
                "--threshold",
                "0.3",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["threshold"] == 0.3 and "x" in result["by_category"]
    assert "sweep" not in result


def test_evaluate_leaves_undefined_figures_empty(
    good_csv: Path, tiny_model: Path, tmp_path: Path, capsys
) -> None:
    """On a file of clean rows alone recall is undefined and, with nothing flagged,
    so is precision: they print null, not a 0.0 that reads as a measured failure.
    The clean share flagged is still measured."""
    clean = [t for t, y in GOOD_ROWS if y == 0]
    flagged = [
        v.probability >= 0.6 for v in Detector.from_path(tiny_model).score_batch(clean)
    ]
    assert not any(flagged)
    only_clean = write_csv(
        tmp_path / "clean.csv",
        "text,label\n" + "".join(f'"{t}",0\n' for t in clean),
    )
    assert evaluate.main(["--data", str(only_clean), "--model", str(tiny_model)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["precision"], result["recall"], result["f1"]) == (None, None, None)
    assert result["false_positive_rate"] == 0.0 and result["accuracy"] == 1.0
    # Flagging one clean row makes precision and F1 measured failures.
    assert (
        evaluate.main(
            ["--data", str(only_clean), "--model", str(tiny_model), "--threshold", "0"]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert (result["precision"], result["recall"], result["f1"]) == (0.0, None, 0.0)
    assert result["false_positive_rate"] == 1.0


def test_evaluate_sweeps_thresholds_for_choosing_one(
    good_csv: Path, tiny_model: Path, tmp_path: Path, capsys
) -> None:
    """`--sweep` reports clean flagged and abuse caught at each threshold given, in
    order and once each, counted here apart from the model's own scores; the entry at
    the card's threshold is the report's own figures."""
    model = tiny_model
    argv = ["--data", str(good_csv), "--model", str(model)]
    assert evaluate.main([*argv, "--sweep", "0.9, 0,0.6,0.6"]) == 0
    result = json.loads(capsys.readouterr().out)
    scores = [
        v.probability
        for v in Detector.from_path(model).score_batch([t for t, _ in GOOD_ROWS])
    ]
    labels = [y for _, y in GOOD_ROWS]
    expected = []
    for t in (0.0, 0.6, 0.9):
        flagged = [s >= t for s in scores]
        clean = [f for f, y in zip(flagged, labels, strict=True) if y == 0]
        abuse = [f for f, y in zip(flagged, labels, strict=True) if y == 1]
        expected.append(
            {
                "threshold": t,
                "flagged": sum(flagged),
                "clean_flagged": round(sum(clean) / len(clean), 4),
                "abuse_caught": round(sum(abuse) / len(abuse), 4),
            }
        )
    assert result["sweep"] == expected
    # The thresholds tell apart: 0 flags every row, 0.6 not the clean ones.
    assert expected[0]["flagged"] == len(GOOD_ROWS) > expected[1]["flagged"]
    assert result["sweep"][1]["clean_flagged"] == result["clean_flagged"]
    assert result["sweep"][1]["abuse_caught"] == result["abuse_caught"]
    # A file of one label: the other label's share is None, not 0.
    clean_only = write_csv(
        tmp_path / "clean.csv",
        "text,label\n" + "".join(f'"{t}",0\n' for t, y in GOOD_ROWS if y == 0),
    )
    assert (
        evaluate.main(
            ["--data", str(clean_only), "--model", str(model), "--sweep", "0.5"]
        )
        == 0
    )
    clean_result = json.loads(capsys.readouterr().out)
    (entry,) = clean_result["sweep"]
    assert entry["abuse_caught"] is None and entry["clean_flagged"] is not None
    # A plain text,label file (no category column) gets both shares too, as the
    # README says: "clean flagged" and "abuse caught".
    assert "category" not in clean_only.read_text().splitlines()[0]
    assert clean_result["clean_flagged"] == entry["clean_flagged"]
    assert clean_result["abuse_caught"] is None


@pytest.mark.parametrize("value", ["0.5,x", "1.5", "-0.1", "nan", "", "0.5,,0.6"])
def test_evaluate_refuses_a_bad_sweep_before_any_work(
    value: str, tmp_path: Path, capsys
) -> None:
    """A bad `--sweep` is a usage error naming the value, before any model is read
    (the model path here does not exist)."""
    with pytest.raises(SystemExit) as exit_:
        evaluate.main(["--model", str(tmp_path / "none.joblib"), "--sweep", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--sweep: expected thresholds between 0 and 1" in err
    assert repr(value) in err and "does not exist" not in err


def test_evaluate_errors_are_clear(good_csv: Path, tmp_path: Path, capsys) -> None:
    assert (
        evaluate.main(["--data", str(good_csv), "--model", str(tmp_path / "x.joblib")])
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
    bad = write_csv(tmp_path / "bad.csv", "text\nhello\n")
    assert (
        evaluate.main(["--data", str(bad), "--model", str(tmp_path / "x.joblib")]) == 2
    )


@pytest.fixture
def own_dir(tmp_path: Path, good_csv: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stand-in for train/data/ holding one tiny chat file; no corpora by default."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "chat.csv").write_bytes(good_csv.read_bytes())
    monkeypatch.setattr("train.data.OWN_DATA_DIR", own)
    monkeypatch.setattr("train.train.OWN_DATA_DIR", own)
    monkeypatch.setattr("train.data.DEFAULT_SHARED_DATA", tmp_path / "no-shared")
    monkeypatch.delenv("CYBERSCAN_DATA_DIR", raising=False)
    return own


def quick_train(models: Path, *args: str) -> int:
    return train.main(
        [
            "--cv",
            "0",
            "--dev-set",
            "",
            "--no-report",
            "--models-dir",
            str(models),
            *args,
        ]
    )


def test_without_corpora_trains_on_own_examples_and_says_so(
    own_dir: Path, tmp_path: Path, capsys
) -> None:
    assert quick_train(tmp_path / "m") == 0
    out = capsys.readouterr().out
    assert "training on the committed own examples (train/data/*.csv) alone" in out
    assert command("train.fetch_data --dest DIR") in out
    card = json.loads((tmp_path / "m" / "cyberscan-clf-v1.json").read_text())
    assert [d["name"] for d in card["data"]] == ["chat"]


def test_held_back_files_are_skipped_by_default_and_trainable_by_name(
    own_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    (own_dir / "later.csv").write_bytes((own_dir / "chat.csv").read_bytes())
    monkeypatch.setattr(train, "HELD_BACK", frozenset({"later"}))
    assert quick_train(tmp_path / "m") == 0
    assert "held back (not trained on; HELD_BACK): later.csv" in capsys.readouterr().out
    card = json.loads((tmp_path / "m" / "cyberscan-clf-v1.json").read_text())
    assert [d["name"] for d in card["data"]] == ["chat"]
    assert card["training"]["held_back"] == ["later"]
    assert quick_train(tmp_path / "m", "--data", str(own_dir / "later.csv")) == 0
    card = json.loads((tmp_path / "m" / "cyberscan-clf-v2.json").read_text())
    assert [d["name"] for d in card["data"]] == ["later"]


def test_corpora_come_from_data_dir_or_environment(
    own_dir: Path, good_csv: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    corpora = write_corpora(tmp_path / "corpora", good_csv)
    monkeypatch.setenv("CYBERSCAN_DATA_DIR", str(corpora))
    # the default run has no chat copy since v4; the option stays, so its fit is checked
    monkeypatch.setattr(train, "CHAT_COPY", 0.5)
    assert quick_train(tmp_path / "m") == 0
    assert f"corpora from {corpora} (CYBERSCAN_DATA_DIR)" in capsys.readouterr().out
    card = json.loads((tmp_path / "m" / "cyberscan-clf-v1.json").read_text())
    assert [d["name"] for d in card["data"]] == [*CORPORA, "chat"]
    assert all(len(d["sha256"]) == 64 for d in card["data"])
    # corpora + own chat: the chat-copy fit folds two weight vectors into one pipeline,
    # which the fast scorer must still reproduce exactly
    assert card["training"]["chat_copy"] > 0
    detector = Detector.from_path(tmp_path / "m" / "cyberscan-clf-v1.joblib")
    texts = [t for t, _ in GOOD_ROWS] + ["not an idiot", "", "you are not nice"]
    expected = detector.pipeline.predict_proba(texts)[:, 1]
    got = [detector.score(t).probability for t in texts]
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) < 1e-9
    (corpora / "olid_offensive" / "train.csv").unlink()
    assert quick_train(tmp_path / "m", "--data-dir", str(corpora)) == 2
    err = capsys.readouterr().err
    assert f"{corpora / 'olid_offensive' / 'train.csv'}: file not found" in err
    assert command(f"train.fetch_data --dest {corpora} --only olid_offensive") in err
    assert quick_train(tmp_path / "m", "--data-dir", str(tmp_path / "nowhere")) == 2
    assert f"{tmp_path / 'nowhere'}: folder not found (from --data-dir)" in (
        capsys.readouterr().err
    )
    assert quick_train(tmp_path / "m", "--data-dir", str(good_csv)) == 2
    assert f"{good_csv}: a file, not the corpora's folder (from --data-dir)" in (
        capsys.readouterr().err
    )


def test_a_corpus_file_that_is_not_the_fetched_one_is_named_and_trained_on(
    own_dir: Path, good_csv: Path, tmp_path: Path, capsys
) -> None:
    """A corpus file cut short at a line end, or with a label changed, is still a
    valid CSV: the run names it, with the command that fetches it again, and goes on
    (a student may change a corpus on purpose). The file fetch_data writes is not named."""
    corpora = write_corpora(tmp_path / "corpora", good_csv)
    assert quick_train(tmp_path / "m", "--data-dir", str(corpora)) == 0
    out = capsys.readouterr().out
    for name in CORPORA:
        path = corpora / name / "train.csv"
        assert (
            f"warning: {path} is not the {name} file `train.fetch_data` writes" in out
        )
        assert (
            f"fetch it again with "
            f"`{command(f'train.fetch_data --dest {corpora} --only {name}')}`" in out
        )
    expected = {c.name: c.csv_sha256 for c in fetch_data.SOURCES}
    assert fetch_data.changed_warning(path, expected[name]) is None
    assert fetch_data.changed_warning(good_csv, "0" * 64) is None  # not a corpus


def test_a_corrupt_corpus_file_is_named_with_the_command_that_fetches_it(
    own_dir: Path, good_csv: Path, tmp_path: Path, capsys
) -> None:
    """A corpus file cut short or edited stops the run with its file and line, and,
    as for a missing one, the command that fetches it again; an own file, which no
    command fetches, gets no such advice."""
    corpora = write_corpora(tmp_path / "corpora", good_csv)
    olid = corpora / "olid_offensive" / "train.csv"
    for broken in ('text,label\n"cut short,1\n', "text,label\nhello,2\n", ""):
        olid.write_text(broken, encoding="utf-8")
        capsys.readouterr()
        assert quick_train(tmp_path / "m", "--data-dir", str(corpora)) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {olid}") and len(err.splitlines()) == 1, err
        assert err.rstrip().endswith(
            "; fetch it again with "
            f"`{command(f'train.fetch_data --dest {corpora} --only olid_offensive')}`"
        ), err
    assert not (tmp_path / "m").exists()
    bad = write_csv(tmp_path / "train.csv", "text,label\nhello,2\n")
    assert quick_train(tmp_path / "m", "--data", str(bad)) == 2
    assert "fetch_data" not in capsys.readouterr().err


def test_corpus_files_alone_train_one_model_for_every_row(
    good_csv: Path, tmp_path: Path, capsys
) -> None:
    """``--data`` naming corpus files only (no chat): the router has no chat side to
    send rows to, so the run fits the chat model on every row and says so, instead
    of a scikit-learn traceback."""
    corpora = write_corpora(tmp_path / "corpora", good_csv)
    argv = ["--data", str(corpora / "olid_offensive" / "train.csv")]
    assert quick_train(tmp_path / "m", *argv) == 0
    out = capsys.readouterr().out
    assert "no chat rows beside the corpora: one model for every row" in out
    assert (
        quick_train(
            tmp_path / "m",
            *argv,
            "--data",
            str(corpora / "kaggle_insults" / "train.csv"),
        )
        == 0
    )
    detector = Detector.from_path(tmp_path / "m" / "cyberscan-clf-v2.joblib")
    texts = [t for t, _ in GOOD_ROWS]
    expected = detector.pipeline.predict_proba(texts)[:, 1]
    got = [detector.score(t).probability for t in texts]
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) < 1e-9


def test_chat_beside_one_corpus_with_an_expert_trains_one_model(
    good_csv: Path, tmp_path: Path, capsys
) -> None:
    """The README's way to add a corpus, ``--data my.csv --data DIR/NAME/train.csv``:
    with one corpus of ``EXPERT_STYLES`` the style gate has no second corpus to tell it
    from, so the run fits one model for every row and says so, instead of stopping
    with a scikit-learn traceback; with two corpora the experts are fitted."""
    corpora = write_corpora(tmp_path / "corpora", good_csv)
    argv = ["--data", str(good_csv)]
    argv += ["--data", str(corpora / "olid_offensive" / "train.csv")]
    capsys.readouterr()
    assert quick_train(tmp_path / "m", *argv) == 0
    out = capsys.readouterr().out
    assert (
        "one corpus with an expert (olid_offensive) beside the chat: the style gate "
        "needs two of them to tell apart, so its rows join the chat side: one model "
        "for every row"
    ) in out
    detector = Detector.from_path(tmp_path / "m" / "cyberscan-clf-v1.joblib")
    assert detector.score("you are an idiot").probability > 0.5
    assert detector.pipeline.named_steps["clf"].styles_ == []
    argv += ["--data", str(corpora / "kaggle_insults" / "train.csv")]
    assert quick_train(tmp_path / "m", *argv) == 0
    assert "one model for every row" not in capsys.readouterr().out
    detector = Detector.from_path(tmp_path / "m" / "cyberscan-clf-v2.joblib")
    assert detector.pipeline.named_steps["clf"].styles_ == [3, 4]


def test_operating_point_comes_from_held_out_writers(
    own_dir: Path, good_csv: Path, tmp_path: Path, capsys
) -> None:
    # two own files = two writers: each is scored by a model trained without it
    (own_dir / "chat_v2.csv").write_bytes(good_csv.read_bytes())
    args = ["--cv", "2", "--dev-set", "", "--no-report"]
    assert train.main([*args, "--models-dir", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "scoring each of 2 chat writers with a model trained without them" in out
    card = json.loads((tmp_path / "m" / "cyberscan-clf-v1.json").read_text())
    assert card["cv"]["scheme"] == "leave-one-writer-out"
    assert set(card["cv"]["writers"]) == {"chat", "chat_v2"}
    choice = card["threshold_choice"]
    assert "leave-one-writer-out" in choice["rule"]
    assert set(choice["writer_held_out"]) == {"chat", "chat_v2"}
    default_max_fpr = train.parse_args([]).max_fpr
    assert f"flagged <= {default_max_fpr} on" in choice["rule"]
    assert choice["mean_clean_flagged"] <= default_max_fpr or choice["rule"].startswith(
        "no "
    )


def test_logit_shift_moves_the_chosen_point_and_the_card_says_so(
    own_dir: Path, good_csv: Path, tmp_path: Path
) -> None:
    """`--logit-shift d` trains the same model with its final logit raised by d: every
    score's logit rises by exactly d, and the card records the rule's threshold, the
    shift and the threshold the model now puts at 0.6."""
    (own_dir / "chat_v2.csv").write_bytes(good_csv.read_bytes())
    args = ["--cv", "2", "--dev-set", "", "--no-report"]
    assert train.main([*args, "--models-dir", str(tmp_path / "a")]) == 0
    assert (
        train.main([*args, "--logit-shift", "0.3", "--models-dir", str(tmp_path / "b")])
        == 0
    )
    plain = json.loads((tmp_path / "a" / "cyberscan-clf-v1.json").read_text())
    moved = json.loads((tmp_path / "b" / "cyberscan-clf-v1.json").read_text())
    before, after = plain["threshold_choice"], moved["threshold_choice"]
    assert "logit_shift" not in before
    assert after["logit_shift"] == 0.3
    assert after["rule"] == before["rule"] + ", then the final logit raised by +0.3"
    assert after["rule_threshold"] == before["raw_threshold"]
    # the card rounds to six decimals
    assert after["raw_threshold"] == pytest.approx(
        train.shifted_threshold(before["raw_threshold"], 0.3), abs=1e-6
    )
    assert after["raw_threshold"] < before["raw_threshold"]
    assert after["intercept_shift"] == pytest.approx(
        before["intercept_shift"] + 0.3, abs=2e-6
    )
    texts = [t for t, _ in GOOD_ROWS] + ["you are not nice", "see u at 6"]
    p_a = Detector.from_path(tmp_path / "a" / "cyberscan-clf-v1.joblib")
    p_b = Detector.from_path(tmp_path / "b" / "cyberscan-clf-v1.joblib")
    gap = [
        train.logit(b.probability) - train.logit(a.probability)
        for a, b in zip(map(p_a.score, texts), map(p_b.score, texts), strict=True)
    ]
    assert gap == pytest.approx([0.3] * len(texts), abs=1e-9)


def test_background_file_is_trained_on_but_never_held_out_as_a_writer(
    own_dir: Path, good_csv: Path, tmp_path: Path, capsys
) -> None:
    # chat_everyday (train.BACKGROUND) holds clean chat only: a one-label file is
    # accepted for it alone, and it is in every fit without being a held-out writer.
    (own_dir / "chat_v2.csv").write_bytes(good_csv.read_bytes())
    everyday = ["see you there", "you there?", "omw, save me a seat"] * 3
    write_csv(
        own_dir / "chat_everyday.csv",
        "text,label,category\n" + "".join(f'"{t}",0,plain\n' for t in everyday),
    )
    # a development set of clean chat only is measured (clean flagged), not a crash
    clean_dev = write_csv(
        tmp_path / "dev_clean.csv", "text,label,category\nsee u at 6,0,plain\n"
    )
    args = ["--cv", "2", "--dev-set", str(clean_dev), "--no-report"]
    assert train.main([*args, "--models-dir", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "scoring each of 2 chat writers" in out
    assert "abuse caught – (n=1)" in out
    card = json.loads((tmp_path / "m" / "cyberscan-clf-v1.json").read_text())
    assert card["dev"]["abuse_caught"] is None and card["dev"]["clean_flagged"] in (
        0,
        1,
    )
    # "see u at 6" addresses its reader; the card counts it on that side
    by_address = card["dev"]["by_address"]
    assert by_address["addressed"]["clean"] == 1
    assert by_address["not_addressed"]["clean"] == 0
    assert by_address["addressed"]["clean_flagged"] == round(
        card["dev"]["clean_flagged"]
    )
    assert "chat_everyday" in [d["name"] for d in card["data"]]
    assert set(card["cv"]["writers"]) == {"chat", "chat_v2"}
    assert set(card["threshold_choice"]["writer_held_out"]) == {"chat", "chat_v2"}
    # any other one-label file is still refused, naming the file
    write_csv(own_dir / "chat_v3.csv", "text,label\nhello there,0\nhi,0\n")
    assert train.main([*args, "--models-dir", str(tmp_path / "m2")]) == 2
    assert "chat_v3.csv" in capsys.readouterr().err


def test_report_shows_the_address_split_for_both_models(
    good_csv: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    args = ["--cv", "2", "--dev-set", str(good_csv), "--models-dir", str(models)]
    assert train.main(["--data", str(good_csv), *args]) == 0
    card = json.loads((models / "cyberscan-clf-v1.json").read_text())
    page = (models / "cyberscan-clf-v1-report" / "report.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| address")]
    assert len(rows) == 1, page
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    new = card["dev"]["by_address"]["addressed"]
    served = card["served_model"]["dev"]["by_address"]["addressed"]
    assert cells[1] == str(new["clean"]) and cells[4] == str(new["abuse"])
    assert cells[5] == f"{100 * new['abuse_caught_share']:.1f}%"
    assert cells[6] == f"{100 * served['abuse_caught_share']:.1f}%"
    html = (models / "cyberscan-clf-v1-report" / "index.html").read_text()
    assert "<td>address the reader</td>" in html and "<td>do not</td>" in html


def test_a_served_model_fitted_on_every_row_is_not_measured_on_held_out_rows(
    good_csv: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A served model fitted on every row (``--holdout 0``) has seen this run's held-out
    rows: it is measured beside the new one on the development set only, and the run
    and the report say so; one split the same way is measured on both."""
    models = tmp_path / "models"
    args = ["--cv", "2", "--dev-set", str(good_csv), "--models-dir", str(models)]
    assert (
        train.main(["--data", str(good_csv), *args, "--no-report", "--holdout", "0"])
        == 0
    )
    # a run that holds nothing out has nothing to warn about
    assert "development sets only" not in capsys.readouterr().out
    v1 = json.loads((models / "cyberscan-clf-v1.json").read_text())
    assert v1["split"]["holdout"] == 0 and v1["held_out"] == {}
    monkeypatch.setattr(
        train, "served_classifier", lambda: str(models / "cyberscan-clf-v1.joblib")
    )
    capsys.readouterr()
    assert train.main(["--data", str(good_csv), *args]) == 0
    assert "measured on the development sets only" in capsys.readouterr().out
    v2 = json.loads((models / "cyberscan-clf-v2.json").read_text())
    assert v2["held_out"] and v2["served_model"]["version"] == "cyberscan-clf-v1"
    assert v2["served_model"]["held_out"] == {} and v2["served_model"]["dev"]["all"]
    page = (models / "cyberscan-clf-v2-report" / "report.md").read_text()
    assert "so it is measured on the development set only" in page
    monkeypatch.setattr(
        train, "served_classifier", lambda: str(models / "cyberscan-clf-v2.joblib")
    )
    capsys.readouterr()
    assert train.main(["--data", str(good_csv), *args]) == 0
    assert "development sets only" not in capsys.readouterr().out
    v3 = json.loads((models / "cyberscan-clf-v3.json").read_text())
    assert v3["served_model"]["held_out"].keys() == v3["held_out"].keys()
    page = (models / "cyberscan-clf-v3-report" / "report.md").read_text()
    assert "the served model is measured on the same rows" in page


def test_report_splits_the_dev_set_by_address(tmp_path: Path) -> None:
    def group(clean: int, flagged: int, abuse: int, caught: int) -> dict:
        return {
            "clean": clean,
            "clean_flagged": flagged,
            "clean_flagged_share": flagged / clean,
            "abuse": abuse,
            "abuse_caught": caught,
            "abuse_caught_share": caught / abuse,
        }

    card = {
        "version": "cyberscan-clf-v9",
        "dev": {
            "by_address": {
                "addressed": group(20, 2, 40, 36),
                "not_addressed": group(80, 1, 10, 7),
            }
        },
        "served_model": {
            "version": "cyberscan-clf-v8",
            "dev": {
                "by_address": {
                    "addressed": group(20, 4, 40, 38),
                    "not_addressed": group(80, 1, 10, 6),
                }
            },
        },
    }
    table = report.address_table(card)
    assert table[0][2] == "flagged cyberscan-clf-v9"
    assert table[1] == [
        "address the reader",
        "20",
        "10.0%",
        "20.0%",
        "40",
        "90.0%",
        "95.0%",
    ]
    assert table[2] == ["do not", "80", "1.2%", "1.2%", "10", "70.0%", "60.0%"]
    assert report.address_table({"version": "v", "dev": {}}) == []


def test_every_report_table_names_the_served_version() -> None:
    """The first table's columns said cyberscan-clf-v8, the category and address
    tables' "served": each names the version, so the three read alike."""
    figures = {"flagged_share": 0.5, "label": 1, "n": 2}
    split = {"clean": 1, "clean_flagged_share": 0.0, "abuse": 1}
    split["abuse_caught_share"] = 1.0
    dev = {
        "by_category": {"threat": figures},
        "by_address": {"addressed": split, "not_addressed": split},
    }
    card = {
        "version": "cyberscan-clf-v9",
        "dev": dev,
        "served_model": {"version": "cyberscan-clf-v8", "dev": dev},
    }
    category, address = report.category_table(card), report.address_table(card)
    assert category[0][3:] == ["flagged cyberscan-clf-v9", "flagged cyberscan-clf-v8"]
    assert address[0][2:4] == ["flagged cyberscan-clf-v9", "flagged cyberscan-clf-v8"]
    assert address[0][5:] == ["caught cyberscan-clf-v9", "caught cyberscan-clf-v8"]
    assert category[1][3:] == ["50.0%", "50.0%"]


def test_writer_threshold_averages_writers_not_rows() -> None:
    # Above 0.1, writer a has 10 of 100 clean rows flagged (those at 0.55) and writer b
    # none of 10: pooled that is 10/110 = 9%, the writers' mean is (10% + 0%) / 2 = 5%.
    scores = np.array([0.55] * 10 + [0.1] * 90 + [0.9] * 10 + [0.1] * 10 + [0.9] * 10)
    labels = np.array([0] * 100 + [1] * 10 + [0] * 10 + [1] * 10)
    writers = np.array(["a"] * 110 + ["b"] * 20, dtype=object)
    t, choice = train.choose_writer_threshold(scores, labels, writers, 0.05)
    assert t == 0.11 and choice["mean_clean_flagged"] == pytest.approx(0.05)
    t, choice = train.choose_writer_threshold(scores, labels, writers, 0.04)
    assert t == 0.56 and choice["writer_held_out"]["a"]["clean_flagged"] == 0.0
    assert choice["writer_held_out"]["b"]["abuse_caught"] == 1.0


def test_corpus_copy_is_dropped_from_the_served_weights() -> None:
    # Corpus rows get a corpus-only copy of their features; the served model keeps the
    # shared weights only, so it differs from a plain fit and from a fit that keeps them.
    texts = [t for t, _ in GOOD_ROWS] * 2
    labels = np.array([y for _, y in GOOD_ROWS] * 2)
    chat = np.arange(len(texts)) % 2 == 0
    weights = np.ones(len(texts))
    params = {"word_min_df": 1, "char_min_df": 1}
    plain = train.fit_pipeline(texts, labels, weights, params, chat, 0.0)
    copied = train.fit_pipeline(texts, labels, weights, params, chat, 0.0, 1.0)
    coef = copied.named_steps["clf"].coef_
    assert coef.shape == plain.named_steps["clf"].coef_.shape
    assert not np.allclose(coef, plain.named_steps["clf"].coef_)
    # all rows chat (or none): nothing to copy, the plain fit
    same = train.fit_pipeline(
        texts, labels, weights, params, np.ones_like(chat), 0.0, 1.0
    )
    assert np.array_equal(same.named_steps["clf"].coef_, plain.named_steps["clf"].coef_)
    detector = Detector(copied, {"version": "cc", "threshold": 0.6})
    probe = [*texts, "not an idiot", "", "you are not nice"]
    expected = copied.predict_proba(probe)[:, 1]
    got = [detector.score(t).probability for t in probe]
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) < 1e-9


@pytest.mark.parametrize("panels", [1, 5, 28])
def test_report_figure_titles_sit_above_every_panel(panels: int) -> None:
    """A tall grid of curves (28 held-out sets in a real run) once drew its title over
    the first row; a one-panel figure cut a long title off at its edges."""
    from train import report

    fig, axes = report._grid(panels)
    for ax in axes.flat[:panels]:
        ax.plot([0, 1], [0, 1])
        ax.set_title("a held-out set", fontsize=9)
    report._layout(
        fig,
        "ROC: cyberscan-clf-v99 (blue, solid) vs served (orange, dashed); dots at "
        "threshold 0.6",
    )
    renderer = fig.canvas.get_renderer()
    title = fig._suptitle.get_window_extent(renderer)
    figure = fig.bbox
    assert figure.x0 <= title.x0 and title.x1 <= figure.x1, (title, figure)
    assert title.y1 <= figure.y1, (title, figure)
    for ax in axes.flat[:panels]:
        assert not title.overlaps(ax.get_tightbbox(renderer)), panels
    report._plt().close(fig)


def _as_deuteranope_sees(colour: str | tuple) -> np.ndarray:
    """Linear RGB of ``colour`` as full deuteranopia shows it (Machado et al. 2009)."""
    from matplotlib.colors import to_rgb

    c = np.array(to_rgb(colour))
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413]]
    m += [[-0.011820, 0.042940, 0.968881]]
    return np.clip(np.array(m) @ c, 0, 1)


def test_report_plots_mark_the_threshold_and_label_every_axis() -> None:
    """Both curve figures draw each model's dot at the threshold, as their titles say
    (the precision-recall one drew none); the score histograms label their axes and
    tell the classes apart without colour (hatched abuse) and with colours a
    deuteranope tells apart (they were red beside green)."""
    rng = np.random.default_rng(0)
    y = np.array([0] * 40 + [1] * 40)
    new = {"dev_set": (y, np.clip(rng.random(80) * 0.6 + y * 0.4, 0, 1))}
    old = {"dev_set": (y, np.clip(rng.random(80) * 0.9 + y * 0.1, 0, 1))}
    for kind in ("roc", "pr"):
        fig, title = report._draw_curves(
            kind, ["dev_set"], new, ("cyberscan-clf-v25", old), "v99", 0.6
        )
        assert "dots at threshold 0.6" in title
        ax = fig.axes[0]
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "dev_set"
        dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
        styles = (report.NEW_STYLE, report.SERVED_STYLE)
        assert [d.get_color() for d in dots] == [s["color"] for s in styles], kind
        # Where the two coincide, the new model still shows: its line and its filled
        # dot are drawn over the served model's dashes and ring.
        new_dot, served_dot = dots
        assert new_dot.get_zorder() > served_dot.get_zorder()
        assert served_dot.get_markerfacecolor() == "none"
        assert served_dot.get_markersize() > new_dot.get_markersize()
        new_line, served_line = (
            line
            for line in ax.get_lines()
            if line.get_marker() != "o" and line.get_color() != "grey"
        )
        assert new_line.get_zorder() > served_line.get_zorder()
        for dot, (yy, p) in zip(dots, (new["dev_set"], old["dev_set"]), strict=True):
            flagged = p >= 0.6
            caught = np.mean(flagged[yy == 1])
            want = (
                (np.mean(flagged[yy == 0]), caught)
                if kind == "roc"
                else (caught, np.mean(yy[flagged] == 1))
            )
            got = (dot.get_xdata()[0], dot.get_ydata()[0])
            assert got == pytest.approx(want), kind
        report._plt().close(fig)
    fig, _ = report._draw_histograms(new, "v99", 0.6)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "score" and ax.get_ylabel() == "texts"
    clean, abuse = ax.containers
    assert not clean.patches[0].get_hatch() and abuse.patches[0].get_hatch()
    seen = [_as_deuteranope_sees(b.patches[0].get_facecolor()) for b in ax.containers]
    assert np.linalg.norm(seen[0] - seen[1]) > 0.15
    report._plt().close(fig)


def test_a_roc_panel_shows_an_operating_point_of_a_few_percent_clear_of_its_edge() -> (
    None
):
    """A moderation model flags a few percent of clean messages: on a linear axis its
    dot sat against the panel's left edge, squeezed with the curve's steep part. The
    clean-flagged axis is linear to 1% and logarithmic above, so 2% sits well inside
    the panel, and 0% still shows."""
    y = np.array([0] * 100 + [1] * 100)
    p = np.where(y == 1, 0.9, 0.1)
    p[:2] = 0.9  # 2 of 100 clean messages flagged at 0.6
    fig, _ = report._draw_curves(
        "roc", ["dev_set"], {"dev_set": (y, p)}, None, "v99", 0.6
    )
    ax = fig.axes[0]
    (dot,) = [line for line in ax.get_lines() if line.get_marker() == "o"]
    point = (dot.get_xdata()[0], dot.get_ydata()[0])
    assert point == pytest.approx((0.02, 1.0))
    across = ax.transAxes.inverted().transform(ax.transData.transform(point))[0]
    assert 0.3 < across < 0.6, across  # linear: 0.02
    left = ax.transAxes.inverted().transform(ax.transData.transform((0.0, 0.5)))[0]
    assert left == pytest.approx(0.0)
    assert "log scale above 1%" in ax.get_xlabel()
    report._plt().close(fig)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("EXPERT_AFFINE", {"olid": (2.0, 0.0)}),
        ("EXPERT_BORROW", {"olid_offensive": {"davidson": 0.2}}),
        ("EXPERT_BORROW", {"olid": {"davidson_hate_offensive": 0.2}}),
    ],
)
def test_an_expert_setting_for_a_corpus_without_an_expert_is_refused(
    setting: str, value: dict, good_csv: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    # A misspelt corpus name must stop the run before any work, with a clear error,
    # not leave the recipe silently changed.
    monkeypatch.setattr(train, setting, value)
    models = tmp_path / "models"
    assert run_train("--data", str(good_csv), "--models-dir", str(models)) == 2
    out, err = capsys.readouterr()
    assert "has no expert" in err and "EXPERT_STYLES" in err
    assert "[1/8]" not in out  # before reading any data
    assert "Traceback" not in err
    assert not models.exists() or not list(models.iterdir())
    # ... and a fit called directly refuses it too.
    texts = [normalized(t) for t, _ in GOOD_ROWS] * 2
    domain = np.arange(len(texts)) % 3  # chat, and two corpus styles
    with pytest.raises(DataError, match="has no expert"):
        train.fit_pipeline(
            texts,
            np.array([y for _, y in GOOD_ROWS] * 2),
            np.ones(len(texts)),
            {**train.TRAIN_PARAMS, "word_min_df": 1, "char_min_df": 1},
            domain == 0,
            0.0,
            domain=domain,
        )


def test_paths_are_shown_from_the_repository_or_the_shared_corpora_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file in the repository reads from it, one in the corpora's default folder
    beside it as ``../shared/...``; any other file keeps its own path (a clone made in
    /tmp used to show /tmp's other files as ``../``)."""
    from train import data

    repo, shared, other = tmp_path / "repo", tmp_path / "shared", tmp_path / "other"
    for folder in (repo / "train", shared / "data", other):
        folder.mkdir(parents=True)
    monkeypatch.setattr(data, "REPO_ROOT", repo)
    assert data.display_path(repo / "train" / "a.csv") == "train/a.csv"
    assert data.display_path(shared / "data" / "b.csv") == "../shared/data/b.csv"
    assert data.display_path(other / "c.csv") == str(other / "c.csv")


def test_a_model_that_flags_far_more_clean_chat_than_the_served_one_is_said() -> None:
    """A student's small, easy data: every threshold met the rule on its folds, the
    lowest was kept, and the new model flagged 78% of the development set's clean
    messages beside the served one's 4%, with nothing said."""
    served = train.Measurement(dev={"clean_flagged": 0.0356})
    line = train.flags_more_warning(
        train.Measurement(dev={"clean_flagged": 0.7824}), ("cyberscan-clf-v45", served)
    )
    assert line == (
        "warning: the new model flags 78.2% of the development set's clean messages, "
        "cyberscan-clf-v45 3.6%: look at the report before serving it (too little or "
        "too easy data? --max-fpr and --logit-shift move the threshold)"
    )
    near = train.Measurement(dev={"clean_flagged": 0.0356 + 0.04})
    assert train.flags_more_warning(near, ("cyberscan-clf-v45", served)) is None
    assert train.flags_more_warning(near, None) is None
    assert train.flags_more_warning(train.Measurement(), ("v", served)) is None


HINT = "from train.data import command; print(command('train.promote v9'))"


@pytest.mark.parametrize("where", ["repository", "elsewhere", "active venv"])
def test_a_hint_names_the_interpreter_so_it_runs_as_printed(
    tmp_path: Path, where: str
) -> None:
    """The tools' hints ("serve it with `… -m train.promote v9`") spell the running
    interpreter so that, pasted into the same shell, the line runs it: `python` only
    when that name finds it (an active virtual environment), else its path, relative
    where it lies under the working directory (`.venv/bin/python`)."""
    here = Path(sys.executable).parent
    system = f"/usr/bin{os.pathsep}/bin"
    path = f"{here}{os.pathsep}{system}" if where == "active venv" else system
    cwd = tmp_path if where == "elsewhere" else REPO
    env = {**os.environ, "PATH": path, "PYTHONPATH": str(REPO)}

    def output(*argv: str) -> str:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    python, rest = output(sys.executable, "-c", HINT).split(" -m ")
    assert rest == "train.promote v9"
    # Run as printed, from the same folder with the same PATH (a bare name is looked
    # up on that PATH, a relative path from that folder): the same interpreter.
    assert output(python, "-c", "import sys; print(sys.prefix)") == sys.prefix
    if where == "active venv":
        assert python == "python"
    elif where == "repository" and here.is_relative_to(REPO):
        assert python == os.path.relpath(sys.executable, REPO)
    else:
        assert python == sys.executable
