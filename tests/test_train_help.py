"""Each training CLI's ``--help`` says what its options do by default."""

from __future__ import annotations

import re

import pytest

from train import compare, evaluate, import_set, promote, train


def help_text(main, capsys) -> dict[str, str]:
    """Each option's help (whitespace collapsed) by its name."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    entries = re.split(r"\n  (?=-)", capsys.readouterr().out)
    return {e.split()[0]: " ".join(e.split()[1:]) for e in entries if e.startswith("-")}


def test_help_says_what_each_option_does_by_default(capsys) -> None:
    text = help_text(train.main, capsys)
    # --cv was "CV folds (0 or 1 to skip)", though two or more writers of own chat
    # turn any value >= 2 into leave-one-writer-out, the default run's way
    assert "each writer" in text["--cv"] and "default 3" in text["--cv"]
    assert "default 42" in text["--seed"]
    assert "models/" in text["--models-dir"]
    assert "default 0.6" in text["--target-threshold"]
    assert "train/eval/dev_set.csv" in text["--dev-set"]
    text = help_text(evaluate.main, capsys)
    assert "default: train/eval/dev_set.csv" in text["--data"]
    assert "models/CURRENT" in text["--model"]
    assert "default: none" in text["--sweep"]
    text = help_text(compare.main, capsys)
    # --corpora alone scores the corpora instead of the development sets, not "also"
    assert "instead of the development sets" in text["--corpora"]
    assert "default 2000" in text["--resamples"]
    assert "default 0" in text["--seed"]
    text = help_text(promote.main, capsys)
    assert "CURRENT" in text["--models-dir"]
    text = help_text(import_set.main, capsys)
    assert "default: train/eval" in text["--eval-dir"]
    assert "$CYBERSCAN_DATA_DIR" in text["--data-dir"]
