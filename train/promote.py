"""Make a trained version the served model: ``python -m train.promote vN``.

The server never switches model silently: it serves the version ``models/CURRENT``
names (unless ``CLASSIFIER_PATH`` overrides it), and only this command changes that
file, after the artifact passes the same verification the server does at start-up
(sha256 against its card, scikit-learn version, a pipeline the scorer understands).
Restart the server to serve the new version.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from config import CURRENT_FILE, MODELS_DIR, ConfigError, model_version_name
from cyberscan.detector.artifact import ArtifactError
from cyberscan.detector.classifier import Detector


def promote(version: str, models_dir: Path = MODELS_DIR) -> str:
    """Verify ``version`` and write its name to ``models_dir/CURRENT``; return the name."""
    name = model_version_name(version)
    Detector.from_path(models_dir / f"{name}.joblib")
    fd, tmp = tempfile.mkstemp(dir=models_dir, prefix=".CURRENT.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(name + "\n")
    os.replace(tmp, models_dir / CURRENT_FILE)
    return name


def main(argv: Sequence[str] | None = None) -> int:
    """Run the promote CLI; return the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m train.promote",
        description="Serve a trained model version (writes models/CURRENT).",
    )
    parser.add_argument("version", help="vN or cyberscan-clf-vN")
    parser.add_argument("--models-dir", default=str(MODELS_DIR))
    args = parser.parse_args(argv)
    models_dir = Path(args.models_dir)
    current = models_dir / CURRENT_FILE
    before = current.read_text("utf-8").strip() if current.is_file() else None
    try:
        name = promote(args.version, models_dir)
    except (ArtifactError, ConfigError) as exc:
        print(f"error: {exc}; models/CURRENT still names {before}", file=sys.stderr)
        return 2
    print(f"models/CURRENT: {before} -> {name}; restart the server to serve it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
