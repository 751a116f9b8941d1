"""Reading labelled CSV files and finding the training corpora.

Every data file is UTF-8 CSV with a header holding ``text`` and ``label`` (0/1) and
optionally ``category``.  The shared corpora live outside the repository (see
``python -m train.fetch_data``); the project's own chat examples are ``train/data/*.csv``
and the development set, never trained on, is ``train/eval/dev_set.csv``.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
OWN_DATA_DIR = REPO_ROOT / "train" / "data"
DEV_SET = REPO_ROOT / "train" / "eval" / "dev_set.csv"
DEFAULT_SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DATA_DIR_ENV = "CYBERSCAN_DATA_DIR"
# The folder `scripts/train` was started from; relative paths on its command line
# are resolved against it (the script itself runs in the repository).
CALLER_DIR_ENV = "CYBERSCAN_CALLER_DIR"

# The public corpora, in the order they are read.  Each is ``DIR/<name>/train.csv``.
CORPORA = (
    "cyberbullying_tweets",
    "davidson_hate_offensive",
    "olid_offensive",
    "kaggle_insults",
    "toxigen_implicit",
)


def command(arguments: str) -> str:
    """A command line for a hint: ``<python> -m <arguments>``, with the interpreter
    running now spelt so that the line runs as printed from here: ``python`` when that
    name finds this interpreter (a virtual environment is active), else its path,
    relative to the working directory when it lies under it (``.venv/bin/python``)."""
    executable = sys.executable or "python"
    found = shutil.which("python")
    if found and os.path.abspath(found) == os.path.abspath(executable):
        python = "python"
    else:
        relative = os.path.relpath(executable)
        python = executable if relative.startswith("..") else relative
    return f"{python} -m {arguments}"


def fetch_command(dest: object, only: str | None = None) -> str:
    """The command that fetches the corpora into ``dest`` (with ``only``, that one), in
    backticks, as the tools' messages print it."""
    arguments = f"train.fetch_data --dest {dest}" + (f" --only {only}" if only else "")
    return f"`{command(arguments)}`"


def fetch_hint(folder: object) -> str:
    """The end of a message about corpora that are not there."""
    return f"download the corpora with {fetch_command(folder)}"


class DataError(Exception):
    """A training/evaluation CSV is unusable; the message names the file (and line)."""


@dataclass
class LabelledData:
    """The rows of one CSV file."""

    path: Path
    sha256: str
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


def looked_at(path: Path) -> str:
    """`` (looked for /abs/path)`` for a relative path, which says where it was
    looked for; "" for an absolute one, which says it already."""
    return "" if path.is_absolute() else f" (looked for {path.resolve()})"


def from_caller(path: str) -> str:
    """A relative ``path`` made absolute against the caller's folder: ``$CALLER_DIR_ENV``
    (``scripts/train`` sets it before changing to the repository), else unchanged."""
    caller = os.environ.get(CALLER_DIR_ENV)
    if not path or not caller or Path(path).is_absolute():
        return path
    return str(Path(caller) / path)


def corpus_path(data_dir: str | Path, name: str) -> Path:
    """Return the ``train.csv`` of corpus ``name`` under ``data_dir``."""
    return Path(data_dir) / name / "train.csv"


def find_data_dir(
    given: str | None, option: str = "--data-dir"
) -> tuple[Path | None, str]:
    """Return the corpora folder and where it came from.

    ``given`` (the CLI's ``option``, named in an error) wins, then
    ``$CYBERSCAN_DATA_DIR`` (relative to the caller's folder, as ``given`` is); both
    must exist.  Otherwise ``../shared/data`` next to the repository is used when it
    exists, else None.
    """
    for value, origin in (
        (given, option),
        (from_caller(os.environ.get(DATA_DIR_ENV, "")), DATA_DIR_ENV),
    ):
        if value:
            path = Path(value)
            if path.is_file():
                raise DataError(
                    f"{path}: a file, not the corpora's folder (from {origin}); it "
                    f"holds one folder per corpus, NAME/train.csv"
                )
            if not path.is_dir():
                raise DataError(
                    f"{path}: folder not found{looked_at(path)} (from {origin}); "
                    + fetch_hint(path)
                )
            return path, origin
    if DEFAULT_SHARED_DATA.is_dir():
        return DEFAULT_SHARED_DATA, "default"
    return None, "none"


def refuse_file_on_path(folder: Path, option: str) -> None:
    """Raise ``DataError`` when ``folder``, or the nearest of its parents that exists,
    is a file: a run would stop only when it writes there, after all its work."""
    for part in (folder, *folder.parents):
        if part.exists():
            if not part.is_dir():
                raise DataError(f"{option} {folder}: {part} is a file, not a folder")
            return


def corpus_files(data_dir: Path) -> list[Path]:
    """Return every corpus file under ``data_dir``; a missing one is a ``DataError``."""
    files = [corpus_path(data_dir, name) for name in CORPORA]
    missing = [f for f in files if not f.is_file()]
    if len(missing) == 1:
        raise DataError(
            f"{missing[0]}: file not found; fetch it with "
            + fetch_command(data_dir, missing[0].parent.name)
        )
    if missing:
        raise DataError(
            f"{missing[0]}: file not found (and {len(missing) - 1} more corpus "
            f"file(s)); " + fetch_hint(data_dir)
        )
    return files


def own_files() -> list[Path]:
    """Return the project's own labelled chat files, ``train/data/*.csv``."""
    return sorted(OWN_DATA_DIR.glob("*.csv"))


def dev_sets() -> list[Path]:
    """Return every committed development set, ``train/eval/*.csv`` (``DEV_SET`` among
    them); never trained on."""
    return sorted(DEV_SET.parent.glob("*.csv"))


# A training file may share a few everyday texts with a development set ("lol ok"; the
# committed ones share at most 1%); above this share it is a development set renamed
# or re-cut, and training on it would make every figure on that set a flattering one.
MAX_DEV_SHARE = 0.1


@functools.cache
def _dev_set_texts(paths: tuple[Path, ...]) -> list[tuple[str, str, frozenset[str]]]:
    """Each development set's display name, sha256 and texts (read once a run)."""
    out = []
    for path in paths:
        dev = read_labelled_csv(path, require_both_classes=False)
        out.append((display_path(path), dev.sha256, frozenset(dev.texts)))
    return out


def refuse_dev_set(data: LabelledData) -> None:
    """Raise ``DataError`` when ``data`` is a development set (``train/eval/*.csv``):
    the same bytes, or more than ``MAX_DEV_SHARE`` of its rows' texts found in one."""
    texts = set(data.texts)
    for name, sha256, dev_texts in _dev_set_texts(tuple(dev_sets())):
        if sha256 == data.sha256:
            raise DataError(
                f"{data.path}: this is the development set {name} (same sha256); "
                "development sets are never trained on"
            )
        shared = len(texts & dev_texts)
        if shared > MAX_DEV_SHARE * len(texts):
            raise DataError(
                f"{data.path}: {shared} of its {len(texts)} texts are in the "
                f"development set {name}; development sets are never trained on"
            )


def trained_on_warning(data: LabelledData, version: str, card: dict) -> str | None:
    """A warning line when the model card lists ``data``'s file (by sha256) among the
    files its model was trained on, else None."""
    files = card.get("data") or []
    if any(isinstance(d, dict) and d.get("sha256") == data.sha256 for d in files):
        return (
            f"warning: {display_path(data.path)} is one of {version}'s training files "
            "(same sha256 in its card): its figures on these rows flatter it"
        )
    return None


def corpus_name(path: Path) -> str | None:
    """The corpus ``path`` is the file of (``DIR/NAME/train.csv``, NAME in ``CORPORA``),
    else None."""
    name = path.parent.name
    return name if path.name == "train.csv" and name in CORPORA else None


def read_labelled_csv(
    path: str | Path, *, require_both_classes: bool = True
) -> LabelledData:
    """Read a UTF-8 CSV with a header holding ``text`` and ``label`` (0/1) columns.

    Raises ``DataError`` naming the file and the (1-based, physical) line for a missing
    or empty file, missing columns, a row with the wrong number of fields, an empty
    text, a label other than 0/1, undecodable bytes, or (when required) one class only;
    for a corpus file, the message ends with the command that fetches it again.
    """
    path = Path(path)
    try:
        return _read_labelled_csv(path, require_both_classes)
    except DataError as exc:
        name = corpus_name(path)
        if name is None:
            raise
        raise DataError(
            f"{exc}; fetch it again with " + fetch_command(path.parent.parent, name)
        ) from None


def _read_labelled_csv(path: Path, require_both_classes: bool) -> LabelledData:
    """:func:`read_labelled_csv` without the advice for corpus files."""
    if not path.exists():
        raise DataError(f"{path}: file not found{looked_at(path)}")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}: file is empty (expected a header line 'text,label')")
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path}, line {line}: not valid UTF-8 ({exc.reason})"
        ) from None
    data = LabelledData(path=path, sha256=hashlib.sha256(raw).hexdigest())
    reader = csv.reader(content.splitlines(keepends=True), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise DataError(f"{path}, line 1: malformed CSV header ({exc})") from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("text", "label") if c not in names]
    if missing:
        raise DataError(
            f"{path}, line 1: header lacks the column(s) {', '.join(missing)} "
            f"(found: {', '.join(header) or 'nothing'}); expected 'text,label'"
        )
    text_i, label_i = names.index("text"), names.index("label")
    cat_i = names.index("category") if "category" in names else None
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(
                f"{path}, line {reader.line_num}: malformed CSV ({exc})"
            ) from None
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(
                f"{path}, line {start}: expected {len(header)} fields like the header, "
                f"got {len(row)}"
            )
        text = row[text_i]
        label = row[label_i].strip()
        if not text.strip():
            raise DataError(f"{path}, line {start}: text is empty")
        if label not in ("0", "1"):
            raise DataError(
                f"{path}, line {start}: label must be 0 or 1, got {label!r}"
            )
        data.texts.append(text)
        data.labels.append(int(label))
        data.categories.append(row[cat_i] if cat_i is not None else "")
    if not data.texts:
        raise DataError(f"{path}: no data rows after the header")
    if require_both_classes and len(set(data.labels)) < 2:
        only = data.labels[0]
        raise DataError(
            f"{path}: every row has label {only}; a training file needs both 0 and 1 rows"
        )
    return data


def display_path(path: Path) -> str:
    """Return ``path`` relative to the repository (or ``../shared/``, the corpora's
    default folder beside it) when possible, else as given: a file elsewhere beside
    the repository (a clone in /tmp, a file in /tmp) keeps its own path."""
    resolved = path.resolve()
    shared = (REPO_ROOT.parent / "shared").resolve()
    for base, prefix in ((REPO_ROOT, ""), (shared, "../shared/")):
        if resolved.is_relative_to(base):
            return prefix + str(resolved.relative_to(base))
    return str(path)


def run_cli(main: Callable[[], int]) -> None:
    """Exit with `main()`'s code; when the reader of stdout went away (`… | head`),
    stop quietly with status 1, as Python's documentation advises, rather than with
    a BrokenPipeError traceback (and a second one at exit, flushing stdout)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)
