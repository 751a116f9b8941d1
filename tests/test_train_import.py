"""``python -m train.import_set``: a development set imported unread, without the rows
a model may already have learned."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from train import data as train_data
from train import import_set
from train.data import own_files, read_labelled_csv

REPO = Path(__file__).resolve().parents[1]


def write_csv(path: Path, rows: list[tuple[str, int, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label", "category"])
        writer.writerows(rows)
    return path


def read_rows(path: Path) -> list[tuple[str, str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [(r["text"], r["label"], r["category"]) for r in csv.DictReader(fh)]


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    """An eval folder holding one earlier set, and a corpora folder whose every corpus
    holds one row."""
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    write_csv(eval_dir / "dev_set_old.csv", [("seen in an earlier set", 0, "plain")])
    corpora = tmp_path / "corpora"
    for name in train_data.CORPORA:
        (corpora / name).mkdir(parents=True)
        write_csv(corpora / name / "train.csv", [(f"a row of {name}", 1, "x")])
    return {"eval": eval_dir, "corpora": corpora}


def test_rows_seen_anywhere_are_dropped_and_the_rest_kept_in_order(
    places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trained = read_labelled_csv(own_files()[0], require_both_classes=False)
    long_trained = next(t for t in trained.texts if len(t.split()) >= 5)
    fresh = [
        ("a fresh line nobody wrote before 7781", 0, "plain"),
        ("u r a fresh insult nobody wrote before 7781", 1, "insult_explicit"),
        ("another fresh line 7781", 0, "negation"),
    ]
    source = write_csv(
        tmp_path / "helper.csv",
        [
            fresh[0],
            # a training row, a row of another set and a corpus row, each with other
            # case and spacing: still the same text
            ("  " + long_trained.upper().replace(" ", "   ") + " ", 1, "threat"),
            fresh[1],
            ("Seen in  an EARLIER set", 0, "plain"),
            ("A ROW OF olid_offensive", 1, "threat"),
            fresh[2],
            ("another   FRESH line 7781", 1, "threat"),  # a repeat within the file
        ],
    )
    code = import_set.main(
        [
            str(source),
            "dev_set_new",
            "--eval-dir",
            str(places["eval"]),
            "--data-dir",
            str(places["corpora"]),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    written = places["eval"] / "dev_set_new.csv"
    back = read_labelled_csv(written)
    assert list(zip(back.texts, back.labels, back.categories, strict=True)) == fresh
    report = json.loads(out)
    assert report["rows"] == 7
    assert report["kept"] == {"0": 2, "1": 1}
    assert report["dropped"] == {"0 plain": 1, "1 threat": 3}
    assert report["matched_files"][f"{source} (an earlier row of it)"] == 1
    assert report["matched_files"][str(places["eval"] / "dev_set_old.csv")] == 1
    assert (
        report["matched_files"][str(places["corpora"] / "olid_offensive" / "train.csv")]
        == 1
    )
    assert report["matched_files"][f"train/data/{own_files()[0].name}"] >= 1
    assert report["written_sha256"] == hashlib.sha256(written.read_bytes()).hexdigest()
    assert report["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    # counts only: no text of the file, kept or dropped, is shown
    shown = import_set.text_key(out)
    for text, _, _ in read_rows(source):
        assert import_set.text_key(text) not in shown


def test_an_existing_set_is_never_replaced(
    places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = places["eval"] / "dev_set_old.csv"
    before = old.read_bytes()
    source = write_csv(tmp_path / "helper.csv", [("a new line 7781", 0, "plain")])
    code = import_set.main(
        [str(source), "dev_set_old", "--eval-dir", str(places["eval"])]
        + ["--data-dir", str(places["corpora"])]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "already exists" in err and err.count("\n") == 1
    assert old.read_bytes() == before


@pytest.mark.parametrize("name", ["dev_set_new.csv", "../escape", "", "a/b"])
def test_a_name_that_is_not_a_plain_file_name_is_refused(
    places: dict[str, Path], tmp_path: Path, name: str, capsys
) -> None:
    source = write_csv(tmp_path / "helper.csv", [("a new line 7781", 0, "plain")])
    code = import_set.main(
        [str(source), name, "--eval-dir", str(places["eval"])]
        + ["--data-dir", str(places["corpora"])]
    )
    assert code == 2
    assert "NAME must be" in capsys.readouterr().err
    assert sorted(p.name for p in places["eval"].iterdir()) == ["dev_set_old.csv"]
    assert not (tmp_path / "escape.csv").exists()


def test_bad_input_names_the_file_and_writes_nothing(
    places: dict[str, Path], tmp_path: Path, capsys
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,2\n", encoding="utf-8")
    for source, expected in [
        (bad, "line 2: label must be 0 or 1"),
        (tmp_path / "missing.csv", "file not found"),
    ]:
        code = import_set.main(
            [str(source), "dev_set_new", "--eval-dir", str(places["eval"])]
            + ["--data-dir", str(places["corpora"])]
        )
        err = capsys.readouterr().err
        assert code == 2
        assert str(source) in err and expected in err
    only_old = write_csv(tmp_path / "old.csv", [("SEEN in an earlier set", 1, "x")])
    assert (
        import_set.main(
            [str(only_old), "dev_set_new", "--eval-dir", str(places["eval"])]
            + ["--data-dir", str(places["corpora"])]
        )
        == 2
    )
    err = capsys.readouterr().err
    # Said as what it is: each row is already in a set, not repeated in the file.
    assert "every row equals a row of a training file, a development set" in err
    assert "nothing to import" in err
    # A development set already in the folder is no new set (its own rows were left
    # out of the comparison, so it came in again under another name).
    code = import_set.main(
        [str(places["eval"] / "dev_set_old.csv"), "dev_set_copy"]
        + ["--eval-dir", str(places["eval"]), "--data-dir", str(places["corpora"])]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "already a development set" in err and err.count("\n") == 1
    assert sorted(p.name for p in places["eval"].iterdir()) == ["dev_set_old.csv"]


def test_without_corpora_the_report_says_they_were_not_compared(
    places: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delenv("CYBERSCAN_DATA_DIR", raising=False)
    monkeypatch.setattr(train_data, "DEFAULT_SHARED_DATA", tmp_path / "no-corpora")
    source = write_csv(tmp_path / "helper.csv", [("a new line 7781", 0, "plain")])
    code = import_set.main(
        [str(source), "dev_set_new", "--eval-dir", str(places["eval"])]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["compared_with"]["corpora"].startswith("none found")
    assert report["kept"] == {"0": 1, "1": 0}


def test_the_module_runs_as_a_command_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "train.import_set", str(tmp_path / "nope.csv"), "x"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert "nope.csv" in done.stderr and done.stdout == ""
