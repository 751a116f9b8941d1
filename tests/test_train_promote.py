"""``python -m train.promote``: what it says when models/CURRENT is absent or cannot be
written (tried in a temporary models folder, never the repository's)."""

from __future__ import annotations

from pathlib import Path

from tests.test_model_current import models  # noqa: F401  (the fixture: v1 and v2)
from train import promote


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
