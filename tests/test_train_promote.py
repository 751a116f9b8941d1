"""``python -m train.promote``: what it says when models/CURRENT is absent or cannot be
written (tried in a temporary models folder, never the repository's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sklearn

from cyberscan.detector.pipeline import build_pipeline
from tests.test_model_current import (
    TEXTS,
    models,  # noqa: F401  (the fixture: v1 and v2)
)
from train import promote
from train.data import command


def test_a_folder_without_current_says_it_named_nothing(
    models: Path,  # noqa: F811
    capsys,
) -> None:
    current = models / "CURRENT"
    current.unlink()
    assert promote.main(["v9", "--models-dir", str(models)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith(f"; {current} still names nothing\n")
    assert not current.exists()
    assert promote.main(["v2", "--models-dir", str(models)]) == 0
    out = capsys.readouterr().out
    assert (
        out
        == f"{current}: nothing -> cyberscan-clf-v2; restart the server to serve it\n"
    )
    assert current.read_text() == "cyberscan-clf-v2\n"
    # Promoting the version already served checks it again and says nothing changed.
    assert promote.main(["v2", "--models-dir", str(models)]) == 0
    out = capsys.readouterr().out
    assert (
        out
        == f"{current} already names cyberscan-clf-v2 (verified again); nothing changed\n"
    )


def test_a_current_that_cannot_be_written_is_one_error_line(
    models: Path,  # noqa: F811
    capsys,
) -> None:
    current = models / "CURRENT"
    current.unlink()
    current.mkdir()  # a folder where the file should be
    assert promote.main(["v2", "--models-dir", str(models)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: cannot write {current}: ") and "Traceback" not in err
    assert err.endswith(f"; {current} still names nothing\n"), err
    assert current.is_dir() and not list(current.iterdir())
    assert [p.name for p in models.iterdir() if p.name.startswith(".CURRENT")] == []


def test_promoting_a_version_that_flagged_far_more_clean_chat_says_so_again(
    models: Path,  # noqa: F811
    capsys,
) -> None:
    """`train.train` warns when a new model flags far more of the development set's
    clean messages than the model served then; the run's output may be long gone when
    the version is served, so promoting it says so again (and how to go back). A
    version within the line is promoted with nothing more said."""
    model = build_pipeline(word_min_df=1, char_min_df=1)
    model.fit(TEXTS, np.array([1, 1, 0, 0]))
    card = {
        "sklearn_version": sklearn.__version__,
        "threshold": 0.6,
        "served_model": {
            "version": "cyberscan-clf-v1",
            "dev": {"clean_flagged": 0.0356},
        },
    }
    promote.save_sealed(model, models, {**card, "dev": {"clean_flagged": 0.7824}})
    promote.save_sealed(model, models, {**card, "dev": {"clean_flagged": 0.0756}})
    current = models / "CURRENT"
    assert promote.main(["v3", "--models-dir", str(models)]) == 0
    out, err = capsys.readouterr()
    assert (
        out
        == f"{current}: cyberscan-clf-v1 -> cyberscan-clf-v3; restart the server to serve it\n"
    )
    report = models / "cyberscan-clf-v3-report" / "index.html"
    assert err == (
        "warning: when it was trained, cyberscan-clf-v3 flagged 78.2% of the "
        "development set's clean messages, cyberscan-clf-v1 (served then) 3.6%: look "
        f"at its report, {report}, before the server restarts with it; "
        f"`{command('train.promote cyberscan-clf-v1')}` goes back\n"
    )
    assert current.read_text() == "cyberscan-clf-v3\n"
    assert promote.main(["v4", "--models-dir", str(models)]) == 0
    out, err = capsys.readouterr()
    assert "cyberscan-clf-v3 -> cyberscan-clf-v4" in out and err == ""
