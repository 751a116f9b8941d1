"""models/CURRENT names the served model; only train.promote changes it, after verifying."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sklearn

from config import MODELS_DIR, TestingConfig, current_classifier
from cyberscan.detector.artifact import (
    existing_versions,
    load_artifact,
    save_artifact,
    version_name,
)
from cyberscan.detector.pipeline import build_pipeline
from tests.helpers import write_corpora
from train import evaluate, promote, train
from train.data import REPO_ROOT, own_files

TEXTS = [
    "you stupid idiot",
    "go away loser",
    "see you at lunch",
    "thanks for the notes",
]


@pytest.fixture
def models(tmp_path: Path) -> Path:
    """A models folder with two tiny verified versions, v1 served."""
    for _ in range(2):
        model = build_pipeline(word_min_df=1, char_min_df=1)
        model.fit(TEXTS, np.array([1, 1, 0, 0]))
        save_artifact(
            model, tmp_path, {"sklearn_version": sklearn.__version__, "threshold": 0.6}
        )
    (tmp_path / "CURRENT").write_text("cyberscan-clf-v1\n")
    return tmp_path


def test_promote_switches_current_after_verifying(models: Path, capsys) -> None:
    assert current_classifier(models) == str(models / "cyberscan-clf-v1.joblib")
    assert promote.main(["v2", "--models-dir", str(models)]) == 0
    assert (models / "CURRENT").read_text() == "cyberscan-clf-v2\n"
    assert current_classifier(models) == str(models / "cyberscan-clf-v2.joblib")
    assert "cyberscan-clf-v1 -> cyberscan-clf-v2" in capsys.readouterr().out


@pytest.mark.parametrize("damage", ["corrupt", "missing", "not_a_version"])
def test_promote_refuses_what_fails_verification(
    models: Path, damage: str, capsys
) -> None:
    target = "v2"
    if damage == "corrupt":
        path = models / "cyberscan-clf-v2.joblib"
        path.write_bytes(path.read_bytes() + b"\0")
    elif damage == "missing":
        target = "v7"
    else:
        target = "latest"
    assert promote.main([target, "--models-dir", str(models)]) == 2
    err = capsys.readouterr().err
    assert "still names cyberscan-clf-v1" in err and "Traceback" not in err
    assert (models / "CURRENT").read_text() == "cyberscan-clf-v1\n"


def _copy(models: Path, source: str, target: str) -> None:
    for ext in ("joblib", "json"):
        (models / f"{target}.{ext}").write_bytes(
            (models / f"{source}.{ext}").read_bytes()
        )


def _refused(models: Path, version: str, capsys, message: str) -> None:
    assert promote.main([version, "--models-dir", str(models)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err and ".;" not in err, err
    assert (models / "CURRENT").read_text() == "cyberscan-clf-v1\n"


def test_promote_refuses_a_model_copied_under_another_number(
    models: Path, capsys
) -> None:
    _copy(models, "cyberscan-clf-v2", "cyberscan-clf-v45")
    _refused(models, "v45", capsys, "cyberscan-clf-v45's card names cyberscan-clf-v2")


def test_promote_refuses_a_threshold_edited_in_an_older_card(
    models: Path, capsys
) -> None:
    path = models / "cyberscan-clf-v2.json"
    card = json.loads(path.read_text())
    # v25's record: raw 0.58 moved by the intercept shift to 0.6
    card["threshold_choice"] = {"raw_threshold": 0.58, "intercept_shift": 0.082692}
    path.write_text(json.dumps(card))
    assert promote.main(["v2", "--models-dir", str(models)]) == 0
    card["threshold"] = 0.4
    path.write_text(json.dumps(card))
    (models / "CURRENT").write_text("cyberscan-clf-v1\n")
    capsys.readouterr()
    _refused(
        models, "v2", capsys, "says threshold 0.4 but its model was fitted for 0.6"
    )


@pytest.mark.parametrize("edit", ["threshold", "dev", "copied"])
def test_promote_refuses_a_card_edited_after_training(
    models: Path, edit: str, capsys
) -> None:
    """train.train writes the version and the card's digest into the artifact."""
    model = build_pipeline(word_min_df=1, char_min_df=1)
    model.fit(TEXTS, np.array([1, 1, 0, 0]))
    card = {
        "sklearn_version": sklearn.__version__,
        "threshold": 0.6,
        "dev": {"f1": 0.5},
    }
    promote.save_sealed(model, models, card)
    assert promote.main(["v3", "--models-dir", str(models)]) == 0
    (models / "CURRENT").write_text("cyberscan-clf-v1\n")
    capsys.readouterr()
    if edit == "copied":
        # card and artifact copied, the card's names edited to match the new number
        _copy(models, "cyberscan-clf-v3", "cyberscan-clf-v9")
        path = models / "cyberscan-clf-v9.json"
        text = path.read_text().replace("cyberscan-clf-v3", "cyberscan-clf-v9")
        path.write_text(text)
        _refused(models, "v9", capsys, "was written as cyberscan-clf-v3")
        return
    path = models / "cyberscan-clf-v3.json"
    card = json.loads(path.read_text())
    if edit == "threshold":
        card["threshold"] = 0.4
    else:
        card["dev"]["f1"] = 0.9
    path.write_text(json.dumps(card))
    _refused(models, "v3", capsys, "was edited after training")


def test_evaluate_and_training_use_the_model_classifier_path_serves(
    models: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """CLASSIFIER_PATH overrides models/CURRENT for the server, and so for the CLIs."""
    served = models / "cyberscan-clf-v2.joblib"
    monkeypatch.setenv("CLASSIFIER_PATH", str(served))
    data = models / "rows.csv"
    data.write_text(
        "text,label\n" + "".join(f"{t},{i < 2:d}\n" for i, t in enumerate(TEXTS))
    )
    assert evaluate.main(["--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "cyberscan-clf-v2"
    assert train.served_detector(train.Progress(1)).version == "cyberscan-clf-v2"


def test_current_rule_without_a_current_file(tmp_path: Path) -> None:
    assert current_classifier(tmp_path) == ""
    (tmp_path / "CURRENT").write_text("garbage")
    assert current_classifier(tmp_path) == ""


def test_health_shows_the_version_current_names(client) -> None:
    served = (MODELS_DIR / "CURRENT").read_text().strip()
    assert TestingConfig.CLASSIFIER_PATH == str(MODELS_DIR / f"{served}.joblib")
    body = client.get("/api/health").get_json()
    assert body["model"]["version"] == served


def test_committed_card_records_every_data_file_with_sha256() -> None:
    path = Path(current_classifier())
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["data"] and all(len(d["sha256"]) == 64 for d in card["data"])
    assert path.stat().st_size <= 10_000_000


def _classes(pipeline) -> list[tuple[str, type]]:
    """Each step's and each feature block's name and class."""
    steps = [(name, type(step)) for name, step in pipeline.steps]
    blocks = pipeline.named_steps["features"].transformer_list
    return steps + [(name, type(block)) for name, block in blocks]


def committed_versions() -> list[int]:
    """The model versions committed to the repository (those of ``models/`` whose
    artifact git tracks), or, outside a git checkout, every one in ``models/``."""
    found = subprocess.run(
        ["git", "ls-files", "models"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    versions = existing_versions(MODELS_DIR)
    if found.returncode != 0:
        return versions
    tracked = {Path(line).name for line in found.stdout.splitlines()}
    return [v for v in versions if f"{version_name(v)}.joblib" in tracked]


def test_the_readme_names_the_version_a_training_run_from_a_fresh_clone_writes() -> (
    None
):
    """The README's "Train your own model" commands evaluate and promote the version a
    run writes on a fresh clone: the next one after every committed artifact (a run of
    your own since then wrote that one, and the next writes the next)."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Train your own model", 1)[1].split("\n## ", 1)[0]
    version = committed_versions()[-1] + 1
    assert f"--model models/{version_name(version)}.joblib" in section
    assert f"train.promote v{version} " in section
    assert f"the next free one, v{version} on a fresh clone" in section


def test_a_default_training_run_follows_the_served_recipe(tmp_path: Path) -> None:
    """`scripts/train` with no arguments trains what the served model was trained with
    (the README's promise): the same settings, files and weights, split and
    operating-point rule; a change to a default that forgets the card fails here."""
    card = json.loads(Path(current_classifier()).with_suffix(".json").read_text())
    args = train.parse_args([])
    rule = card["threshold_choice"]["rule"]
    assert rule.startswith(
        f"lowest threshold with clean own chat flagged <= {args.max_fpr} "
    )
    # the shift raised on the final logit after the rule (0: none, and the card omits it)
    assert card["threshold_choice"].get("logit_shift", 0.0) == args.logit_shift
    assert card["split"]["seed"] == args.seed
    assert card["split"]["holdout"] == args.holdout
    assert {
        k: card["hyperparameters"][k] for k in train.TRAIN_PARAMS
    } == train.TRAIN_PARAMS
    assert card["training"].get("expert_affine", {}) == {
        name: list(ab) for name, ab in train.EXPERT_AFFINE.items()
    }
    assert card["training"].get("expert_borrow", {}) == train.EXPERT_BORROW
    # cards before v30 do not record the router's anchors: ToxiGen's alone, then
    assert (
        card["training"].get("route_anchors", {"toxigen_implicit": 0.2})
        == train.ROUTE_ANCHORS
    )
    # cards before v31 do not record the rule for bare replies: there was none
    assert card["training"].get("bare_to_chat", False) == train.BARE_TO_CHAT
    # cards before v45 do not record the rule for texts of few word terms: there was none
    assert card["training"].get("short_to_chat", 0) == train.SHORT_TO_CHAT
    # cards before v36 do not record the splitting of words run together: none
    assert (
        card["training"].get("split_joined_at_prediction", False)
        == train.SPLIT_JOINED_AT_PREDICTION
    )
    # cards before v47 do not record the reading of digits inside words: none
    assert (
        card["training"].get("read_leet_at_prediction", False)
        == train.READ_LEET_AT_PREDICTION
    )
    # The same estimators, step by step: a served model fitted before a change to the
    # classes build_pipeline makes (v23: the vocabulary cut that is the same on every
    # CPU) fails here.
    served, _ = load_artifact(current_classifier())
    assert _classes(served) == _classes(build_pipeline(**train.TRAIN_PARAMS))
    # The files and weights a default run plans (stand-in corpora: only their names
    # and weights matter here, and the real ones need not be on this machine).
    corpora = write_corpora(tmp_path / "corpora", own_files()[0])
    plan = train.data_plan(
        train.parse_args(["--data-dir", str(corpora)]), train.Progress(1)
    )
    trained = {d["name"]: d["weight"] for d in card["data"]}
    assert trained == {train.source_name(path): weight for path, weight in plan}
